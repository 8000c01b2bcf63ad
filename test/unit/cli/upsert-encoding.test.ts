import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Durability, UpsertStreamRequest } from "../../../src/gen/vecrec/v1/vecrec.js";
import { encodeUpsertRequest } from "../../../src/cli/upsert-encoding.js";
import { item, text } from "../wire/message-arbitraries.js";

const request: fc.Arbitrary<UpsertStreamRequest> = fc.record({
  indexName: text,
  items: fc.array(item, { maxLength: 5 }),
  durability: fc.option(fc.constantFrom(...Object.values(Durability).filter((v): v is number => typeof v === "number")), { nil: undefined }),
});

describe("encodeUpsertRequest (Upsert and UpsertStream requests)", () => {
  it("writes the generated encoder's bytes, for any request", () => {
    fc.assert(
      fc.property(request, (value) => {
        expect(encodeUpsertRequest(value).equals(Buffer.from(UpsertStreamRequest.encode(value).finish()))).toBe(true);
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
    expect(encodeUpsertRequest(big).equals(Buffer.from(UpsertStreamRequest.encode(big).finish()))).toBe(true);
  });
});
