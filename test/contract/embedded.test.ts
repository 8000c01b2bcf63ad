import { describe, expect, it } from "vitest";
import { CancelledError, DeadlineExceededError, IndexNotFoundError, UnavailableError } from "../../src/domain/errors.js";
import type { Item } from "../../src/domain/item.js";
import type { DistanceMetric, IndexSpec } from "../../src/domain/schema.js";
import { asRedisReports, distance } from "../../src/domain/vector.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { simdAvailable } from "../../src/store/embedded/simd-kernels.js";
import { VectorArena } from "../../src/store/embedded/vector-arena.js";
import { describeVectorStoreContract } from "./vector-store-contract.js";

describeVectorStoreContract("embedded", () => {
  const store = createEmbeddedStore();
  return Promise.resolve({ store, cleanup: () => store.close() });
});

// What only the embedded engine has: its chunked scan (cancellation between chunks, writes waiting for
// searches in flight), its arena bookkeeping under churn, and its lifecycle.

function spec(name: string, dimension: number, metric: DistanceMetric): IndexSpec {
  return {
    name,
    fields: [
      { name: "grp", type: "tag", separator: ",", caseSensitive: false },
      { name: "vec", type: "vector", dimension, algorithm: "FLAT", metric, elementType: "FLOAT32" },
    ],
  };
}

