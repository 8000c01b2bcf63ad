import { describe, expect, it } from "vitest";
import { RecommendResponse, SearchResponse, VectorServiceService } from "../../../src/gen/vecrec/v1/vecrec.js";
import { withReusedWriters } from "../../../src/grpc/response-encoding.js";

function hit(i: number, text: string): SearchResponse {
  return SearchResponse.fromPartial({
    id: `item:${i}`,
    distance: i / 7,
    rank: i + 1,
    fields: { descr: { kind: { $case: "text", value: text } }, time: { kind: { $case: "number", value: i } } },
    vector: { encoding: { $case: "float32Le", value: Buffer.from(new Float32Array([i, -i, 0.5]).buffer) } },
  });
}

describe("streamed responses through reused writers", () => {
  const reused = withReusedWriters(VectorServiceService);

  it("gives the generated serializer's bytes for every message, large and small in turn, and never changes a Buffer already handed out", () => {
    const messages = Array.from({ length: 50 }, (_, i) => hit(i, "x".repeat(i % 2 === 0 ? 5000 : 3)));
    const handedOut = messages.map((m) => reused.search.responseSerialize(m));
    const expected = messages.map((m) => VectorServiceService.search.responseSerialize(m));
    expect(handedOut).toEqual(expected);
    for (const [i, bytes] of handedOut.entries()) expect(SearchResponse.decode(bytes).fields.descr?.kind?.value).toBe(messages[i]?.fields.descr?.kind?.value);
  });

  it("covers every streamed response and leaves unary ones and request codecs as generated", () => {
    const recommended = RecommendResponse.fromPartial({ itemId: "b1", score: 2.5, rank: 1 });
    expect(reused.recommend.responseSerialize(recommended)).toEqual(VectorServiceService.recommend.responseSerialize(recommended));
    for (const key of ["search", "recommend", "exportItems", "upsertStream"] as const) {
      expect(reused[key].responseSerialize).not.toBe(VectorServiceService[key].responseSerialize);
      expect(reused[key].requestDeserialize).toBe(VectorServiceService[key].requestDeserialize);
    }
    expect(reused.upsert.responseSerialize).toBe(VectorServiceService.upsert.responseSerialize);
    expect(reused.getIndex.responseSerialize).toBe(VectorServiceService.getIndex.responseSerialize);
  });
});
