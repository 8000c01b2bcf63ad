import { beforeAll, describe, expect, it } from "vitest";
import {
  CancelledError,
  IndexNotFoundError,
  ItemNotFoundError,
} from "../../../src/domain/errors.js";
import { searchDraft } from "../../support/search-draft.js";
import type { FilterNode } from "../../../src/domain/filter/filter.js";
import { createIndexAdmin } from "../../../src/usecases/index-admin.js";
import { createItemService } from "../../../src/usecases/items.js";
import { createSearchService, type SearchDraft } from "../../../src/usecases/search.js";
import { createEmbeddedStore } from "../../../src/store/embedded/embedded-store.js";
import type { SearchQuery, VectorStore } from "../../../src/store/vector-store.js";
import { num, tags, text } from "../../support/field-values.js";
import { violatedFields } from "../../support/violations.js";

const v = (...values: number[]): Float32Array => Float32Array.from(values);

const command = (overrides: Partial<SearchDraft>): SearchDraft => searchDraft("things", overrides);

describe("search service", () => {
  const store = createEmbeddedStore();
  const service = createSearchService(store);

  beforeAll(async () => {
    const admin = createIndexAdmin(store);
    const items = createItemService(store);
    await admin.createIndex({ name: "things", fields: [], defaultVectorDimension: 2 });
    await admin.createIndex({
      name: "hnsw",
      fields: [{ name: "v", type: "vector", dimension: 2, algorithm: "HNSW", metric: "L2" }],
      defaultVectorDimension: 0,
    });
    await items.upsert("things", [
      { id: "a", vector: v(1, 0), fields: { descr: text("red apple"), labels: tags("fruit"), time: num(1) } },
      { id: "b", vector: v(0.9, 0.1), fields: { descr: text("green pear"), labels: tags("fruit"), time: num(2) } },
      { id: "c", vector: v(0, 1), fields: { descr: text("blue car"), labels: tags("vehicle"), time: num(3) } },
      { id: "d", vector: v(-1, 0), fields: { labels: tags("vehicle"), time: num(4) } },
    ]);
    await items.upsert("hnsw", [
      { id: "x", vector: v(0, 0), fields: {} },
      { id: "y", vector: v(3, 4), fields: {} },
    ]);
  });

  it("returns the k nearest, closest first", async () => {
    const result = await service.search(command({ query: { vector: v(1, 0) }, k: 3 }));
    expect(result.hits.map((h) => h.id)).toEqual(["a", "b", "c"]);
    expect(result.hits[0]?.distance).toBeCloseTo(0, 6);
    expect(result.hits[2]?.distance).toBeCloseTo(1, 6);
    expect(result.hits[0]?.item.fields).toEqual({ descr: text("red apple"), labels: tags("fruit"), time: num(1) });
    expect(result.hits[0]?.item.vector).toBeUndefined();
  });

  it("filters before KNN", async () => {
    const filter: FilterNode = { op: "tag", field: "labels", values: ["vehicle"] };
    const result = await service.search(command({ query: { vector: v(1, 0) }, k: 10, filter }));
    expect(result.hits.map((h) => h.id)).toEqual(["c", "d"]);
  });

  it("uses a stored item as the query and leaves it out", async () => {
    const result = await service.search(command({ query: { itemId: "a" }, k: 2 }));
    expect(result.hits.map((h) => h.id)).toEqual(["b", "c"]);
  });

  it("reports a missing query item as not found", async () => {
    await expect(service.search(command({ query: { itemId: "zzz" } }))).rejects.toBeInstanceOf(ItemNotFoundError);
  });

  it("pages filter-only queries by id", async () => {
    const first = await service.search(command({ k: 3 }));
    expect(first.hits.map((h) => h.id)).toEqual(["a", "b", "c"]);
    expect(first.hits.every((h) => h.distance === 0)).toBe(true);
    const second = await service.search(command({ k: 3, offset: 3 }));
    expect(second.hits.map((h) => h.id)).toEqual(["d"]);
    expect(second.totalMatches).toBe(4);
  });

  it("returns the requested fields minus the omitted ones, and vectors on request", async () => {
    const only = await service.search(command({ k: 1, returnFields: ["time", "labels"], omitFields: ["labels"] }));
    expect(only.hits[0]?.item.fields).toEqual({ time: num(1) });
    const omitted = await service.search(command({ k: 1, omitFields: ["descr"], includeVectors: true }));
    expect(omitted.hits[0]?.item.fields).toEqual({ labels: tags("fruit"), time: num(1) });
    expect(Array.from(omitted.hits[0]?.item.vector ?? [])).toEqual([1, 0]);
  });

  it("accepts ef_runtime on HNSW indexes and ignores it on FLAT ones", async () => {
    const hnsw = await service.search(command({ indexName: "hnsw", query: { vector: v(3, 3) }, k: 1, efRuntime: 50 }));
    expect(hnsw.hits.map((h) => h.id)).toEqual(["y"]);
    expect(hnsw.hits[0]?.distance).toBeCloseTo(1, 5);
    const flat = await service.search(command({ query: { vector: v(1, 0) }, k: 1, efRuntime: 50 }));
    expect(flat.hits.map((h) => h.id)).toEqual(["a"]);
  });

  it("names every bad parameter", async () => {
    expect(
      await violatedFields(
        service.search(
          command({
            query: { vector: v(1, 2, 3) },
            k: 0,
            offset: 5,
            efRuntime: 10_001,
            filter: { op: "tag", field: "time", values: ["x"] },
            filterField: "filter_query",
            returnFields: ["vec", "nope"],
            omitFields: ["ghost"],
          }),
        ),
      ),
    ).toEqual([
      "k",
      "offset",
      "vector",
      "ef_runtime",
      "filter_query",
      "return_fields[0]",
      "return_fields[1]",
      "omit_fields[0]",
    ]);
  });

  it("checks k bounds, query vectors and item ids", async () => {
    expect(await violatedFields(service.search(command({ k: 10_001 })))).toEqual(["k"]);
    expect(await violatedFields(service.search(command({ k: 10, offset: 999_991 })))).toEqual(["offset"]);
    expect((await service.search(command({ k: 10, offset: 999_990 }))).hits).toEqual([]);
    expect(await service.search(command({ k: 10_000 }))).toMatchObject({ totalMatches: 4 });
    expect(await violatedFields(service.search(command({ query: { vector: v(1, Number.NaN) } })))).toEqual(["vector"]);
    expect(await violatedFields(service.search(command({ query: { itemId: "" } })))).toEqual(["item_id"]);
    expect(await violatedFields(service.search(command({ indexName: "-bad" })))).toEqual(["index_name"]);
  });

  it("reports an unknown index as not found", async () => {
    await expect(service.search(command({ indexName: "missing" }))).rejects.toBeInstanceOf(IndexNotFoundError);
  });

  it("stops when the caller has gone away", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(service.search(command({ signal: controller.signal }))).rejects.toBeInstanceOf(CancelledError);
  });
});

