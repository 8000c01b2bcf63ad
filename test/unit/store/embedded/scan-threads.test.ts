/**
 * Scans shared with other threads (scan-threads.ts, vector-arena.ts scanBelowInThread, the shared loop of
 * embedded-index.ts): a thread's distances and picks are bit for bit those of the main thread's kernel,
 * and a search shared with threads answers exactly what the same search on one thread answers (metrics,
 * filters, exclusions, ranges, ties, zero vectors), also when the threads go away mid-search.
 */
import { afterEach, describe, expect, it } from "vitest";
import { simdAvailable } from "../../../../src/store/embedded/simd-kernels.js";
import { ScanThreads } from "../../../../src/store/embedded/scan-threads.js";
import { EmbeddedIndex } from "../../../../src/store/embedded/embedded-index.js";
import { MIN_SHARED_SCAN_BYTES } from "../../../../src/store/embedded/knn-scan.js";
import { THREAD_SCAN_ROWS, VectorArena } from "../../../../src/store/embedded/vector-arena.js";
import type { IndexSpec } from "../../../../src/domain/schema.js";
import type { FilterNode } from "../../../../src/domain/filter/filter.js";
import type { SearchQuery } from "../../../../src/store/vector-store.js";

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
}

const pools: ScanThreads[] = [];
function pool(size: number): ScanThreads {
  const threads = new ScanThreads(size);
  pools.push(threads);
  return threads;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

const simd = simdAvailable();
if (!simd) console.warn("[scan-threads.test] skipped: this runtime has no WebAssembly SIMD, so no shared scans");

describe.skipIf(!simd)("a scan on another thread", () => {
  it("finds the same distances and picks as the main thread's kernel", async () => {
    const next = random(5);
    const arena = new VectorArena(37, { searchable: true });
    expect(arena.scansInThreads).toBe(true);
    for (let i = 0; i < 5000; i++) arena.append(Float32Array.from({ length: 37 }, next));
    const threads = pool(2);
    const query = Float32Array.from({ length: 37 }, next);
    for (const metric of ["l2", "dot"] as const) {
      for (const [start, end, threshold] of [[0, 5000, NaN], [123, 4000, 0.5], [4999, 5000, NaN], [10, 10, NaN]] as const) {
        const picks = await arena.scanBelowInThread(threads, metric, query, start, end, threshold);
        expect(picks).toBeDefined();
        const inThread = { distances: Array.from(picks!.distances), picked: [...picks!.picked].sort((a, b) => a - b) };
        picks!.release();
        let here: { distances: number[]; picked: number[] } = { distances: [], picked: [] };
        // The main thread's scan in chunks of at most SCAN_CHUNK_ROWS, shifted to the range.
        for (let from = start; from < end; from += 2048) {
          const part = arena.scanBelow(metric, query, from, Math.min(end, from + 2048), threshold);
          here = {
            distances: [...here.distances, ...Array.from(part.distances)],
            picked: [...here.picked, ...[...part.picked].map((p) => p + from - start)],
          };
        }
        here.picked.sort((a, b) => a - b);
        expect(new Uint32Array(Float32Array.from(inThread.distances).buffer)).toEqual(new Uint32Array(Float32Array.from(here.distances).buffer));
        expect(inThread.picked).toEqual(here.picked);
      }
    }
  });

  it("is refused (undefined) when no thread or region is free, and runs again once one is", async () => {
    const arena = new VectorArena(8, { searchable: true });
    for (let i = 0; i < 100; i++) arena.append(new Float32Array(8).fill(i));
    const none = pool(0);
    expect(arena.scanBelowInThread(none, "l2", new Float32Array(8), 0, 100, NaN)).toBeUndefined();
    const one = pool(1);
    const a = arena.scanBelowInThread(one, "l2", new Float32Array(8), 0, 50, NaN);
    const b = arena.scanBelowInThread(one, "l2", new Float32Array(8), 50, 100, NaN);
    // One thread holds two jobs at most.
    expect(arena.scanBelowInThread(one, "l2", new Float32Array(8), 0, 10, NaN)).toBeUndefined();
    const [pa, pb] = await Promise.all([a, b]);
    expect(pa?.count).toBe(50);
    expect(pb?.count).toBe(50);
    expect(pb?.distances[0]).toBe(8 * 50 * 50);
    pa?.release();
    pb?.release();
    const c = await arena.scanBelowInThread(one, "l2", new Float32Array(8), 0, 1, NaN);
    expect(c?.distances[0]).toBe(0);
    c?.release();
    expect(() => arena.scanBelowInThread(one, "l2", new Float32Array(8), 0, THREAD_SCAN_ROWS + 1, NaN)).toThrow(RangeError);
  });

  it("answers undefined for the jobs of a pool that closes, and nothing once closed", async () => {
    const arena = new VectorArena(8, { searchable: true });
    for (let i = 0; i < 100; i++) arena.append(new Float32Array(8).fill(i));
    const threads = pool(1);
    const pending = arena.scanBelowInThread(threads, "l2", new Float32Array(8), 0, 100, NaN);
    await threads.close();
    expect(await pending).toBeUndefined();
    expect(arena.scanBelowInThread(threads, "l2", new Float32Array(8), 0, 100, NaN)).toBeUndefined();
  });
});

describe("the scans a store counts", () => {
  it("is alone while one search runs, and not while two overlap", async () => {
    const threads = pool(1);
    expect(threads.alone).toBe(true);
    let release: () => void = () => undefined;
    const first = threads.counting(async () => {
      expect(threads.alone).toBe(true);
      await new Promise<void>((resolve) => (release = resolve));
      return threads.alone;
    });
    const second = threads.counting(() => Promise.resolve(threads.alone));
    expect(await second).toBe(false);
    release();
    expect(await first).toBe(true);
    await expect(threads.counting(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(threads.alone).toBe(true);
  });

  it("lets a search alone fill its window, two searches one job each on an idle thread, more none", async () => {
    const threads = pool(1);
    const arena = new VectorArena(8, { searchable: true });
    for (let i = 0; i < 10; i++) arena.append(new Float32Array(8));
    /** jobsFor(4) while `searches` searches run. */
    const whileRunning = async (searches: number): Promise<number> => {
      let open: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const running = Array.from({ length: searches }, () => threads.counting(() => gate));
      const jobs = threads.jobsFor(4);
      open();
      await Promise.all(running);
      return jobs;
    };
    expect(await whileRunning(1)).toBe(4);
    expect(await whileRunning(2)).toBe(1);
    expect(await whileRunning(3)).toBe(0);
    // Two searches with the thread holding two jobs: none.
    const busy = [0, 1].map(() => arena.scanBelowInThread(threads, "l2", new Float32Array(8), 0, 10, NaN) ?? Promise.reject(new Error("not started")));
    expect(await whileRunning(2)).toBe(0);
    for (const picks of await Promise.all(busy)) picks?.release();
    expect(await whileRunning(2)).toBe(1);
    await threads.close();
    expect(threads.jobsFor(4)).toBe(0);
  });
});

/** An index large enough for its scans to be shared: MIN_SHARED_SCAN_BYTES and more of 1024-dim rows. */
function bigIndex(metric: "COSINE" | "L2" | "IP"): EmbeddedIndex {
  const dim = 1024;
  const rows = Math.ceil((MIN_SHARED_SCAN_BYTES * 1.6) / (dim * 4));
  const spec: IndexSpec = {
    name: `big-${metric}`,
    fields: [
      { name: "labels", type: "tag", separator: ",", caseSensitive: false },
      { name: "vec", type: "vector", dimension: dim, metric, algorithm: "FLAT", elementType: "FLOAT32" },
    ],
  };
  const index = new EmbeddedIndex(spec);
  const next = random(metric.length);
  const items = [];
  for (let i = 0; i < rows; i++) {
    const vector = Float32Array.from({ length: dim }, next);
    if (i % 997 === 0) vector.fill(0); // NaN distances under COSINE
    items.push({ id: `item-${i}`, vector, fields: { labels: { type: "tag" as const, values: [`c${i % 8}`] } } });
  }
  // Ties: copies of one row under other ids.
  for (let i = 0; i < 30; i++) items.push({ ...items[4242]!, id: `tie-${i}` });
  index.upsert(items);
  return index;
}

describe.skipIf(!simd)("a search shared with threads", () => {
  for (const metric of ["COSINE", "L2", "IP"] as const) {
    it(`answers exactly as one thread does (${metric})`, async () => {
      const index = bigIndex(metric);
      const threads = pool(2);
      const next = random(99);
      const dim = 1024;
      const all: FilterNode = { op: "all" };
      const tag: FilterNode = { op: "tag", field: "labels", values: ["c3"] };
      const near = (): Float32Array => Float32Array.from({ length: dim }, next);
      const queries: Omit<SearchQuery, "signal">[] = [
        { vector: near(), k: 10, offset: 0, filter: all, includeVectors: false },
        { vector: near(), k: 25, offset: 0, filter: tag, includeVectors: false },
        { vector: near(), k: 10, offset: 0, filter: all, includeVectors: false, excludeIds: ["item-1", "item-2"] },
        // The tied row itself: the 31 copies at distance 0 (or ~0) decided by id.
        { vector: index.get("item-4242", true)!.vector!, k: 12, offset: 0, filter: all, includeVectors: false },
        { vector: near(), k: 5000, offset: 0, filter: tag, includeVectors: false },
        { vector: new Float32Array(dim), k: 10, offset: 0, filter: all, includeVectors: false },
      ];
      if (metric === "L2") queries.push({ vector: near(), k: 100, offset: 0, filter: all, includeVectors: false, maxDistance: 160 });
      for (const query of queries) {
        const alone = await index.search(query);
        const shared = await index.search(query, threads);
        expect(shared).toEqual(alone);
        expect(alone.hits.length).toBeGreaterThan(0);
      }
    }, 60_000);
  }

  it("answers exactly as one thread does when its threads go away mid-search", async () => {
    const index = bigIndex("L2");
    const query = { vector: Float32Array.from({ length: 1024 }, random(3)), k: 10, offset: 0, filter: { op: "all" }, includeVectors: false } as SearchQuery;
    const alone = await index.search(query);
    const threads = pool(2);
    const shared = index.search(query, threads);
    await new Promise((resolve) => setImmediate(resolve));
    await threads.close();
    expect(await shared).toEqual(alone);
  }, 60_000);
});
