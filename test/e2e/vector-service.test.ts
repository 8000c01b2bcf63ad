import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DistanceMetric,
  IndexRequest,
  InteractionKind,
  RecommendRequest,
  SearchRequest,
  TagMatch,
  VectorAlgorithm,
  type IndexInfo,
  type SearchResponse,
} from "../../src/gen/vecrec/v1/vecrec.js";
import {
  BACKENDS,
  collect,
  cosineDistance,
  failure,
  fill,
  fromF32le,
  type DeepPartial,
  startHarness,
  unary,
  vectorBytes,
  vectorList,
  type Harness,
} from "./harness.js";

const USERS = [
  { id: "u1", vector: [0.9, 0.1, 0.0], labels: ["books", "comics"], descr: "reads novels and comics", time: 10 },
  { id: "u2", vector: [0.8, 0.3, 0.1], labels: ["books"], descr: "loves long novels", time: 20 },
  { id: "u3", vector: [0.1, 0.9, 0.2], labels: ["comics"], descr: "superhero comics fan", time: 30 },
  { id: "u4", vector: [0.2, 0.1, 0.95], labels: ["computers", "books"], descr: "programming books", time: 40 },
  { id: "u5", vector: [0.5, 0.5, 0.5], labels: ["computers"], descr: "a bit of everything", time: 50 },
] as const;

function fieldNames(info: IndexInfo | undefined): string[] {
  return (info?.fields ?? []).map((f) => `${f.name}:${f.type?.$case ?? "?"}`);
}

