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

  it("decodes float32 bytes at any offset into vectors of their own values, misaligned ones into one batch slab", () => {
    // One buffer holding the vectors back to back after a 1-byte gap: every vector but none sits at a multiple of 4.
    const values = [
      [1.5, -2, 3.25],
      [0.1, 0.2, 0.3],
      [-7, 8, 9e-20],
    ];
    const whole = Buffer.alloc(1 + values.length * 12);
    values.flat().forEach((v, i) => whole.writeFloatLE(v, 1 + i * 4));
    const aligned = Buffer.from(new Float32Array([4, 5, 6]).buffer);
    const items = [
      ...values.map((_, n) => ({ id: `m${n}`, vector: { encoding: { $case: "float32Le" as const, value: whole.subarray(1 + n * 12, 13 + n * 12) } }, fields: {} })),
      { id: "aligned", vector: { encoding: { $case: "float32Le" as const, value: aligned } }, fields: {} },
      { id: "listed", vector: { encoding: { $case: "float32Values" as const, value: { values: [7, 8] } } }, fields: {} },
    ];
    const decoded = decodeItems(items).map((input) => input.vector as Float32Array);
    decoded.slice(0, 3).forEach((vector, n) => expect(Array.from(vector)).toEqual(values[n]!.map((v) => Math.fround(v))));
    expect(Array.from(decoded[3]!)).toEqual([4, 5, 6]);
    expect(Array.from(decoded[4]!)).toEqual([7, 8]);
    // The misaligned ones share one slab, each a view of its own three values.
    expect(decoded[0]!.buffer).toBe(decoded[2]!.buffer);
    expect(decoded[0]!.length).toBe(3);
    decoded[0]![2] = 100;
    expect(decoded[1]![0]).toBeCloseTo(0.1, 6);
    // The aligned one is viewed in place.
    expect(decoded[3]!.buffer).toBe(aligned.buffer);
  });
});
