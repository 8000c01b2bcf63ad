/**
 * FLOAT64, FLOAT16 and BFLOAT16 vector fields over gRPC on every backend: the type shown by GetIndex,
 * vectors read back as rounded, distances of the type, and the values a type cannot hold rejected with
 * the field named.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DistanceMetric,
  GetIndexRequest,
  type GetIndexResponse,
  type GetItemsResponse,
  GetItemsRequest,
  IndexRequest,
  SearchRequest,
  UpsertRequest,
  VectorElementType,
  type SearchResponse,
} from "../../src/gen/vecrec/v1/vecrec.js";
import { BACKENDS, collect, failure, fieldViolations, fill, startHarness, unary, vectorBytes, vectorList, violatedFields, type Harness } from "./harness.js";

const TYPES = [
  { type: VectorElementType.VECTOR_ELEMENT_TYPE_FLOAT16, name: "f16", third: 0.333251953125 },
  { type: VectorElementType.VECTOR_ELEMENT_TYPE_BFLOAT16, name: "bf16", third: 0.333984375 },
  { type: VectorElementType.VECTOR_ELEMENT_TYPE_FLOAT64, name: "f64", third: Math.fround(1 / 3) },
];

describe.each(BACKENDS)("element types over gRPC ($name)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
    for (const { type, name } of TYPES) {
      for (const metric of [DistanceMetric.DISTANCE_METRIC_L2, DistanceMetric.DISTANCE_METRIC_COSINE]) {
        await unary((cb) =>
          h.client.index(
            IndexRequest.fromPartial({
              indexName: `${name}_${metric}`,
              fields: [{ name: "vec", type: { $case: "vector", value: { dimension: 3, distanceMetric: metric, elementType: type } } }],
            }),
            cb,
          ),
        );
      }
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  for (const { type, name, third } of TYPES) {
    it(`stores ${name} vectors rounded, shows the type and ranks by its distance`, async () => {
      const index = `${name}_${DistanceMetric.DISTANCE_METRIC_L2}`;
      const info = await unary<GetIndexResponse>((cb) => h.client.getIndex(GetIndexRequest.fromPartial({ indexName: index }), cb));
      const vec = info.index?.fields.find((f) => f.name === "vec")?.type;
      expect(vec?.$case === "vector" && vec.value.elementType).toBe(type);
      await unary((cb) =>
        h.client.upsert(
          UpsertRequest.fromPartial({ indexName: index, items: [{ id: "a", vector: vectorList([1 / 3, 0, 0]) }, { id: "b", vector: vectorList([1, 1, 1]) }] }),
          cb,
        ),
      );
      const got = await unary<GetItemsResponse>((cb) => h.client.getItems(GetItemsRequest.fromPartial({ indexName: index, ids: ["a"], includeVectors: true }), cb));
      const v = got.items[0]?.vector?.encoding;
      const bytes = v?.$case === "float32Le" ? v.value : Buffer.alloc(0);
      expect(new Float32Array(new Uint8Array(bytes).buffer)[0]).toBe(third);
      const { messages } = await collect<SearchResponse>(
        h.client.search(fill(SearchRequest, { indexName: index, query: { $case: "vector", value: vectorBytes([0, 0, 0]) }, k: 2, maxDistance: 0.5 })),
      );
      expect(messages.map((m) => m.id)).toEqual(["a"]);
      expect(messages[0]?.distance).toBeCloseTo(third * third, 6);
    });
  }

  it("rejects a FLOAT16 value beyond 65504 and a zero vector under COSINE, naming the field", async () => {
    const overflow = await failure(
      unary((cb) =>
        h.client.upsert(
          UpsertRequest.fromPartial({ indexName: `f16_${DistanceMetric.DISTANCE_METRIC_L2}`, items: [{ id: "x", vector: vectorList([1, 70000, 0]) }] }),
          cb,
        ),
      ),
    );
    expect(overflow.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(overflow)).toEqual(["items[0].vector"]);
    expect(fieldViolations(overflow)[0]?.description).toContain("65504");
    // 70000 fits BFLOAT16.
    await unary((cb) =>
      h.client.upsert(
        UpsertRequest.fromPartial({ indexName: `bf16_${DistanceMetric.DISTANCE_METRIC_L2}`, items: [{ id: "x", vector: vectorList([1, 70000, 0]) }] }),
        cb,
      ),
    );
    // 1e-9 rounds to 0 in FLOAT16: the vector has no direction.
    const zero = await failure(
      unary((cb) =>
        h.client.upsert(
          UpsertRequest.fromPartial({ indexName: `f16_${DistanceMetric.DISTANCE_METRIC_COSINE}`, items: [{ id: "z", vector: vectorList([1e-9, 0, 0]) }] }),
          cb,
        ),
      ),
    );
    expect(violatedFields(zero)).toEqual(["items[0].vector"]);
    const { error } = await collect<SearchResponse>(
      h.client.search(fill(SearchRequest, { indexName: `f64_${DistanceMetric.DISTANCE_METRIC_COSINE}`, query: { $case: "vector", value: vectorBytes([0, 0, 0]) }, k: 2 })),
    );
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error && violatedFields(error)).toEqual(["vector"]);
  });
});
