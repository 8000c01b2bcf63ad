/**
 * End to end, every backend: UpdateItems (partial updates, missing ids, create_missing, validation),
 * ExportItems (id order, vectors, filter, resume, validation) and vectors returned as a list of floats
 * (GetItems, Search, ExportItems).
 */
import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExportItemsRequest,
  type ExportItemsResponse,
  GetItemsRequest,
  SearchRequest,
  UpdateItemsRequest,
  UpsertRequest,
  VectorFormat,
  type GetItemsResponse,
  type SearchResponse,
  type UpdateItemsResponse,
} from "../../src/gen/vecrec/v1/vecrec.js";
import { BACKENDS, collect, failure, fill, startHarness, unary, vectorList, violatedFields, type Harness } from "./harness.js";

describe.each(BACKENDS)("ingest RPCs end to end ($name)", (backend) => {
  let h: Harness;
  const index = `ingest_${Date.now().toString(36)}`;
  beforeAll(async () => {
    h = await startHarness(backend);
    await unary((cb) => h.client.index({ indexName: index, fields: [], defaultVectorDimension: 3 }, cb));
    await unary((cb) =>
      h.client.upsert(
        fill(UpsertRequest, {
          indexName: index,
          items: [
            { id: "a", vector: vectorList([0.5, 0.25, -1]), fields: { descr: { kind: { $case: "text", value: "old" } }, time: { kind: { $case: "number", value: 1 } } } },
            { id: "b", vector: vectorList([1, 0, 0]) },
          ],
        }),
        cb,
      ),
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  const getItems = (request: Partial<GetItemsRequest>) =>
    unary<GetItemsResponse>((cb) => h.client.getItems(fill(GetItemsRequest, { indexName: index, ...request }), cb));
  const update = (request: Parameters<typeof fill<UpdateItemsRequest>>[1]) =>
    unary<UpdateItemsResponse>((cb) => h.client.updateItems(fill(UpdateItemsRequest, request), cb));

  it("returns vectors as a list of floats when asked, bytes otherwise", async () => {
    const asList = await getItems({ ids: ["a"], includeVectors: true, vectorFormat: VectorFormat.VECTOR_FORMAT_FLOAT32_VALUES });
    expect(asList.items[0]?.vector?.encoding).toEqual({ $case: "float32Values", value: { values: [0.5, 0.25, -1] } });
    const asBytes = await getItems({ ids: ["a"], includeVectors: true });
    expect(asBytes.items[0]?.vector?.encoding?.$case).toBe("float32Le");
    const hits = await collect<SearchResponse>(
      h.client.search(
        fill(SearchRequest, {
          indexName: index,
          query: { $case: "vector", value: vectorList([1, 0, 0]) },
          k: 1,
          includeVectors: true,
          vectorFormat: VectorFormat.VECTOR_FORMAT_FLOAT32_VALUES,
        }),
      ),
    );
    expect(hits.messages[0]?.vector?.encoding).toEqual({ $case: "float32Values", value: { values: [1, 0, 0] } });
  });

  it("rejects an unknown vector format naming the field", async () => {
    const error = await failure(getItems({ ids: ["a"], includeVectors: true, vectorFormat: 42 as VectorFormat }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error)).toEqual(["vector_format"]);
  });

  it("updates fields of existing items, reports missing ids and creates none", async () => {
    const response = await update({
      indexName: index,
      updates: [
        { id: "a", setFields: { labels: { kind: { $case: "tags", value: { values: ["new"] } } } }, removeFields: ["descr"] },
        { id: "ghost", setFields: { time: { kind: { $case: "number", value: 3 } } } },
      ],
    });
    expect(response).toEqual({ updatedCount: 1, createdCount: 0, missingIds: ["ghost"] });
    const got = await getItems({ ids: ["a", "ghost"], includeVectors: true, vectorFormat: VectorFormat.VECTOR_FORMAT_FLOAT32_VALUES });
    expect(got.missingIds).toEqual(["ghost"]);
    expect(got.items[0]?.fields).toEqual({
      labels: { kind: { $case: "tags", value: { values: ["new"] } } },
      time: { kind: { $case: "number", value: 1 } },
    });
    expect(got.items[0]?.vector?.encoding).toEqual({ $case: "float32Values", value: { values: [0.5, 0.25, -1] } });
  });

  it("replaces a vector alone, and creates missing items with create_missing", async () => {
    const response = await update({
      indexName: index,
      createMissing: true,
      updates: [
        { id: "b", vector: vectorList([0, 1, 0]) },
        { id: "c", vector: vectorList([0, 0, 1]), setFields: { time: { kind: { $case: "number", value: 7 } } } },
      ],
    });
    expect(response).toEqual({ updatedCount: 1, createdCount: 1, missingIds: [] });
    const got = await getItems({ ids: ["b", "c"], includeVectors: true, vectorFormat: VectorFormat.VECTOR_FORMAT_FLOAT32_VALUES });
    expect(got.items.map((i) => i.vector?.encoding)).toEqual([
      { $case: "float32Values", value: { values: [0, 1, 0] } },
      { $case: "float32Values", value: { values: [0, 0, 1] } },
    ]);
    expect(got.items[1]?.fields).toEqual({ time: { kind: { $case: "number", value: 7 } } });
  });

  it("rejects a bad update whole, naming every field", async () => {
    const error = await failure(
      update({
        indexName: index,
        updates: [
          { id: "a", removeFields: ["vec", "nope"] },
          { id: "b", setFields: { time: { kind: { $case: "text", value: "x" } } }, removeFields: ["time"] },
          { id: "a", vector: vectorList([1, 2]) },
          { id: "d" },
        ],
      }),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error)).toEqual([
      "updates[0].remove_fields[0]",
      "updates[0].remove_fields[1]",
      "updates[1].remove_fields[0]",
      "updates[1].set_fields.time",
      "updates[2].id",
      "updates[2].vector",
      "updates[3]",
    ]);
    const got = await getItems({ ids: ["a"] });
    expect(Object.keys(got.items[0]?.fields ?? {}).sort()).toEqual(["labels", "time"]);
  });

  it("exports every item in id order with vectors, filtered, resumable after an id", async () => {
    const exportAll = (request: Parameters<typeof fill<ExportItemsRequest>>[1]) =>
      collect<ExportItemsResponse>(h.client.exportItems(fill(ExportItemsRequest, { indexName: index, ...request })));
    const all = await exportAll({ vectorFormat: VectorFormat.VECTOR_FORMAT_FLOAT32_VALUES });
    expect(all.error).toBeUndefined();
    expect(all.messages.map((m) => m.item?.id)).toEqual(["a", "b", "c"]);
    expect(all.messages[1]?.item?.vector?.encoding).toEqual({ $case: "float32Values", value: { values: [0, 1, 0] } });
    const resumed = await exportAll({ afterId: "a" });
    expect(resumed.messages.map((m) => m.item?.id)).toEqual(["b", "c"]);
    expect(resumed.messages[0]?.item?.vector?.encoding?.$case).toBe("float32Le");
    const filtered = await exportAll({ filterQuery: "@time:[5 +inf]" });
    expect(filtered.messages.map((m) => m.item?.id)).toEqual(["c"]);
    const bad = await exportAll({ afterId: " padded", filterQuery: "@nope:{x}" });
    expect(bad.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(bad.error as ServiceError)).toEqual(["after_id", "filter_query"]);
    const missing = await collect(h.client.exportItems(fill(ExportItemsRequest, { indexName: "no_such_index_x" })));
    expect(missing.error?.code).toBe(status.NOT_FOUND);
  });

  it("answers NOT_FOUND for an unknown index", async () => {
    const error = await failure(update({ indexName: "no_such_index_x", updates: [{ id: "a", removeFields: ["descr"] }] }));
    expect(error.code).toBe(status.NOT_FOUND);
  });
});
