import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Undecodable } from "../../../src/domain/violations.js";
import { Durability, UpsertRequest, UpsertStreamRequest, type FieldValue, type Item } from "../../../src/gen/vecrec/v1/vecrec.js";
import { decodeItems } from "../../../src/grpc/item-mapping.js";
import { decodeClean, upsertRequestDeserializer, type DecodedUpsertRequest } from "../../../src/grpc/upsert-decoding.js";

const deserialize = upsertRequestDeserializer((bytes) => UpsertRequest.decode(bytes));

/** What the generated decoder and decodeItems give: the answer every request had before. */
function generic(bytes: Uint8Array): DecodedUpsertRequest {
  const request = UpsertRequest.decode(bytes);
  return { indexName: request.indexName, items: decodeItems(request.items), durability: request.durability };
}

/** A decoded request as plain data (vectors as number arrays, Undecodables as their violations). */
function plain(request: DecodedUpsertRequest): unknown {
  return {
    indexName: request.indexName,
    durability: request.durability,
    items: request.items.map((item) => ({
      id: item.id,
      vector: item.vector instanceof Float32Array ? Array.from(item.vector) : item.vector instanceof Undecodable ? item.vector.violations : item.vector,
      fields: Object.entries(item.fields).map(([name, value]) => [name, value instanceof Undecodable ? value.violations : value]),
    })),
  };
}

/** The result of `decode`, or the message of what it threw. */
function outcome(decode: () => DecodedUpsertRequest): unknown {
  try {
    return plain(decode());
  } catch (error) {
    return { threw: error instanceof Error ? error.message : String(error) };
  }
}

const name = fc.string({ maxLength: 12 });
const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  name.map((value) => ({ kind: { $case: "text" as const, value } })),
  fc.array(name, { maxLength: 4 }).map((values) => ({ kind: { $case: "tags" as const, value: { values } } })),
  fc.double().map((value) => ({ kind: { $case: "number" as const, value } })),
);
const vectorBytes = fc.array(fc.float(), { maxLength: 8 }).map((values) => Buffer.from(Float32Array.from(values).buffer));
const item: fc.Arbitrary<Item> = fc.record({
  id: name,
  vector: fc.option(
    vectorBytes.map((value) => ({ encoding: { $case: "float32Le" as const, value } })),
    { nil: undefined },
  ),
  fields: fc.dictionary(fc.constantFrom("genre", "title", "year", "constructor", "", "toString"), fieldValue, { maxKeys: 4 }),
});
const request = fc.record({
  indexName: name,
  items: fc.array(item, { maxLength: 6 }),
  durability: fc.option(fc.constantFrom(Durability.DURABILITY_UNSPECIFIED, Durability.DURABILITY_NONE, Durability.DURABILITY_REPLICAS), { nil: undefined }),
});

/** `bytes` at byte offset `shift` of a larger buffer (vectors then sit at every alignment). */
function shifted(bytes: Uint8Array, shift: number): Buffer {
  const out = Buffer.alloc(bytes.length + shift);
  out.set(bytes, shift);
  return out.subarray(shift);
}