describe.each(BACKENDS)("VectorService end to end ($name)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => {
    await h?.close();
  });

  const search = (request: DeepPartial<SearchRequest>) => collect<SearchResponse>(h.client.search(fill(SearchRequest, request)));

  describe("the walk-through", () => {
    it("creates an index with the default schema of dimension 3", async () => {
      const response = await unary<{ created: boolean; index?: IndexInfo }>((cb) =>
        h.client.index(IndexRequest.fromPartial({ indexName: "users", defaultVectorDimension: 3 }), cb),
      );
      expect(response.created).toBe(true);
      expect(fieldNames(response.index)).toEqual(["descr:text", "labels:tag", "time:numeric", "vec:vector"]);
      const vec = response.index?.fields.find((f) => f.name === "vec")?.type;
      expect(vec?.$case === "vector" && vec.value).toMatchObject({
        dimension: 3,
        algorithm: VectorAlgorithm.VECTOR_ALGORITHM_FLAT,
        distanceMetric: DistanceMetric.DISTANCE_METRIC_COSINE,
      });
      // Idempotent with the same schema.
      const again = await unary<{ created: boolean }>((cb) =>
        h.client.index(IndexRequest.fromPartial({ indexName: "users", defaultVectorDimension: 3 }), cb),
      );
      expect(again.created).toBe(false);
    });

    it("upserts five users with interest vectors and labels", async () => {
      const response = await unary<{ upsertedCount: number }>((cb) =>
        h.client.upsert(
          {
            indexName: "users",
            items: USERS.map((u, i) => ({
              id: u.id,
              // Both encodings are accepted: alternate them.
              vector: i % 2 === 0 ? vectorBytes(u.vector) : vectorList(u.vector),
              fields: {
                labels: { kind: { $case: "tags", value: { values: [...u.labels] } } },
                descr: { kind: { $case: "text", value: u.descr } },
                time: { kind: { $case: "number", value: u.time } },
              },
            })),
          },
          cb,
        ),
      );
      expect(response.upsertedCount).toBe(5);
    });

    it("answers a labels-only query by id, with the total in the trailer", async () => {
      const { messages, trailers, error } = await search({ indexName: "users", k: 10, filterQuery: "@labels:{books}" });
      expect(error).toBeUndefined();
      expect(messages.map((m) => m.id)).toEqual(["u1", "u2", "u4"]);
      expect(messages.map((m) => m.rank)).toEqual([1, 2, 3]);
      expect(messages.every((m) => m.distance === 0)).toBe(true);
      expect(trailers?.get("vecrec-total-matches")).toEqual(["3"]);
    });

    it("answers a filtered KNN of 2: closest first, Redis distances", async () => {
      const query = [1, 0, 0];
      const { messages, error } = await search({
        indexName: "users",
        query: { $case: "vector", value: vectorBytes(query) },
        k: 2,
        filterQuery: "@labels:{books}",
        includeVectors: true,
      });
      expect(error).toBeUndefined();
      expect(messages.map((m) => m.id)).toEqual(["u1", "u2"]);
      for (const hit of messages) {
        const user = USERS.find((u) => u.id === hit.id);
        expect(hit.distance).toBeCloseTo(cosineDistance(query, user?.vector ?? []), 6);
        expect(Math.abs(hit.distance - cosineDistance(query, user?.vector ?? []))).toBeLessThan(1e-6);
        const vector = hit.vector?.encoding;
        expect(vector?.$case).toBe("float32Le");
        if (vector?.$case === "float32Le") expect(fromF32le(vector.value)).toEqual(Array.from(Float32Array.from(user?.vector ?? [])));
      }
      expect(messages[0]?.fields.labels?.kind).toEqual({ $case: "tags", value: { values: ["books", "comics"] } });
    });

    it("gives the same hits for the typed filter tree", async () => {
      const { messages } = await search({
        indexName: "users",
        query: { $case: "vector", value: vectorList([1, 0, 0]) },
        k: 2,
        filter: { condition: { $case: "tag", value: { field: "labels", values: ["books"], match: TagMatch.TAG_MATCH_ANY } } },
      });
      expect(messages.map((m) => m.id)).toEqual(["u1", "u2"]);
    });

    it("combines typed conditions: all_of, numeric bounds, none_of", async () => {
      const { messages } = await search({
        indexName: "users",
        k: 10,
        filter: {
          condition: {
            $case: "allOf",
            value: {
              filters: [
                { condition: { $case: "numeric", value: { field: "time", min: 20, minExclusive: false, maxExclusive: false } } },
                {
                  condition: {
                    $case: "noneOf",
                    value: { filters: [{ condition: { $case: "tag", value: { field: "labels", values: ["comics"], match: 0 } } }] },
                  },
                },
              ],
            },
          },
        },
      });
      expect(messages.map((m) => m.id)).toEqual(["u2", "u4", "u5"]);
    });

    it("matches every tag with TAG_MATCH_ALL and words of a text condition", async () => {
      const all = await search({
        indexName: "users",
        k: 10,
        filter: {
          condition: { $case: "tag", value: { field: "labels", values: ["books", "computers"], match: TagMatch.TAG_MATCH_ALL } },
        },
      });
      expect(all.messages.map((m) => m.id)).toEqual(["u4"]);
      const text = await search({
        indexName: "users",
        k: 10,
        filter: { condition: { $case: "text", value: { field: "descr", words: "novels" } } },
      });
      expect(text.messages.map((m) => m.id)).toEqual(["u1", "u2"]);
    });

    it("searches from a stored item, leaving the item out", async () => {
      const { messages } = await search({ indexName: "users", query: { $case: "itemId", value: "u1" }, k: 2 });
      expect(messages.map((m) => m.id)).toEqual(["u2", "u5"]);
    });

    it("pages a filter-only query with k and offset, ranks counting the offset", async () => {
      const { messages } = await search({ indexName: "users", k: 2, offset: 2 });
      expect(messages.map((m) => [m.id, m.rank])).toEqual([
        ["u3", 3],
        ["u4", 4],
      ]);
    });

    it("returns only the fields asked for", async () => {
      const { messages } = await search({ indexName: "users", k: 1, returnFields: ["labels", "descr"], omitFields: ["descr"] });
      expect(Object.keys(messages[0]?.fields ?? {})).toEqual(["labels"]);
    });
  });

  it("describes and lists indexes", async () => {
    const got = await unary<{ index?: IndexInfo }>((cb) => h.client.getIndex({ indexName: "users" }, cb));
    expect(got.index?.itemCount).toBe(5);
    expect(got.index?.indexingProgress).toBe(1);
    const listed = await unary<{ indexes: IndexInfo[] }>((cb) => h.client.listIndexes({}, cb));
    expect(listed.indexes.map((i) => i.indexName)).toContain("users");
  });

  it("reads items back with their vectors, listing missing ids", async () => {
    const response = await unary<{ items: { id: string; vector?: { encoding?: { $case: string; value: unknown } } }[]; missingIds: string[] }>(
      (cb) => h.client.getItems({ indexName: "users", ids: ["u3", "nope", "u1"], includeVectors: true }, cb),
    );
    expect(response.items.map((i) => i.id)).toEqual(["u3", "u1"]);
    expect(response.missingIds).toEqual(["nope"]);
    const encoding = response.items[0]?.vector?.encoding;
    expect(encoding?.$case).toBe("float32Le");
    expect(fromF32le(encoding?.value as Buffer)).toEqual(Array.from(Float32Array.from(USERS[2].vector)));
  });

  it("records and reads interactions, newest first, with defaults filled in", async () => {
    const recorded = await unary<{ recordedCount: number }>((cb) =>
      h.client.recordInteractions(
        {
          indexName: "users",
          interactions: [
            { userId: "u2", itemId: "book-1", kind: InteractionKind.INTERACTION_KIND_PURCHASE, occurredAt: new Date(1_000_000) },
            { userId: "u2", itemId: "book-2", kind: InteractionKind.INTERACTION_KIND_VIEW, weight: 0.5, occurredAt: new Date(2_000_000) },
            { userId: "u1", itemId: "book-1", kind: InteractionKind.INTERACTION_KIND_LIKE, occurredAt: new Date(3_000_000) },
            { userId: "u5", itemId: "book-3", kind: InteractionKind.INTERACTION_KIND_CLICK },
          ],
        },
        cb,
      ),
    );
    expect(recorded.recordedCount).toBe(4);
    const page = await unary<{ interactions: { itemId: string; kind: number; weight?: number; occurredAt?: Date }[]; totalCount: number }>(
      (cb) => h.client.getInteractions({ indexName: "users", userId: "u2", limit: 10, offset: 0 }, cb),
    );
    expect(page.totalCount).toBe(2);
    expect(page.interactions.map((i) => [i.itemId, i.kind, i.weight, i.occurredAt?.getTime()])).toEqual([
      ["book-2", InteractionKind.INTERACTION_KIND_VIEW, 0.5, 2_000_000],
      ["book-1", InteractionKind.INTERACTION_KIND_PURCHASE, 1, 1_000_000],
    ]);
    const before = Date.now();
    const u5 = await unary<{ interactions: { weight?: number; occurredAt?: Date }[] }>((cb) =>
      h.client.getInteractions({ indexName: "users", userId: "u5", limit: 0, offset: 0 }, cb),
    );
    // occurred_at defaults to the time of recording (within this test's run).
    expect(u5.interactions[0]?.weight).toBe(1);
    expect(u5.interactions[0]?.occurredAt?.getTime()).toBeLessThanOrEqual(before);
    expect(u5.interactions[0]?.occurredAt?.getTime()).toBeGreaterThan(before - 60_000);
  });

  it("recommends from neighbours and says when it found fewer than asked", async () => {
    const { messages, trailers, error } = await collect<{ itemId: string; rank: number; contributions: { neighborId: string }[] }>(
      h.client.recommend(RecommendRequest.fromPartial({ indexName: "users", user: { $case: "userId", value: "u1" }, limit: 5 })),
    );
    expect(error).toBeUndefined();
    // u1 already has book-1; its neighbours interacted with book-2 (u2) and book-3 (u5).
    expect(messages.map((m) => m.itemId).sort()).toEqual(["book-2", "book-3"]);
    expect(messages.map((m) => m.rank)).toEqual([1, 2]);
    expect(trailers?.get("vecrec-recommendations-short")).toEqual(["2/5"]);
  });

  it("updates interests and recomputes them for every item", async () => {
    const response = await unary<{ index?: IndexInfo; itemsUpdated: number }>((cb) =>
      h.client.updateInterests(
        { indexName: "users", interests: { categoryNames: ["books", "comics", "computers"], threshold: 0.4, tagField: "" } },
        cb,
      ),
    );
    expect(response.itemsUpdated).toBe(5);
    expect(response.index?.interests?.categoryNames).toEqual(["books", "comics", "computers"]);
    expect(response.index?.interests?.tagField).toBe("interests");
    const { messages } = await search({ indexName: "users", k: 10, filterQuery: "@interests:{computers}" });
    expect(messages.map((m) => m.id)).toEqual(["u4", "u5"]);
  });

  it("deletes items, then drops the index", async () => {
    const deleted = await unary<{ deletedCount: number }>((cb) => h.client.deleteItems({ indexName: "users", ids: ["u5", "ghost"] }, cb));
    expect(deleted.deletedCount).toBe(1);
    await unary((cb) => h.client.dropIndex({ indexName: "users", deleteItems: true }, cb));
    const error = await failure(unary((cb) => h.client.getIndex({ indexName: "users" }, cb)));
    expect(error.code).toBe(status.NOT_FOUND);
  });
});
