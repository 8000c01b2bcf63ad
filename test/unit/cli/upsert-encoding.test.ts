import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Durability, UpsertStreamRequest, type FieldValue, type Item } from "../../../src/gen/vecrec/v1/vecrec.js";
import { encodeUpsertStreamRequest } from "../../../src/cli/upsert-encoding.js";

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 8 }), fc.string({ unit: "grapheme", maxLength: 6 }));
const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.constant({ kind: undefined }),
  text.map((value) => ({ kind: { $case: "text" as const, value } })),
  fc.array(text, { maxLength: 4 }).map((values) => ({ kind: { $case: "tags" as const, value: { values } } })),
  fc.double().map((value) => ({ kind: { $case: "number" as const, value } })),
);
const vector: fc.Arbitrary<Item["vector"]> = fc.oneof(
  fc.constant(undefined),
  fc.constant({ encoding: undefined }),
  fc.uint8Array({ maxLength: 600 }).map((bytes) => ({ encoding: { $case: "float32Le" as const, value: Buffer.from(bytes) } })),
  fc.array(fc.float(), { maxLength: 4 }).map((values) => ({ encoding: { $case: "float32Values" as const, value: { values } } })),
);
const item: fc.Arbitrary<Item> = fc.record({ id: text, vector, fields: fc.dictionary(text, fieldValue, { maxKeys: 4 }) });
const request: fc.Arbitrary<UpsertStreamRequest> = fc.record({
  indexName: text,
  items: fc.array(item, { maxLength: 5 }),
  durability: fc.option(fc.constantFrom(...Object.values(Durability).filter((v): v is number => typeof v === "number")), { nil: undefined }),
});

describe("encodeUpsertStreamRequest", () => {
  it("writes the generated encoder's bytes, for any request", () => {
    fc.assert(
      fc.property(request, (value) => {
        expect(encodeUpsertStreamRequest(value).equals(Buffer.from(UpsertStreamRequest.encode(value).finish()))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("writes long vectors, long strings and large lengths (multi-byte length prefixes) alike", () => {
    const big: UpsertStreamRequest = {
      indexName: "i".repeat(300),
      items: Array.from({ length: 40 }, (_, i) => ({
        id: `item:${i}:${"é".repeat(i)}`,
        vector: { encoding: { $case: "float32Le", value: Buffer.from(Float32Array.from({ length: 1536 }, (_, j) => i + j / 7).buffer) } },
        fields: { descr: { kind: { $case: "text", value: "word ".repeat(50 * i) } }, labels: { kind: { $case: "tags", value: { values: ["a", "b"] } } } },
      })),
      durability: Durability.DURABILITY_LOCAL,
    };
    expect(encodeUpsertStreamRequest(big).equals(Buffer.from(UpsertStreamRequest.encode(big).finish()))).toBe(true);
  });
});
