/**
 * Edge cases found by calling the service the way a demanding client would: requests at the limits of
 * the contract, and state left behind by earlier calls. Each runs over the real wire on every backend.
 */
import { credentials, makeGenericClientConstructor, status, type ServiceError } from "@grpc/grpc-js";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { distance, formatRedisDouble } from "../../src/domain/vector.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DropIndexRequest,
  GetItemsRequest,
  GetInteractionsRequest,
  IndexRequest,
  InteractionKind,
  RecordInteractionsRequest,
  RecordInteractionsResponse,
  type GetInteractionsResponse,
  RecommendRequest,
  SearchRequest,
  UpsertRequest,
  VectorServiceClient,
  type Filter,
  type GetItemsResponse,
  type RecommendResponse,
  type SearchResponse,
} from "../../src/gen/vecrec/v1/vecrec.js";
import {
  BACKENDS,
  collect,
  failure,
  fieldViolations,
  fill,
  startHarness,
  unary,
  vectorBytes,
  vectorList,
  type DeepPartial,
  type Harness,
} from "./harness.js";

/** A typed filter nested `levels` deep (all_of around all_of ... around one tag condition). */
function nestedFilter(levels: number): DeepPartial<Filter> {
  let filter: DeepPartial<Filter> = { condition: { $case: "tag", value: { field: "labels", values: ["a"] } } };
  for (let i = 1; i < levels; i++) filter = { condition: { $case: "allOf", value: { filters: [filter] } } };
  return filter;
}

