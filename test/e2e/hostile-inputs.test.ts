/**
 * Issue 11: hostile inputs that got through. Each is refused at the door with INVALID_ARGUMENT naming
 * the field (or, for data stored before the door refused it, FAILED_PRECONDITION saying why), on every
 * backend.
 */
import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DistanceMetric,
  IndexRequest,
  InteractionKind,
  RecommendRequest,
  RecordInteractionsRequest,
  SearchRequest,
  UpdateItemsRequest,
  UpsertRequest,
  type FieldValue,
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
  violatedFields,
  type DeepPartial,
  type Harness,
} from "./harness.js";

const PURCHASE = InteractionKind.INTERACTION_KIND_PURCHASE;

describe.each(BACKENDS)("hostile inputs are refused at the door ($name)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "h", defaultVectorDimension: 3 }), cb));
    await unary((cb) =>
      h.client.index(
        fill(IndexRequest, {
          indexName: "hl2",
          fields: [{ name: "vec", type: { $case: "vector", value: { dimension: 3, distanceMetric: DistanceMetric.DISTANCE_METRIC_L2 } } }],
        }),
        cb,
      ),
    );
    await unary((cb) =>
      h.client.upsert(
        fill(UpsertRequest, {
          indexName: "h",
          items: [
            { id: "u1", vector: vectorBytes([1, 0.1, 0]), fields: { descr: { kind: { $case: "text", value: "alpha beta" } } } },
            { id: "u2", vector: vectorBytes([1, 0.2, 0]) },
            { id: "u3", vector: vectorBytes([1, 0.3, 0]) },
          ],
        }),
        cb,
      ),
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  async function streamError<T>(call: Parameters<typeof collect<T>>[0]): Promise<ServiceError> {
    const { messages, error } = await collect<T>(call);
    expect(messages).toEqual([]);
    if (error === undefined) throw new Error("the call succeeded but was expected to fail");
    return error;
  }
  const searchError = (request: DeepPartial<SearchRequest>) =>
    streamError<SearchResponse>(h.client.search(fill(SearchRequest, { indexName: "h", k: 2, ...request })));
  const recommendError = (request: DeepPartial<RecommendRequest>) =>
    streamError<RecommendResponse>(h.client.recommend(fill(RecommendRequest, { indexName: "h", ...request })));

  function expectInvalid(error: ServiceError, fields: string[], description: RegExp): void {
    expect(error.code, error.details).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error)).toEqual(fields);
    expect(fieldViolations(error).map((v) => v.description).join("; ")).toMatch(description);
  }

  it("refuses a prefix in a typed text condition, as the filter string does", async () => {
    const typed = await searchError({ filter: { condition: { $case: "text", value: { field: "descr", words: "alph*" } } } });
    expectInvalid(typed, ["filter"], /"alph\*" is a prefix query/);
    const text = await searchError({ filterQuery: "@descr:(alph*)" });
    expectInvalid(text, ["filter_query"], /prefix/);
    for (const words of ["*", "a*b", "alpha *"]) {
      const error = await searchError({ filter: { condition: { $case: "text", value: { field: "descr", words } } } });
      expectInvalid(error, ["filter"], /not a single word|prefix/);
    }
  });

  it("refuses an item field named __proto__ instead of acknowledging and dropping it", async () => {
    const value: FieldValue = { kind: { $case: "text", value: "x" } };
    // A computed key makes an own "__proto__" entry, which the encoder sends as a map entry.
    const request = fill(UpsertRequest, { indexName: "h", items: [{ id: "p", vector: vectorBytes([1, 0, 0]) }] });
    (request.items[0] as { fields: object }).fields = { ["__proto__"]: value };
    const error = await failure(unary((cb) => h.client.upsert(request, cb)));
    expectInvalid(error, ["items[0].fields.__proto__"], /not a valid field name/);
    const update = fill(UpdateItemsRequest, { indexName: "h", updates: [{ id: "u1" }] });
    (update.updates[0] as { setFields: object }).setFields = { ["__proto__"]: value };
    const updateError = await failure(unary((cb) => h.client.updateItems(update, cb)));
    expect(violatedFields(updateError)).toContain("updates[0].set_fields.__proto__");
    // Other names of Object.prototype members are unknown fields like any other.
    const constructor = fill(UpsertRequest, {
      indexName: "h",
      items: [{ id: "p", vector: vectorBytes([1, 0, 0]), fields: { constructor: { kind: { $case: "text" as const, value: "x" } } } }],
    });
    expectInvalid(await failure(unary((cb) => h.client.upsert(constructor, cb))), ["items[0].fields.constructor"], /unknown field/);
  });

  it("bounds interaction weights so that scores stay finite and shares add up to 1", async () => {
    const record = (weight: number) =>
      unary((cb) =>
        h.client.recordInteractions(
          fill(RecordInteractionsRequest, { indexName: "h", interactions: [{ userId: "u2", itemId: "book", kind: PURCHASE, weight }] }),
          cb,
        ),
      );
    expectInvalid(await failure(record(1e308)), ["interactions[0].weight"], /at most 1000000/);
    expectInvalid(
      await recommendError({ user: { $case: "userId", value: "u1" }, interactionWeights: [{ kind: PURCHASE, weight: 1e308 }] }),
      ["interaction_weights[0].weight"],
      /at most 1000000/,
    );
    // The largest weights allowed, on two neighbours: a finite score shared between them.
    await record(1e6);
    await unary((cb) =>
      h.client.recordInteractions(
        fill(RecordInteractionsRequest, { indexName: "h", interactions: [{ userId: "u3", itemId: "book", kind: PURCHASE, weight: 1e6 }] }),
        cb,
      ),
    );
    const { messages, error } = await collect<RecommendResponse>(
      h.client.recommend(
        fill(RecommendRequest, { indexName: "h", user: { $case: "userId", value: "u1" }, interactionWeights: [{ kind: PURCHASE, weight: 1e6 }] }),
      ),
    );
    expect(error).toBeUndefined();
    const [book] = messages;
    expect(book?.itemId).toBe("book");
    expect(Number.isFinite(book?.score)).toBe(true);
    const shares = (book?.contributions ?? []).map((c) => c.scoreShare);
    expect(shares).toHaveLength(2);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it("refuses zero and non-normalisable vectors under COSINE, saying why, wherever a vector is sent", async () => {
    const cases: [number[], RegExp][] = [
      [[0, 0, 0], /zero vector/],
      [[3e38, 3e38, 0], /too large/],
      [[1e-40, 0, 0], /smallest normal/],
    ];
    for (const [values, why] of cases) {
      const upsert = await failure(
        unary((cb) => h.client.upsert(fill(UpsertRequest, { indexName: "h", items: [{ id: "z", vector: vectorBytes(values) }] }), cb)),
      );
      expectInvalid(upsert, ["items[0].vector"], why);
      expectInvalid(await searchError({ query: { $case: "vector", value: vectorBytes(values) } }), ["vector"], why);
      expectInvalid(await recommendError({ user: { $case: "interestVector", value: vectorBytes(values) } }), ["interest_vector"], why);
      const update = await failure(
        unary((cb) => h.client.updateItems(fill(UpdateItemsRequest, { indexName: "h", updates: [{ id: "u1", vector: vectorBytes(values) }] }), cb)),
      );
      expectInvalid(update, ["updates[0].vector"], why);
    }
  });

  it("keeps zero vectors under L2, where their distances are defined", async () => {
    const upserted = await unary<{ upsertedCount: number }>((cb) =>
      h.client.upsert(fill(UpsertRequest, { indexName: "hl2", items: [{ id: "origin", vector: vectorBytes([0, 0, 0]) }] }), cb),
    );
    expect(upserted.upsertedCount).toBe(1);
    const { messages, error } = await collect<SearchResponse>(
      h.client.search(fill(SearchRequest, { indexName: "hl2", k: 1, query: { $case: "vector", value: vectorBytes([0, 0, 0]) } })),
    );
    expect(error).toBeUndefined();
    expect(messages.map((m) => m.id)).toEqual(["origin"]);
  });

  it("answers FAILED_PRECONDITION for a stored zero vector under COSINE (stored before the door refused it)", async () => {
    await h.store.upsert("h", [{ id: "zero", vector: new Float32Array(3), fields: {} }]);
    const around = await searchError({ query: { $case: "itemId", value: "zero" } });
    expect(around.code).toBe(status.FAILED_PRECONDITION);
    expect(around.details).toMatch(/the vector of item "zero" is a zero vector/);
    const recommend = await recommendError({ user: { $case: "userId", value: "zero" } });
    expect(recommend.code).toBe(status.FAILED_PRECONDITION);
    expect(recommend.details).toMatch(/the vector of user "zero" is a zero vector/);
  });
});
