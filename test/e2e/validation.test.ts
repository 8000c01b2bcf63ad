import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  IndexRequest,
  InteractionKind,
  RecommendRequest,
  SearchRequest,
  UpsertRequest,
  type SearchResponse,
} from "../../src/gen/vecrec/v1/vecrec.js";
import {
  BACKENDS,
  collect,
  f32le,
  fill,
  type DeepPartial,
  failure,
  fieldViolations,
  startHarness,
  unary,
  vectorBytes,
  vectorList,
  violatedFields,
  type Harness,
} from "./harness.js";

describe.each(BACKENDS)("bad input is INVALID_ARGUMENT naming the field ($name)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "v", defaultVectorDimension: 3 }), cb));
    await unary((cb) =>
      h.client.upsert(UpsertRequest.fromPartial({ indexName: "v", items: [{ id: "a", vector: vectorBytes([1, 0, 0]) }] }), cb),
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  const upsertError = (items: DeepPartial<UpsertRequest>["items"], indexName = "v") =>
    failure(unary((cb) => h.client.upsert(fill(UpsertRequest, { indexName, items }), cb)));

  /** Search fails before any hit: the error of the stream. */
  async function searchError(request: DeepPartial<SearchRequest>): Promise<ServiceError> {
    const { messages, error } = await collect<SearchResponse>(h.client.search(fill(SearchRequest, { indexName: "v", ...request })));
    expect(messages).toEqual([]);
    if (!error) throw new Error("the search succeeded but was expected to fail");
    return error;
  }

  function expectInvalid(error: ServiceError, fields: string[]): void {
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error)).toEqual([...fields].sort());
  }

  it("rejects a vector of the wrong dimension", async () => {
    expectInvalid(await upsertError([{ id: "b", vector: vectorList([1, 2]) }]), ["items[0].vector"]);
    expectInvalid(await searchError({ query: { $case: "vector", value: vectorBytes([1, 2, 3, 4]) }, k: 1 }), ["vector"]);
  });

  it("rejects NaN and Infinity, naming the component", async () => {
    const nan = await upsertError([{ id: "b", vector: vectorList([1, Number.NaN, 0]) }]);
    expectInvalid(nan, ["items[0].vector"]);
    expect(fieldViolations(nan)[0]?.description).toContain("vector[1]");
    expectInvalid(await searchError({ query: { $case: "vector", value: vectorBytes([0, 0, Number.POSITIVE_INFINITY]) }, k: 1 }), [
      "vector",
    ]);
  });

  it("rejects vector bytes that are not a multiple of 4", async () => {
    const bytes = { encoding: { $case: "float32Le" as const, value: f32le([1, 0, 0]).subarray(0, 11) } };
    expectInvalid(await upsertError([{ id: "b", vector: bytes }]), ["items[0].vector.float32_le"]);
    expectInvalid(await searchError({ query: { $case: "vector", value: bytes }, k: 1 }), ["vector.float32_le"]);
  });

  it("rejects a vector whose encoding is not set", async () => {
    expectInvalid(await searchError({ query: { $case: "vector", value: {} }, k: 1 }), ["vector"]);
    expectInvalid(await upsertError([{ id: "b" }]), ["items[0].vector"]);
  });

  it("rejects empty and oversized ids", async () => {
    expectInvalid(
      await upsertError([
        { id: "", vector: vectorBytes([1, 0, 0]) },
        { id: "x".repeat(257), vector: vectorBytes([1, 0, 0]) },
        { id: "é".repeat(128), vector: vectorBytes([1, 0, 0]) },
      ]),
      ["items[0].id", "items[1].id"],
    );
    const getError = await failure(unary((cb) => h.client.getItems({ indexName: "v", ids: ["ok", ""], includeVectors: false }, cb)));
    expectInvalid(getError, ["ids[1]"]);
  });

  it("rejects k of 0 and above 10000", async () => {
    expectInvalid(await searchError({ query: { $case: "vector", value: vectorBytes([1, 0, 0]) }, k: 0 }), ["k"]);
    expectInvalid(await searchError({ query: { $case: "vector", value: vectorBytes([1, 0, 0]) }, k: 10_001 }), ["k"]);
    expectInvalid(await searchError({ k: 0 }), ["k"]);
  });

  it("rejects a negative or non-finite max_distance, and one without a query vector", async () => {
    for (const maxDistance of [-0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await searchError({ query: { $case: "vector", value: vectorBytes([1, 0, 0]) }, k: 3, maxDistance });
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(violatedFields(error)).toEqual(["max_distance"]);
    }
    const filterOnly = await searchError({ k: 3, maxDistance: 0.5 });
    expect(violatedFields(filterOnly)).toEqual(["max_distance"]);
    expect(fieldViolations(filterOnly)[0]?.description).toContain("needs a query");
  });

  it("rejects a diversity outside [0, 1] or NaN, one without a query, and one with k > 100", async () => {
    for (const diversity of [-0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await searchError({ query: { $case: "vector", value: vectorBytes([1, 0, 0]) }, k: 3, diversity });
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(violatedFields(error)).toEqual(["diversity"]);
    }
    const filterOnly = await searchError({ k: 3, diversity: 0.5 });
    expect(violatedFields(filterOnly)).toEqual(["diversity"]);
    expect(fieldViolations(filterOnly)[0]?.description).toContain("needs a query");
    const wide = await searchError({ query: { $case: "vector", value: vectorBytes([1, 0, 0]) }, k: 101, diversity: 0.5 });
    expect(violatedFields(wide)).toEqual(["diversity"]);
    expect(fieldViolations(wide)[0]?.description).toContain("k <= 100");
  });

  it("rejects an unknown field in a filter", async () => {
    const typed = await searchError({
      k: 1,
      filter: { condition: { $case: "tag", value: { field: "nope", values: ["x"], match: 0 } } },
    });
    expect(typed.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(typed).every((f) => f.startsWith("filter"))).toBe(true);
    expect(fieldViolations(typed)[0]?.description).toContain("nope");
    const text = await searchError({ k: 1, filterQuery: "@nope:{x}" });
    expect(text.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(text).every((f) => f.startsWith("filter_query"))).toBe(true);
  });

  it("rejects a malformed filter string, naming the offset", async () => {
    const error = await searchError({ k: 1, filterQuery: "@labels:{books" });
    expectInvalid(error, ["filter_query"]);
    expect(fieldViolations(error)[0]?.description).toMatch(/offset \d+/);
  });

  it("rejects a filter tree without a condition, with the path of the bad node", async () => {
    const error = await searchError({
      k: 1,
      filter: { condition: { $case: "anyOf", value: { filters: [{ condition: { $case: "tag", value: { field: "labels", values: ["a"] } } }, {}] } } },
    });
    expectInvalid(error, ["filter.any_of.filters[1]"]);
  });

  it("rejects both filter and filter_query", async () => {
    const error = await searchError({
      k: 1,
      filter: { condition: { $case: "tag", value: { field: "labels", values: ["a"] } } },
      filterQuery: "@labels:{a}",
    });
    expectInvalid(error, ["filter_query"]);
  });

  it("answers NOT_FOUND for an unknown index", async () => {
    const get = await failure(unary((cb) => h.client.getIndex({ indexName: "missing" }, cb)));
    expect(get.code).toBe(status.NOT_FOUND);
    const upsert = await upsertError([{ id: "b", vector: vectorBytes([1, 0, 0]) }], "missing");
    expect(upsert.code).toBe(status.NOT_FOUND);
    const search = await collect<SearchResponse>(h.client.search(SearchRequest.fromPartial({ indexName: "missing", k: 1 })));
    expect(search.error?.code).toBe(status.NOT_FOUND);
  });

  it("rejects empty request lists", async () => {
    expectInvalid(await upsertError([]), ["items"]);
    expectInvalid(await failure(unary((cb) => h.client.getItems({ indexName: "v", ids: [], includeVectors: false }, cb))), ["ids"]);
    expectInvalid(await failure(unary((cb) => h.client.deleteItems({ indexName: "v", ids: [] }, cb))), ["ids"]);
    expectInvalid(await failure(unary((cb) => h.client.recordInteractions({ indexName: "v", interactions: [] }, cb))), [
      "interactions",
    ]);
  });

  it("rejects an unset or unknown interaction kind", async () => {
    const error = await failure(
      unary((cb) =>
        h.client.recordInteractions(
          {
            indexName: "v",
            interactions: [
              { userId: "a", itemId: "i", kind: 0 },
              { userId: "a", itemId: "i", kind: 1 },
              { userId: "a", itemId: "i", kind: 42 as InteractionKind },
            ],
          },
          cb,
        ),
      ),
    );
    expectInvalid(error, ["interactions[0].kind", "interactions[2].kind"]);
  });

  it("keeps the status readable for 10000 bad interactions (trailers have a size limit)", async () => {
    const interactions = Array.from({ length: 10_000 }, (_, i) => ({ userId: `${"u".repeat(250)}${i}`, itemId: "", kind: 0 }));
    const error = await failure(unary((cb) => h.client.recordInteractions({ indexName: "v", interactions }, cb)));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    const violations = fieldViolations(error);
    expect(violations.length).toBeLessThanOrEqual(101);
    expect(violations[0]?.field).toBe("interactions[0].kind");
    expect(violations.at(-1)?.field).toBe("interactions");
    expect(violations.at(-1)?.description).toMatch(/^\d+ more violation\(s\) not listed$/);
    expect(error.details.length).toBeLessThanOrEqual(513);
  });

  it("counts every violation left out of a large bad upsert", async () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ id: `b${i}`, vector: vectorList([1, 2]) }));
    const violations = fieldViolations(await upsertError(items));
    // 500 bad vectors: the ones listed plus the count of the others make 500, whoever cut the list.
    const listed = violations.length - 1;
    expect(listed).toBeGreaterThan(10);
    expect(violations.slice(0, listed).map((v) => v.field)).toEqual(items.slice(0, listed).map((_, i) => `items[${i}].vector`));
    expect(violations.at(-1)).toEqual({ field: "items", description: `${500 - listed} more violation(s) not listed` });
  });

  it("rejects a Recommend request without a user", async () => {
    const { error } = await collect(h.client.recommend(RecommendRequest.fromPartial({ indexName: "v" })));
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error as ServiceError)).toEqual(["user"]);
  });

  it("rejects a bad schema with the path of the field", async () => {
    const error = await failure(
      unary((cb) =>
        h.client.index(
          IndexRequest.fromPartial({
            indexName: "bad",
            fields: [
              { name: "vec", type: { $case: "vector", value: { dimension: 3 } } },
              { name: "weird" },
            ],
          }),
          cb,
        ),
      ),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error).some((f) => f.startsWith("fields[1]"))).toBe(true);
  });

  it("answers ALREADY_EXISTS for another schema under the same name", async () => {
    const error = await failure(unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "v", defaultVectorDimension: 4 }), cb)));
    expect(error.code).toBe(status.ALREADY_EXISTS);
  });
});
