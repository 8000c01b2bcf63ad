import { describe, expect, it } from "vitest";
import { Undecodable } from "../../../src/domain/violations.js";
import { decodeOptionalVector, decodeRequiredVector, encodeVector } from "../../../src/grpc/vector-mapping.js";

describe("vector mapping", () => {
  it("decodes both vector encodings and rejects a partial float", () => {
    const bytes = encodeVector(Float32Array.from([0.5, -2]));
    expect(Array.from(decodeRequiredVector(bytes, "vector") as Float32Array)).toEqual([0.5, -2]);
    expect(
      Array.from(decodeRequiredVector({ encoding: { $case: "float32Values", value: { values: [1, 2] } } }, "v") as Float32Array),
    ).toEqual([1, 2]);
    const partial = decodeRequiredVector({ encoding: { $case: "float32Le", value: Buffer.alloc(7) } }, "items[1].vector");
    const unset = decodeRequiredVector(undefined, "vector");
    expect(partial).toBeInstanceOf(Undecodable);
    expect(unset).toBeInstanceOf(Undecodable);
    expect([...(partial as Undecodable).violations, ...(unset as Undecodable).violations].map((v) => v.field)).toEqual([
      "items[1].vector.float32_le",
      "vector",
    ]);
  });

  it("leaves an optional vector that is not set undefined", () => {
    expect(decodeOptionalVector(undefined, "items[0].vector")).toBeUndefined();
    expect(decodeOptionalVector({ encoding: undefined }, "items[0].vector")).toBeUndefined();
  });
});
