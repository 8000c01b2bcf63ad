/**
 * The README recipe "Rebuild and switch with no downtime", under load, on every backend: clients keep
 * calling Search through the alias while a new index with another dimension, metric and algorithm is
 * built and filled, and the alias is moved to it. Zero calls may fail, and every call that starts after
 * UpdateAlias answered must be served by the new index.
 *
 * Why these calls: a query VECTOR has the dimension of one index, so a client sending 4-dimension
 * vectors cannot be served by the 8-dimension index (INVALID_ARGUMENT, as the README says: switch the
 * embedding model with the alias). The clients here use what survives a dimension change: Search by
 * `item_id` ("more like this": the query vector is the stored item's, read from whichever index the
 * alias names when the call starts) and filter-only Search. Each item carries a `gen` tag saying which
 * index answered. Bounded: about 1-2 s of load per backend, at most 4 clients x 400 calls.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateAliasRequest,
  DeleteAliasRequest,
  DistanceMetric,
  DropIndexRequest,
  FieldSchema,
  GetIndexRequest,
  IndexRequest,
  SearchRequest,
  UpdateAliasRequest,
  UpsertRequest,
  VectorAlgorithm,
  type GetIndexResponse,
  type SearchResponse,
} from "../../src/gen/vecrec/v1/vecrec.js";
import { BACKENDS, collect, fill, startHarness, unary, vectorList, type Harness } from "./harness.js";

const ITEMS = 40;
const CLIENTS = 4;
const MAX_CALLS_PER_CLIENT = 400;
const LOAD_AFTER_MOVE_MS = 300;
const MAX_LOAD_MS = 8000;

function vectorOf(i: number, dimension: number): number[] {
  return Array.from({ length: dimension }, (_, d) => Math.sin(i * 7.1 + d * 1.3) + (d === i % dimension ? 2 : 0));
}

interface CallRecord {
  readonly startedAt: number;
  readonly gens: readonly string[];
  readonly error?: string;
}

describe.each(BACKENDS)("alias switch under load ($name)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => {
    await h?.close();
  });

  const index = (request: IndexRequest) => unary((cb) => h.client.index(request, cb));
  const upsert = (indexName: string, dimension: number, gen: string, from: number, to: number) =>
    unary((cb) =>
      h.client.upsert(
        fill(UpsertRequest, {
          indexName,
          items: Array.from({ length: to - from }, (_, k) => ({
            id: `item-${from + k}`,
            vector: vectorList(vectorOf(from + k, dimension)),
            fields: { gen: { kind: { $case: "tags", value: { values: [gen] } } } },
          })),
        }),
        cb,
      ),
    );

  it("moves the alias to a rebuilt index (other dimension, metric, algorithm) with zero failed calls", async () => {
    await index(IndexRequest.fromPartial({
      indexName: "catalog_v1",
      fields: [
        FieldSchema.fromPartial({ name: "gen", type: { $case: "tag", value: {} } }),
        FieldSchema.fromPartial({ name: "vec", type: { $case: "vector", value: { dimension: 4, distanceMetric: DistanceMetric.DISTANCE_METRIC_COSINE } } }),
      ],
    }));
    await upsert("catalog_v1", 4, "v1", 0, ITEMS);
    await unary((cb) => h.client.createAlias(CreateAliasRequest.fromPartial({ alias: "catalog", indexName: "catalog_v1" }), cb));

    let stop = false;
    const records: CallRecord[] = [];
    const gensOf = (messages: SearchResponse[]) =>
      messages.map((m) => {
        const gen = m.fields.gen?.kind;
        return gen?.$case === "tags" ? gen.value.values.join(",") : "?";
      });
    async function client(c: number): Promise<void> {
      for (let n = 0; n < MAX_CALLS_PER_CLIENT && !stop; n++) {
        const startedAt = performance.now();
        const request =
          n % 2 === 0
            ? { indexName: "catalog", itemId: `item-${(c * 13 + n) % ITEMS}`, k: 5, returnFields: ["gen"] }
            : { indexName: "catalog", k: 5, filterQuery: "@gen:{v1 | v2}", returnFields: ["gen"] };
        const { messages, error } = await collect<SearchResponse>(h.client.search(fill(SearchRequest, request)));
        records.push(error ? { startedAt, gens: [], error: `${error.code} ${error.details}` } : { startedAt, gens: gensOf(messages) });
      }
    }
    const loadStarted = performance.now();
    const hardStop = setTimeout(() => (stop = true), MAX_LOAD_MS);
    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));

    // The rebuild, while the clients run: 8 dimensions, L2, HNSW.
    await index(IndexRequest.fromPartial({
      indexName: "catalog_v2",
      fields: [
        FieldSchema.fromPartial({ name: "gen", type: { $case: "tag", value: {} } }),
        FieldSchema.fromPartial({
          name: "vec",
          type: {
            $case: "vector",
            value: { dimension: 8, distanceMetric: DistanceMetric.DISTANCE_METRIC_L2, algorithm: VectorAlgorithm.VECTOR_ALGORITHM_HNSW },
          },
        }),
      ],
    }));
    for (let from = 0; from < ITEMS; from += 10) await upsert("catalog_v2", 8, "v2", from, from + 10);
    for (let attempt = 0; attempt < 100; attempt++) {
      const info = await unary<GetIndexResponse>((cb) => h.client.getIndex(GetIndexRequest.fromPartial({ indexName: "catalog_v2" }), cb));
      if (info.index?.indexing === false && info.index.itemCount === ITEMS) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const moveSentAt = performance.now();
    const moved = await unary<{ previousIndexName: string }>((cb) =>
      h.client.updateAlias(UpdateAliasRequest.fromPartial({ alias: "catalog", indexName: "catalog_v2" }), cb),
    );
    const movedAt = performance.now();
    expect(moved.previousIndexName).toBe("catalog_v1");
    await new Promise((resolve) => setTimeout(resolve, LOAD_AFTER_MOVE_MS));
    stop = true;
    clearTimeout(hardStop);
    await Promise.all(clients);
    const loadMs = performance.now() - loadStarted;

    const failed = records.filter((r) => r.error !== undefined);
    expect(failed, `failed calls (of ${records.length} in ${loadMs.toFixed(0)} ms)`).toEqual([]);
    const before = records.filter((r) => r.startedAt < moveSentAt);
    const after = records.filter((r) => r.startedAt > movedAt);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length, "calls after the move").toBeGreaterThan(0);
    // Calls started before UpdateAlias was sent were served by v1, every call started after its answer
    // by v2 (those started in between by either, each by one: a call resolves the alias once).
    expect(new Set(before.flatMap((r) => r.gens))).toEqual(new Set(["v1"]));
    expect(new Set(after.flatMap((r) => r.gens))).toEqual(new Set(["v2"]));
    for (const r of records) expect(r.gens.length).toBeGreaterThan(0);
    for (const r of records) expect(new Set(r.gens).size, "one index per call").toBe(1);

    // The old index can go once the alias has left it.
    await unary((cb) => h.client.dropIndex(DropIndexRequest.fromPartial({ indexName: "catalog_v1", deleteItems: true }), cb));
    await unary((cb) => h.client.deleteAlias(DeleteAliasRequest.fromPartial({ alias: "catalog" }), cb));
    await unary((cb) => h.client.dropIndex(DropIndexRequest.fromPartial({ indexName: "catalog_v2", deleteItems: true }), cb));
  });
});