describe.each(BACKENDS)("edge cases over the wire ($name)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "e", defaultVectorDimension: 3 }), cb));
    await unary((cb) =>
      h.client.upsert(fill(UpsertRequest, { indexName: "e", items: [{ id: "a", vector: vectorList([1, 0, 0]) }] }), cb),
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it("rejects a typed filter nested deeper than the decoder allows as INVALID_ARGUMENT naming the filter", async () => {
    // 60 levels of all_of are 120 nested messages: past the protobuf decoder's recursion limit (100).
    const search = await collect<SearchResponse>(
      h.client.search(fill(SearchRequest, { indexName: "e", k: 1, filter: nestedFilter(60) })),
    );
    expect(search.messages).toEqual([]);
    expect(search.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(search.error!).map((v) => v.field)).toEqual(["filter"]);

    const recommend = await collect<RecommendResponse>(
      h.client.recommend(
        fill(RecommendRequest, { indexName: "e", user: { $case: "userId", value: "a" }, neighborFilter: nestedFilter(60) }),
      ),
    );
    expect(recommend.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(recommend.error!).map((v) => v.field)).toEqual(["neighbor_filter"]);
  });

  it("rejects request bytes that are not a valid message as INVALID_ARGUMENT, not INTERNAL", async () => {
    const Raw = makeGenericClientConstructor(
      {
        getIndex: {
          path: "/vecrec.v1.VectorService/GetIndex",
          requestStream: false,
          responseStream: false,
          requestSerialize: (bytes: Buffer) => bytes,
          requestDeserialize: (bytes: Buffer) => bytes,
          responseSerialize: (bytes: Buffer) => bytes,
          responseDeserialize: (bytes: Buffer) => bytes,
        },
      },
      "Raw",
    );
    const raw = new Raw(h.address, credentials.createInsecure());
    try {
      // Field 1 (index_name) announces 5 bytes and carries 1.
      const error = await new Promise<ServiceError | null>((resolve) => {
        raw.makeUnaryRequest(
          "/vecrec.v1.VectorService/GetIndex",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0x0a, 0x05, 0x61]),
          (e: ServiceError | null) => resolve(e),
        );
      });
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldViolations(error!).map((v) => v.field)).toEqual(["request"]);
    } finally {
      raw.close();
    }
  });

  it("answers GetItems over the client's 4 MiB default with a prompt RESOURCE_EXHAUSTED, as documented", async () => {
    // 40 items x 32768 dimensions x 4 bytes = 5.2 MB of vectors: over grpc-js's default receive limit.
    const dimension = 32_768;
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "wide", defaultVectorDimension: dimension }), cb));
    const ids = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const items = ids.map((id, i) => ({ id, vector: vectorBytes(Array.from({ length: dimension }, (_, j) => ((i + j) % 5) + 1)) }));
    await unary((cb) => h.client.upsert(fill(UpsertRequest, { indexName: "wide", items }), cb));

    const request = fill(GetItemsRequest, { indexName: "wide", ids, includeVectors: true });
    const error = await failure(unary((cb) => h.client.getItems(request, cb)));
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error.details).toMatch(/larger than max/);

    // The documented ways out: fewer ids per call, or a client that accepts larger messages.
    const few = await unary<GetItemsResponse>((cb) => h.client.getItems({ ...request, ids: ids.slice(0, 20) }, cb));
    expect(few.items.map((item) => item.id)).toEqual(ids.slice(0, 20));
    const roomy = new VectorServiceClient(h.address, credentials.createInsecure(), {
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
    });
    try {
      const all = await unary<GetItemsResponse>((cb) => roomy.getItems(request, cb));
      expect(all.items.map((item) => item.id)).toEqual(ids);
      const first = all.items[0]?.vector?.encoding;
      expect(first?.$case === "float32Le" && first.value.length).toBe(dimension * 4);
    } finally {
      roomy.close();
    }
    // Search streams one hit per message: the same vectors come back through the default client.
    const search = await collect<SearchResponse>(
      h.client.search(fill(SearchRequest, { indexName: "wide", k: 40, includeVectors: true })),
    );
    expect(search.error).toBeUndefined();
    expect(search.messages.map((m) => m.id).sort()).toEqual([...ids].sort());
  });

  it("names every bad field of a RecordInteractions batch at once, not only the kinds", async () => {
    const error = await failure(
      unary((cb) =>
        h.client.recordInteractions(
          fill(RecordInteractionsRequest, {
            indexName: "e",
            interactions: [
              { userId: "a", itemId: "p", kind: 0, weight: -1 },
              { userId: "", itemId: "p", kind: 9 as InteractionKind },
              { userId: "a", itemId: "x".repeat(257), kind: 1, weight: Number.NaN },
            ],
          }),
          cb,
        ),
      ),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(error).map((v) => v.field).sort()).toEqual([
      "interactions[0].kind",
      "interactions[0].weight",
      "interactions[1].kind",
      "interactions[1].user_id",
      "interactions[2].item_id",
      "interactions[2].weight",
    ]);
  });

  it("names every bad field of an Upsert batch at once, undecodable vector bytes included", async () => {
    const error = await failure(
      unary((cb) =>
        h.client.upsert(
          fill(UpsertRequest, {
            indexName: "e",
            items: [
              { id: "ok", vector: { encoding: { $case: "float32Le", value: Buffer.alloc(11) } } },
              { id: "x".repeat(257), vector: vectorList([1, 0, 0]) },
              { id: "c", vector: vectorList([1, 0]), fields: { labels: {}, nope: { kind: { $case: "number", value: 1 } } } },
            ],
          }),
          cb,
        ),
      ),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(error).map((v) => v.field).sort()).toEqual([
      "items[0].vector.float32_le",
      "items[1].id",
      "items[2].fields.labels",
      "items[2].fields.nope",
      "items[2].vector",
    ]);
    // Bad input on an unknown index is still INVALID_ARGUMENT, as before.
    const unknown = await failure(
      unary((cb) =>
        h.client.upsert(
          fill(UpsertRequest, { indexName: "nope", items: [{ id: "a", vector: { encoding: { $case: "float32Le", value: Buffer.alloc(3) } } }] }),
          cb,
        ),
      ),
    );
    expect(unknown.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(unknown).map((v) => v.field)).toEqual(["items[0].vector.float32_le"]);
  });

  it("keeps interaction times within the Timestamp range, so every recorded interaction can be read back", async () => {
    const record = (occurredAt: Date) =>
      unary((cb) =>
        h.client.recordInteractions(
          fill(RecordInteractionsRequest, { indexName: "e", interactions: [{ userId: "t", itemId: "p", kind: 1, occurredAt }] }),
          cb,
        ),
      );
    for (const ms of [253_402_300_801_000, -62_135_596_800_001, 1e15]) {
      const error = await failure(record(new Date(ms)));
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldViolations(error).map((v) => v.field)).toEqual(["interactions[0].occurred_at"]);
    }
    await record(new Date(-62_135_596_800_000));

    // 9999-12-31T23:59:59.999999999Z, as a JSON client sends it: the last nanosecond of the range.
    const timestamp = new BinaryWriter().uint32(8).int64(253_402_300_799).uint32(16).int32(999_999_999).finish();
    const interaction = new BinaryWriter()
      .uint32(10).string("t")
      .uint32(18).string("q")
      .uint32(24).int32(InteractionKind.INTERACTION_KIND_VIEW)
      .uint32(42).bytes(timestamp)
      .finish();
    const bytes = new BinaryWriter().uint32(10).string("e").uint32(18).bytes(interaction).finish();
    const recorded = await unary<RecordInteractionsResponse>((cb) =>
      h.client.recordInteractions(RecordInteractionsRequest.decode(bytes), cb),
    );
    expect(recorded.recordedCount).toBe(1);

    const page = await unary<GetInteractionsResponse>((cb) =>
      h.client.getInteractions(fill(GetInteractionsRequest, { indexName: "e", userId: "t" }), cb),
    );
    expect(page.interactions.map((i) => i.occurredAt?.toISOString())).toEqual([
      "9999-12-31T23:59:59.999Z",
      "0001-01-01T00:00:00.000Z",
    ]);
  });

  it("names every bad field of a Search at once, undecodable vector and unparsable filter included", async () => {
    const searchError = async (request: DeepPartial<SearchRequest>) => {
      const { messages, error } = await collect<SearchResponse>(h.client.search(fill(SearchRequest, request)));
      expect(messages).toEqual([]);
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      return fieldViolations(error!).map((v) => v.field).sort();
    };
    const badBytes = { encoding: { $case: "float32Le" as const, value: Buffer.alloc(11) } };
    expect(
      await searchError({ indexName: "e", query: { $case: "vector", value: badBytes }, k: 0, offset: 1, returnFields: ["nope"] }),
    ).toEqual(["k", "offset", "return_fields[0]", "vector.float32_le"]);
    expect(await searchError({ indexName: "e", k: 0, filterQuery: "@labels:{", omitFields: ["vec"] })).toEqual([
      "filter_query",
      "k",
      "omit_fields[0]",
    ]);
    expect(await searchError({ indexName: "nope", query: { $case: "vector", value: badBytes }, k: 1 })).toEqual([
      "vector.float32_le",
    ]);
  });

  it("names every bad field of a Recommend at once, each weight at its own index", async () => {
    const recommendError = async (request: DeepPartial<RecommendRequest>) => {
      const { messages, error } = await collect<RecommendResponse>(h.client.recommend(fill(RecommendRequest, request)));
      expect(messages).toEqual([]);
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      return fieldViolations(error!).map((v) => v.field).sort();
    };
    const user = { $case: "userId" as const, value: "a" };
    expect(
      await recommendError({
        indexName: "e",
        user,
        interactionWeights: [
          { kind: InteractionKind.INTERACTION_KIND_UNSPECIFIED, weight: 1 },
          { kind: InteractionKind.INTERACTION_KIND_VIEW, weight: -1 },
          { kind: InteractionKind.INTERACTION_KIND_CLICK, weight: -2 },
          { kind: InteractionKind.INTERACTION_KIND_CLICK, weight: 1 },
        ],
      }),
    ).toEqual([
      "interaction_weights[0].kind",
      "interaction_weights[1].weight",
      "interaction_weights[2].weight",
      "interaction_weights[3].kind",
    ]);
    expect(await recommendError({ indexName: "e", user, limit: 5000, neighborFilterQuery: "@nope:{x}" })).toEqual([
      "limit",
      "neighbor_filter_query",
    ]);
    expect(
      await recommendError({
        indexName: "e",
        user: { $case: "interestVector", value: { encoding: { $case: "float32Le", value: Buffer.alloc(5) } } },
        neighborCount: 5000,
        neighborFilterQuery: "((",
      }),
    ).toEqual(["interest_vector.float32_le", "neighbor_count", "neighbor_filter_query"]);
  });

  it("names every bad field of an Index request at once, unknown enum values included", async () => {
    const error = await failure(
      unary((cb) =>
        h.client.index(
          fill(IndexRequest, {
            indexName: "9bad",
            fields: [
              { name: "v", type: { $case: "vector", value: { dimension: 0, distanceMetric: 9 as never } } },
              { name: "t", type: { $case: "tag", value: { separator: ";;" } } },
            ],
          }),
          cb,
        ),
      ),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(error).map((v) => v.field).sort()).toEqual([
      "fields[0].vector.dimension",
      "fields[0].vector.distance_metric",
      "fields[1].tag.separator",
      "index_name",
    ]);
  });

  it("keeps one interaction per (user, item, kind, time): the one recorded last, with its weight", async () => {
    const at = new Date(1_700_000_000_000);
    const record = (weights: number[]) =>
      unary<RecordInteractionsResponse>((cb) =>
        h.client.recordInteractions(
          fill(RecordInteractionsRequest, {
            indexName: "e",
            interactions: weights.map((weight) => ({ userId: "dup", itemId: "p", kind: 1, weight, occurredAt: at })),
          }),
          cb,
        ),
      );
    const weightsNow = async () =>
      (
        await unary<GetInteractionsResponse>((cb) =>
          h.client.getInteractions(fill(GetInteractionsRequest, { indexName: "e", userId: "dup" }), cb),
        )
      ).interactions.map((i) => i.weight);
    expect((await record([1, 5])).recordedCount).toBe(2);
    expect(await weightsNow()).toEqual([5]);
    await record([7]);
    expect(await weightsNow()).toEqual([7]);
  });

  it("reports distances as Redis prints them (%.12g), on every backend", async () => {
    // Redis prints the float32 distance with %.12g: 1 - cos([1,0,0], [0.6,0.7,0]) is 0.3492085933685303 in
    // float32 and reaches clients as 0.349208593369.
    const query = [0.6, 0.7, 0];
    const { messages, error } = await collect<SearchResponse>(
      h.client.search(fill(SearchRequest, { indexName: "e", k: 1, query: { $case: "vector", value: vectorList(query) } })),
    );
    expect(error).toBeUndefined();
    const exact = distance("COSINE", Float32Array.of(1, 0, 0), Float32Array.from(query));
    const printed = Number(formatRedisDouble(exact));
    expect(printed).not.toBe(exact);
    expect(messages.map((m) => [m.id, m.distance])).toEqual([["a", printed]]);
  });

  it("answers a query by an item left with another dimension by a drop and re-create, never INTERNAL", async () => {
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "d", defaultVectorDimension: 3 }), cb));
    await unary((cb) =>
      h.client.upsert(fill(UpsertRequest, { indexName: "d", items: [{ id: "old", vector: vectorList([1, 2, 3]) }] }), cb),
    );
    await unary((cb) => h.client.dropIndex(fill(DropIndexRequest, { indexName: "d", deleteItems: false }), cb));
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "d", defaultVectorDimension: 2 }), cb));
    const kept = await unary<{ items: unknown[] }>((cb) =>
      h.client.getItems(fill(GetItemsRequest, { indexName: "d", ids: ["old"] }), cb),
    );
    // The item is still stored (Redis keeps the hash) or gone (a backend may drop what no longer fits).
    const expected = kept.items.length === 1 ? status.FAILED_PRECONDITION : status.NOT_FOUND;

    const search = await collect<SearchResponse>(
      h.client.search(fill(SearchRequest, { indexName: "d", k: 3, query: { $case: "itemId", value: "old" } })),
    );
    expect(search.error?.code).toBe(expected);
    const recommend = await collect<RecommendResponse>(
      h.client.recommend(fill(RecommendRequest, { indexName: "d", user: { $case: "userId", value: "old" } })),
    );
    expect(recommend.error?.code).toBe(expected);
  });
});
