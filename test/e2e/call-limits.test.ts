/**
 * Issue 11: per-call limits over gRPC. The 2,000-clause filter bomb is refused naming the limit (typed
 * and as a string) on every backend; on the embedded engine, health answers while the costliest allowed
 * searches run.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_FILTER_CLAUSES, MAX_FILTER_WORDS } from "../../src/domain/filter/limits.js";
import { IndexRequest, SearchRequest, UpsertRequest, type Filter, type SearchResponse } from "../../src/gen/vecrec/v1/vecrec.js";
import { healthChecker } from "./health-client.js";
import { BACKENDS, collect, fieldViolations, fill, startHarness, unary, vectorBytes, type DeepPartial, type Harness } from "./harness.js";

const anyOf = (filters: Filter[]): Filter => ({ condition: { $case: "anyOf", value: { filters } } });
const tagClause = (i: number): Filter => ({ condition: { $case: "tag", value: { field: "labels", values: [`b${i}`], match: 0 } } });

describe.each(BACKENDS)("filter size limits over gRPC ($name)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "f", defaultVectorDimension: 3 }), cb));
  });
  afterAll(async () => {
    await h?.close();
  });

  async function searchError(request: DeepPartial<SearchRequest>) {
    const { messages, error } = await collect<SearchResponse>(
      h.client.search(fill(SearchRequest, { indexName: "f", k: 10, query: { $case: "vector", value: vectorBytes([1, 0, 0]) }, ...request })),
    );
    expect(messages).toEqual([]);
    if (error === undefined) throw new Error("the search succeeded");
    return error;
  }

  it("refuses 2,000 OR'ed tag clauses, typed or as a string, naming the limit", async () => {
    const typed = await searchError({ filter: anyOf(Array.from({ length: 2_000 }, (_, i) => tagClause(i))) });
    expect(typed.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(typed)).toEqual([
      { field: "filter", description: expect.stringContaining(`at most ${MAX_FILTER_CLAUSES} are allowed`) as string },
    ]);
    const text = await searchError({ filterQuery: Array.from({ length: 2_000 }, (_, i) => `@labels:{b${i}}`).join(" | ") });
    expect(text.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(text).map((v) => v.field)).toEqual(["filter_query"]);
    expect(text.details).toContain(`at most ${MAX_FILTER_CLAUSES}`);
  });
});

describe("health answers while the costliest allowed searches run (embedded)", () => {
  let h: Harness;
  const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"];
  beforeAll(async () => {
    h = await startHarness(BACKENDS[0] as (typeof BACKENDS)[number]);
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "w", defaultVectorDimension: 64 }), cb));
    for (let start = 0; start < 20_000; start += 5_000) {
      const items = Array.from({ length: 5_000 }, (_, j) => ({
        id: `i${start + j}`,
        vector: vectorBytes(Array.from({ length: 64 }, (_, d) => Math.sin(start + j + d))),
        fields: { descr: { kind: { $case: "text" as const, value: `${WORDS.join(" ")} item${start + j}` } } },
      }));
      await unary((cb) => h.client.upsert(fill(UpsertRequest, { indexName: "w", items }), cb));
    }
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("answers SERVING before the searches are done", async () => {
    const perClause = MAX_FILTER_WORDS / 2;
    const costly = anyOf(
      Array.from({ length: 2 }, (_, c): Filter => ({
        condition: { $case: "text", value: { field: "descr", words: [...WORDS.slice(0, perClause - 1), `zulu${c}`].join(" ") } },
      })).concat(Array.from({ length: MAX_FILTER_CLAUSES - 2 }, (_, i) => tagClause(i))),
    );
    let searchesDone = false;
    const searches = Promise.all(
      Array.from({ length: 4 }, () =>
        collect<SearchResponse>(
          h.client.search(
            fill(SearchRequest, { indexName: "w", k: 10, query: { $case: "vector", value: vectorBytes(Array.from({ length: 64 }, () => 1)) }, filter: costly }),
          ),
        ),
      ),
    ).then((results) => {
      searchesDone = true;
      return results;
    });
    const health = healthChecker(h.address);
    try {
      // Sent once the searches are under way (after their first slice yields).
      await new Promise((resolve) => setImmediate(resolve));
      const answer = await health.check("");
      const answeredDuringSearches = !searchesDone;
      const results = await searches;
      for (const { error } of results) expect(error).toBeUndefined();
      expect(answer).toBe("SERVING");
      expect(answeredDuringSearches).toBe(true);
    } finally {
      health.close();
    }
  });
});