describe("Upsert requests decoded straight to item inputs", () => {
  it("gives what the generated decoder and decodeItems give, for any request of the clean shape, at any alignment", () => {
    fc.assert(
      fc.property(request, fc.integer({ min: 0, max: 3 }), (value, shift) => {
        const bytes = shifted(UpsertRequest.encode(value).finish(), shift);
        expect(decodeClean(bytes)).toBeDefined(); // the fast path took it
        expect(plain(deserialize(bytes))).toEqual(plain(generic(bytes)));
      }),
      { numRuns: 300 },
    );
  });

  it("gives the same answer or the same failure for damaged bytes (truncated, one byte changed)", () => {
    fc.assert(
      fc.property(request, fc.nat(), fc.nat(255), fc.boolean(), (value, at, byte, truncate) => {
        const whole = UpsertRequest.encode(value).finish();
        if (whole.length === 0) return;
        const bytes = Buffer.from(whole);
        if (truncate) {
          const cut = bytes.subarray(0, at % bytes.length);
          expect(outcome(() => deserialize(cut))).toEqual(outcome(() => generic(cut)));
        } else {
          bytes[at % bytes.length] = byte;
          expect(outcome(() => deserialize(bytes))).toEqual(outcome(() => generic(bytes)));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("leaves the odd shapes to the generated decoder: __proto__ keys, float lists, unknown fields, empty oneofs", () => {
    const odd: UpsertRequest[] = [
      { indexName: "i", items: [{ id: "a", vector: { encoding: { $case: "float32Values", value: { values: [1, 2] } } }, fields: {} }], durability: undefined },
      { indexName: "i", items: [{ id: "a", vector: { encoding: undefined }, fields: {} }], durability: undefined },
      { indexName: "i", items: [{ id: "a", vector: undefined, fields: { genre: { kind: undefined } } }], durability: undefined },
      { indexName: "i", items: [{ id: "a", vector: { encoding: { $case: "float32Le", value: Buffer.from([1, 2, 3]) } }, fields: {} }], durability: undefined },
    ];
    for (const value of odd) {
      const bytes = UpsertRequest.encode(value).finish();
      expect(decodeClean(bytes)).toBeUndefined();
      expect(plain(deserialize(bytes))).toEqual(plain(generic(bytes)));
    }
    // A map entry keyed __proto__ (the generated decoder would set the prototype; decodeItems reports it).
    const entry = Buffer.concat([Buffer.from([0x0a, 9]), Buffer.from("__proto__"), Buffer.from([0x12, 3, 0x0a, 1, 0x78])]);
    const itemBytes = Buffer.concat([Buffer.from([0x0a, 1, 0x61, 0x1a, entry.length]), entry]);
    const protoKey = Buffer.concat([Buffer.from([0x12, itemBytes.length]), itemBytes]);
    expect(decodeClean(protoKey)).toBeUndefined();
    const decoded = deserialize(protoKey);
    expect(decoded.items[0]?.fields.__proto__).toBeInstanceOf(Undecodable);
    expect(plain(decoded)).toEqual(plain(generic(protoKey)));
    // An unknown field (number 9, varint) in the request.
    const unknown = Buffer.concat([Buffer.from(UpsertRequest.encode({ indexName: "i", items: [], durability: undefined }).finish()), Buffer.from([0x48, 1])]);
    expect(decodeClean(unknown)).toBeUndefined();
    expect(plain(deserialize(unknown))).toEqual(plain(generic(unknown)));
  });

  it("reads UpsertStreamRequest alike (the same field numbers)", () => {
    fc.assert(
      fc.property(request, (value) => {
        const bytes = UpsertStreamRequest.encode(value).finish();
        const stream = UpsertStreamRequest.decode(bytes);
        expect(plain(deserialize(bytes))).toEqual(plain({ indexName: stream.indexName, items: decodeItems(stream.items), durability: stream.durability }));
      }),
      { numRuns: 100 },
    );
  });

  it("views aligned vectors in the request's bytes and copies misaligned ones into one slab per message", () => {
    const items = [0, 1, 2].map((i) => ({ id: `x${i}`, vector: { encoding: { $case: "float32Le" as const, value: Buffer.from(Float32Array.from([i, i + 0.5]).buffer) } }, fields: {} }));
    let views = 0;
    let copies = 0;
    for (const shift of [0, 1, 2, 3]) {
      const bytes = shifted(UpsertRequest.encode({ indexName: "i", items, durability: undefined }).finish(), shift);
      const vectors = deserialize(bytes).items.map((input) => input.vector as Float32Array);
      expect(vectors.map((v) => Array.from(v))).toEqual([[0, 0.5], [1, 1.5], [2, 2.5]]);
      const inRequest = vectors.filter((v) => v.buffer === bytes.buffer);
      for (const v of inRequest) expect(v.byteOffset % 4).toBe(0);
      const copied = vectors.filter((v) => v.buffer !== bytes.buffer);
      expect(new Set(copied.map((v) => v.buffer)).size).toBeLessThanOrEqual(1);
      views += inRequest.length;
      copies += copied.length;
    }
    expect(views).toBeGreaterThan(0);
    expect(copies).toBeGreaterThan(0);
  });
});
