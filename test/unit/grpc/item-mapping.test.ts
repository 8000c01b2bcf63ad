import { describe, expect, it } from "vitest";
import { Undecodable } from "../../../src/domain/violations.js";
import { decodeFieldValues, decodeItems } from "../../../src/grpc/item-mapping.js";

describe("item mapping", () => {
  it("names an unset field value", () => {
    const fields = decodeFieldValues({ a: { kind: { $case: "number", value: 2 } }, b: {} }, "items[4].fields");
    expect(fields.a).toEqual({ type: "numeric", value: 2 });
    expect(fields.b).toBeInstanceOf(Undecodable);
    expect((fields.b as Undecodable).violations.map((v) => v.field)).toEqual(["items[4].fields.b"]);
  });

  it("leaves a missing vector to the use case and names bad vector bytes by item", () => {
    const [missing, bad] = decodeItems([
      { id: "a", vector: undefined, fields: {} },
      { id: "b", vector: { encoding: { $case: "float32Le", value: Buffer.alloc(7) } }, fields: {} },
    ]);
    expect(missing?.vector).toBeUndefined();
    expect(bad?.vector).toBeInstanceOf(Undecodable);
    expect((bad?.vector as Undecodable).violations.map((v) => v.field)).toEqual(["items[1].vector.float32_le"]);
  });
});
