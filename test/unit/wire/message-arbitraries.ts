/** fast-check arbitraries of the messages the one-buffer encoders write (src/wire/message-writer.ts). */
import fc from "fast-check";
import type { FieldValue, Item, SearchResponse } from "../../../src/gen/vecrec/v1/vecrec.js";

/** Strings of every kind: ASCII, any UTF-16 unit (lone surrogates too), multi-unit graphemes. */
export const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 8 }), fc.string({ unit: "grapheme", maxLength: 6 }));

export const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.constant({ kind: undefined }),
  text.map((value) => ({ kind: { $case: "text" as const, value } })),
  fc.array(text, { maxLength: 4 }).map((values) => ({ kind: { $case: "tags" as const, value: { values } } })),
  fc.double().map((value) => ({ kind: { $case: "number" as const, value } })),
);

export const vector: fc.Arbitrary<Item["vector"]> = fc.oneof(
  fc.constant(undefined),
  fc.constant({ encoding: undefined }),
  fc.uint8Array({ maxLength: 600 }).map((bytes) => ({ encoding: { $case: "float32Le" as const, value: Buffer.from(bytes) } })),
  fc.array(fc.float(), { maxLength: 40 }).map((values) => ({ encoding: { $case: "float32Values" as const, value: { values } } })),
);

export const fields = fc.dictionary(text, fieldValue, { maxKeys: 4 });

export const item: fc.Arbitrary<Item> = fc.record({ id: text, vector, fields });

export const searchResponse: fc.Arbitrary<SearchResponse> = fc.record(
  {
    id: text,
    distance: fc.oneof(fc.constant(0), fc.constant(-0), fc.double()),
    rank: fc.oneof(fc.constant(0), fc.nat(), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
    fields,
    vector,
    mmrScore: fc.double(),
  },
  { requiredKeys: ["id", "distance", "rank", "fields"] },
);