/** A deterministic pseudo-random generator (LCG), so failures reproduce. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function randomItems(count: number, dimension: number, next: () => number, prefix = "i"): Item[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    vector: Float32Array.from({ length: dimension }, () => next() * 2 - 1),
    fields: { grp: { type: "tag", values: [i % 3 === 0 ? "third" : "rest"] } },
  }));
}

describe("embedded engine", () => {
  for (const metric of ["L2", "IP", "COSINE"] as const) {
    it(`agrees with a brute-force reference under upserts and deletes (${metric})`, async () => {
      const store = createEmbeddedStore();
      const next = random(metric.length * 7919);
      await store.createIndex(spec("churn", 11, metric));
      const live = new Map<string, Item>();
      for (let round = 0; round < 6; round++) {
        const batch = randomItems(400, 11, next, `r${round % 3}_`);
        await store.upsert("churn", batch);
        for (const item of batch) live.set(item.id, item);
        const victims = [...live.keys()].filter(() => next() < 0.3);
        expect(await store.deleteItems("churn", victims)).toBe(victims.length);
        for (const id of victims) live.delete(id);
        expect((await store.getIndex("churn")).itemCount).toBe(live.size);

        const query = Float32Array.from({ length: 11 }, () => next() * 2 - 1);
        const filtered = round % 2 === 0;
        const expected = [...live.values()]
          .filter((item) => !filtered || item.fields.grp?.type === "tag" && item.fields.grp.values[0] === "third")
          .map((item) => ({ id: item.id, d: distance(metric, item.vector as Float32Array, query) }))
          .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        const result = await store.search("churn", {
          vector: query,
          k: 25,
          offset: 0,
          filter: filtered ? { op: "tag", field: "grp", values: ["third"] } : { op: "all" },
          includeVectors: true,
        });
        expect(result.hits.map((h) => h.id)).toEqual(expected.slice(0, 25).map((e) => e.id));
        // Exactly the float32 distance, as Redis prints it (%.12g).
        expect(result.hits.map((h) => h.distance)).toEqual(expected.slice(0, 25).map((e) => asRedisReports(e.d)));
        for (const hit of result.hits) {
          expect(Array.from(hit.item.vector ?? [])).toEqual(Array.from(live.get(hit.id)?.vector ?? []));
        }
        expect(result.totalMatches).toBe(Math.min(25, expected.length));
      }
      await store.close();
    });
  }

  it("stops a long scan between chunks when the signal aborts", async () => {
    const store = createEmbeddedStore();
    await store.createIndex(spec("long", 4, "L2"));
    await store.upsert("long", randomItems(30_000, 4, random(1)));
    const controller = new AbortController();
    const pending = store.search("long", { vector: new Float32Array(4), k: 5, offset: 0, filter: { op: "all" }, includeVectors: false, signal: controller.signal });
    // Runs before the scan's first yield to the event loop.
    setImmediate(() => controller.abort());
    await expect(pending).rejects.toBeInstanceOf(CancelledError);

    const deadline = new AbortController();
    const filterOnly = store.search("long", { k: 5, offset: 0, filter: { op: "all" }, includeVectors: false, signal: deadline.signal });
    setImmediate(() => deadline.abort(new DeadlineExceededError()));
    await expect(filterOnly).rejects.toBeInstanceOf(DeadlineExceededError);
    await store.close();
  });

  it("lets writes wait for a search in flight, and sees them afterwards", async () => {
    const store = createEmbeddedStore();
    await store.createIndex(spec("busy", 2, "L2"));
    await store.upsert("busy", randomItems(30_000, 2, random(2)).map((item) => ({ ...item, vector: new Float32Array([5, 5]) })));
    const search = store.search("busy", { vector: new Float32Array([0, 0]), k: 3, offset: 0, filter: { op: "all" }, includeVectors: false });
    const deletion = store.deleteItems("busy", ["i0", "i1", "i2"]);
    const upsert = store.upsert("busy", [{ id: "close", vector: new Float32Array([0, 0]), fields: {} }]);
    const result = await search;
    // The search saw the index as it was when it started.
    expect(result.hits.map((h) => h.id)).toEqual(["i0", "i1", "i10"]);
    expect(await deletion).toBe(3);
    await upsert;
    const after = await store.search("busy", { vector: new Float32Array([0, 0]), k: 3, offset: 0, filter: { op: "all" }, includeVectors: false });
    expect(after.hits.map((h) => h.id)).toEqual(["close", "i10", "i100"]);
    await store.close();
  });

  it("never acknowledges a write that waited for a search while its index was dropped", async () => {
    const store = createEmbeddedStore();
    const busy = spec("dropped", 2, "L2");
    await store.createIndex(busy);
    await store.upsert("dropped", randomItems(30_000, 2, random(3)));
    // The search holds the index across chunks; the writes queue behind it; the drop (keeping items)
    // happens meanwhile, so the writes run after the index's data was set aside.
    const search = store.search("dropped", { vector: new Float32Array([0, 0]), k: 3, offset: 0, filter: { op: "all" }, includeVectors: false });
    const upsert = store.upsert("dropped", [{ id: "late", vector: new Float32Array([1, 1]), fields: {} }]);
    const deletion = store.deleteItems("dropped", ["i0"]);
    await store.dropIndex("dropped", { deleteItems: false });
    await search;
    const [upserted, deleted] = await Promise.allSettled([upsert, deletion]);
    await store.createIndex(busy);
    const [late, i0] = await store.getItems("dropped", ["late", "i0"], { includeVectors: false });
    // Each write either failed, or is there once the index is back (as on Redis, where the hashes stay).
    if (upserted.status === "fulfilled") expect(late?.id).toBe("late");
    else expect(upserted.reason).toBeInstanceOf(IndexNotFoundError);
    if (deleted.status === "fulfilled") expect(i0).toBeUndefined();
    else expect(deleted.reason).toBeInstanceOf(IndexNotFoundError);
    await store.close();
  });

  it("pages a large filter-only result by id", async () => {
    const store = createEmbeddedStore();
    await store.createIndex(spec("pages", 2, "IP"));
    const items = randomItems(20_000, 2, random(3));
    await store.upsert("pages", items);
    const sortedIds = items.map((i) => i.id).sort();
    const page = await store.search("pages", { k: 50, offset: 12_345, filter: { op: "all" }, includeVectors: false });
    expect(page.totalMatches).toBe(20_000);
    expect(page.hits.map((h) => h.id)).toEqual(sortedIds.slice(12_345, 12_395));
    const thirds = await store.search("pages", { k: 10, offset: 0, filter: { op: "tag", field: "grp", values: ["third"] }, includeVectors: false });
    expect(thirds.totalMatches).toBe(6667);
    await store.close();
  });

  it("counts kept items whose vectors do not fit a re-created index as indexing failures", async () => {
    const store = createEmbeddedStore();
    await store.createIndex(spec("resized", 2, "L2"));
    await store.upsert("resized", randomItems(3, 2, random(4)));
    await store.dropIndex("resized", { deleteItems: false });
    const created = await store.createIndex(spec("resized", 3, "L2"));
    expect(created.info.itemCount).toBe(0);
    expect(created.info.indexingFailures).toBe(3);
    // Dropped again and re-created with the first dimension, the items come back.
    await store.dropIndex("resized", { deleteItems: false });
    expect((await store.createIndex(spec("resized", 2, "L2"))).info.itemCount).toBe(3);
    await store.close();
  });

  it("ranks NaN distances (zero vectors under COSINE) last, by id", async () => {
    const store = createEmbeddedStore();
    await store.createIndex(spec("zeros", 3, "COSINE"));
    await store.upsert("zeros", [
      { id: "zero", vector: new Float32Array([0, 0, 0]), fields: {} },
      { id: "a", vector: new Float32Array([1, 2, 3]), fields: {} },
      { id: "b", vector: new Float32Array([-1, 0.5, 2]), fields: {} },
    ]);
    const result = await store.search("zeros", { vector: new Float32Array([0.5, 1.5, -1]), k: 3, offset: 0, filter: { op: "all" }, includeVectors: false });
    expect(result.hits.map((h) => h.id)).toEqual(["a", "b", "zero"]);
    expect(result.hits[2]?.distance).toBeNaN();
    const zeroQuery = await store.search("zeros", { vector: new Float32Array(3), k: 2, offset: 0, filter: { op: "all" }, includeVectors: false });
    expect(zeroQuery.hits.map((h) => h.id)).toEqual(["a", "b"]);
    expect(zeroQuery.hits.every((h) => Number.isNaN(h.distance))).toBe(true);
    expect(zeroQuery.totalMatches).toBe(2);
    await store.close();
  });

  it("fails every call once closed, and closes twice", async () => {
    const store = createEmbeddedStore();
    await store.createIndex(spec("closing", 2, "L2"));
    await store.close();
    await store.close();
    await expect(store.getIndex("closing")).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.listIndexes()).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.search("closing", { k: 1, offset: 0, filter: { op: "all" }, includeVectors: false })).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });

  it("returns copies: changing a returned vector or tag list does not change the store", async () => {
    const store = createEmbeddedStore();
    await store.createIndex(spec("copies", 2, "L2"));
    const original: Item = { id: "a", vector: new Float32Array([1, 2]), fields: { grp: { type: "tag", values: ["x"] } } };
    await store.upsert("copies", [original]);
    (original.vector as Float32Array)[0] = 99;
    const [read] = await store.getItems("copies", ["a"], { includeVectors: true });
    expect(Array.from(read?.vector ?? [])).toEqual([1, 2]);
    (read?.vector as Float32Array)[1] = 99;
    const grp = read?.fields.grp;
    if (grp?.type === "tag") (grp.values as string[]).push("y");
    const [again] = await store.getItems("copies", ["a"], { includeVectors: true });
    expect(Array.from(again?.vector ?? [])).toEqual([1, 2]);
    expect(again?.fields.grp).toEqual({ type: "tag", values: ["x"] });
    await store.close();
  });
});

describe("vector arena", () => {
  it("scans bit-identically with the SIMD and the JS kernels, across growth and swap-removes", () => {
    expect(simdAvailable()).toBe(true);
    for (const dimension of [1, 3, 4, 7, 16, 130]) {
      const next = random(dimension);
      const simd = new VectorArena(dimension, { searchable: true });
      const js = new VectorArena(dimension, { searchable: true, simd: false });
      expect(simd.usesSimd).toBe(true);
      expect(js.usesSimd).toBe(false);
      for (let i = 0; i < 300; i++) {
        const row = Float32Array.from({ length: dimension }, () => next() * 4 - 2);
        simd.append(row);
        js.append(row);
      }
      for (let i = 0; i < 50; i++) {
        const slot = Math.floor(next() * simd.size);
        expect(simd.swapRemove(slot)).toBe(js.swapRemove(slot));
      }
      const query = Float32Array.from({ length: dimension }, () => next() * 4 - 2);
      for (const metric of ["l2", "dot"] as const) {
        const a = Array.from(simd.scan(metric, query, 0, simd.size));
        const b = Array.from(js.scan(metric, query, 0, js.size));
        expect(a).toEqual(b);
        const row = js.copy(7);
        const expected = metric === "l2" ? distance("L2", row, query) : distance("IP", row, query);
        expect(a[7]).toBe(expected);
      }
      expect(Array.from(simd.copy(simd.size - 1))).toEqual(Array.from(js.copy(js.size - 1)));
    }
  });
});