describe("search service: what reaches the store", () => {
  function recordingStore(): { store: VectorStore; queries: SearchQuery[] } {
    const inner = createEmbeddedStore();
    const queries: SearchQuery[] = [];
    const store: VectorStore = Object.assign(Object.create(inner) as VectorStore, {
      search(index: string, query: SearchQuery) {
        queries.push(query);
        return inner.search(index, query);
      },
    });
    // Methods of the embedded store are closures, so delegation through the prototype keeps them working.
    return { store, queries };
  }

  it("sends the resolved return fields, the exclusion and ef_runtime only where they apply", async () => {
    const { store, queries } = recordingStore();
    await createIndexAdmin(store).createIndex({
      name: "h",
      fields: [
        { name: "a", type: "numeric" },
        { name: "b", type: "numeric" },
        { name: "v", type: "vector", dimension: 2, algorithm: "HNSW" },
      ],
      defaultVectorDimension: 0,
    });
    await createItemService(store).upsert("h", [{ id: "q", vector: v(1, 0), fields: { a: num(1), b: num(2) } }]);
    const service = createSearchService(store);
    await service.search(command({ indexName: "h", query: { itemId: "q" }, efRuntime: 30, omitFields: ["a"] }));
    await service.search(command({ indexName: "h", k: 5, efRuntime: 30 }));
    await service.search(command({ indexName: "h", query: { vector: v(0, 1) } }));
    expect(queries[0]).toMatchObject({ excludeIds: ["q"], efRuntime: 30, returnFields: ["b"] });
    expect(Array.from(queries[0]?.vector ?? [])).toEqual([1, 0]);
    expect(queries[1]?.efRuntime).toBeUndefined();
    expect(queries[1]?.vector).toBeUndefined();
    expect(queries[2]?.efRuntime).toBeUndefined();
    expect(queries[2]?.returnFields).toBeUndefined();
    expect(queries[2]?.excludeIds).toBeUndefined();
  });
});
