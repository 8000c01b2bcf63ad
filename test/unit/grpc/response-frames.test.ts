import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExportItemsResponse, SearchResponse } from "../../../src/gen/vecrec/v1/vecrec.js";
import { exportItemsResponseFrames, searchResponseFrames } from "../../../src/grpc/response-frames.js";
import { item, searchResponse } from "../wire/message-arbitraries.js";

/** What grpc-js sends for these messages one by one: each generated encoding behind its frame header. */
function framedOneByOne<T>(messages: readonly T[], encode: (message: T) => Uint8Array): Buffer {
  return Buffer.concat(
    messages.map((message) => {
      const body = encode(message);
      const header = Buffer.alloc(5);
      header.writeUInt32BE(body.byteLength, 1);
      return Buffer.concat([header, body]);
    }),
  );
}

describe("response frames", () => {
  it("frame Search hits as the generated encoder and grpc-js do, message by message", () => {
    fc.assert(
      fc.property(fc.array(searchResponse, { maxLength: 12 }), (messages) => {
        const expected = framedOneByOne(messages, (m) => SearchResponse.encode(m).finish());
        expect(searchResponseFrames(messages).equals(expected)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("frame exported items alike (an item or none per message)", () => {
    const message = fc.option(item, { nil: undefined }).map((value): ExportItemsResponse => ({ item: value }));
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), (messages) => {
        const expected = framedOneByOne(messages, (m) => ExportItemsResponse.encode(m).finish());
        expect(exportItemsResponseFrames(messages).equals(expected)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("write large messages (multi-byte lengths, 1536-dim vectors, long text) and read back with the generated decoder", () => {
    const messages: SearchResponse[] = Array.from({ length: 20 }, (_, i) => ({
      id: `item-${i}-${"é".repeat(i * 20)}`,
      distance: i / 7,
      rank: i + 1,
      fields: { descr: { kind: { $case: "text", value: "word ".repeat(100 * i) } }, labels: { kind: { $case: "tags", value: { values: ["a", "b"] } } }, time: { kind: { $case: "number", value: i } } },
      vector: { encoding: { $case: "float32Le", value: Buffer.from(Float32Array.from({ length: 1536 }, (_, j) => i + j / 3).buffer) } },
    }));
    const bytes = searchResponseFrames(messages);
    const decoded: SearchResponse[] = [];
    for (let at = 0; at < bytes.length; ) {
      expect(bytes[at]).toBe(0);
      const length = bytes.readUInt32BE(at + 1);
      decoded.push(SearchResponse.decode(bytes.subarray(at + 5, at + 5 + length)));
      at += 5 + length;
    }
    expect(decoded).toEqual(messages);
  });
});
