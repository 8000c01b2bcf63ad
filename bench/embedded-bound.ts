/**
 * The embedded engine vs its read bound, in a child process of its own started with --expose-gc (so
 * that the RSS deltas are not the bench's garbage):
 * - bytes of RSS per stored vector: RSS after a GC once `items` items (FLAT, COSINE, `dim` float32, a
 *   tag and a number each) are upserted, minus RSS after a GC before, divided by `items`;
 * - exact KNN per query: Search k=10 without filter (the scan of every row, through the store), median,
 *   on the main thread alone (`scanThreads: 0`), query after query on that store only, as the read pass
 *   runs pass after pass over its one buffer (so both find the rows as warm as the caches keep them);
 *   then that store and a second one with the same items that shares its scans with the default scan
 *   threads (scan-threads.ts), queried alternately (the drift hits both alike), for their ratio. The
 *   alternation itself costs the one-thread search 1.2x at 100k (scratch: 1.65-1.73 ms alone, 1.99-2.10
 *   alternated: each store's scan evicts part of the other's rows from the caches), which is why the
 *   read bound is compared with the search alone;
 * - the read bound: the best of a few passes that only read and add the same number of bytes
 *   (items x dim float32), in plain JS (a Float32Array, four accumulators) and in WebAssembly SIMD
 *   (f32x4 loads, four accumulators), measured in the same run. Scan / bound says how far the scan is
 *   from just streaming its rows through the CPU once.
 *
 *   node --expose-gc --import tsx bench/embedded-bound.ts <items> <dim> <queries>
 */
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { MATCH_ALL } from "../src/domain/filter/filter.js";
import { createEmbeddedStore, DEFAULT_SCAN_THREADS } from "../src/store/embedded/embedded-store.js";
import { simdAvailable } from "../src/store/embedded/simd-kernels.js";
import { startChild } from "./child-process.js";
import { floorData, floorSpec } from "./floor-data.js";
import { median, medianOf, quantile } from "./stats.js";

/** Searches at once in the concurrency rows. */
const CONCURRENT_CALLERS = [1, 2, 8] as const;

export interface EmbeddedBoundFigures {
  readonly items: number;
  readonly dim: number;
  readonly gcExposed: boolean;
  readonly rssBytesPerVector: number;
  /** ms per exact KNN query: median, p95 */
  readonly scanMedianMs: number;
  readonly scanP95Ms: number;
  /** ms per query on the main thread alone, alternated with the shared store's queries: median. */
  readonly alternatedScanMedianMs: number;
  /** The same with the scan shared with the default scan threads (`sharedThreads` of them; 0: none here), alternated. */
  readonly sharedScanMedianMs: number;
  readonly sharedScanP95Ms: number;
  readonly sharedThreads: number;
  /** Searches a second with `callers` at once: the main thread alone, and with the scan threads (median of 2 rounds each). */
  readonly concurrent: readonly { readonly callers: number; readonly oneThread: number; readonly shared: number }[];
  /** ms per read pass over items x dim float32: best JS, best WebAssembly SIMD (NaN without SIMD) */
  readonly jsReadMs: number;
  readonly wasmReadMs: number;
  readonly engineSimd: boolean;
}

/** Runs the measurement in a child process (node --expose-gc --import tsx). */
export async function measureEmbeddedBound(items: number, dim: number, queries: number): Promise<EmbeddedBoundFigures> {
  const child = startChild("./embedded-bound.ts", [String(items), String(dim), String(queries)], ["--expose-gc"]);
  try {
    return (await child.ready) as EmbeddedBoundFigures;
  } finally {
    await child.stop();
  }
}

// A module `sum(from, to) -> f32` over the imported memory: four f32x4 accumulators, 64 bytes a step.
function readPassModule(): Uint8Array {
  const section = (id: number, content: number[]): number[] => {
    const size: number[] = [];
    let n = content.length;
    do {
      size.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n > 0);
    return [id, ...size, ...content];
  };
  const text = (s: string): number[] => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
  const add4 = [0xfd, 0xe4, 0x01];
  const step = (acc: number, offset: number): number[] => [0x20, acc, 0x20, 0, 0xfd, 0x00, 0x04, offset, ...add4, 0x21, acc];
  const body = [
    0x01, 0x04, 0x7b, // four v128 locals (2..5)
    0x03, 0x40, // loop
    ...step(2, 0), ...step(3, 16), ...step(4, 32), ...step(5, 48),
    0x20, 0, 0x41, 0xc0, 0x00, 0x6a, 0x22, 0, // from += 64
    0x20, 1, 0x49, 0x0d, 0, // br_if from < to
    0x0b,
    0x20, 2, 0x20, 3, ...add4, 0x20, 4, 0x20, 5, ...add4, ...add4, 0xfd, 0x1f, 0x00,
    0x0b,
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7d]),
    ...section(2, [0x01, ...text("env"), ...text("mem"), 0x02, 0x00, 0x01]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, ...text("sum"), 0x00, 0x00]),
    ...section(10, [0x01, body.length, ...body]),
  ]);
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: { sum: (from: number, to: number) => number } };
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
}

function best(passes: number, run: () => number): number {
  let bestMs = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let i = 0; i < passes; i++) {
    const t0 = performance.now();
    sink += run();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  if (sink === 42.4242) console.error("(unlikely)"); // keeps the sums alive
  return bestMs;
}

function jsReadPass(floats: number): number {
  const data = new Float32Array(floats);
  for (let i = 0; i < floats; i++) data[i] = (i % 1024) / 1024;
  return best(7, () => {
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    const n = data.length - (data.length % 4);
    for (let i = 0; i < n; i += 4) {
      a += data[i] as number;
      b += data[i + 1] as number;
      c += data[i + 2] as number;
      d += data[i + 3] as number;
    }
    return a + b + c + d;
  });
}

function wasmReadPass(floats: number): number {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined || !simdAvailable()) return Number.NaN;
  const bytes = floats * 4;
  const memory = new wasm.Memory({ initial: Math.ceil((bytes + 64) / 65536) });
  const data = new Float32Array(memory.buffer, 0, floats);
  for (let i = 0; i < floats; i++) data[i] = (i % 1024) / 1024;
  const { sum } = new wasm.Instance(new wasm.Module(readPassModule()), { env: { mem: memory } }).exports;
  const end = bytes - (bytes % 64);
  return best(7, () => sum(0, end));
}

async function childMain(): Promise<void> {
  const [items, dim, queries] = process.argv.slice(2).map(Number);
  if (!items || !dim || !queries || process.send === undefined) throw new Error("usage: (forked) embedded-bound.ts <items> <dim> <queries>");
  const gc = (globalThis as { gc?: () => void }).gc;
  const settle = (): number => {
    gc?.();
    gc?.();
    return process.memoryUsage().rss;
  };
  const data = floorData(items, dim);
  const store = createEmbeddedStore({ scanThreads: 0 });
  const spec = floorSpec("bound", dim, "FLAT");
  await store.createIndex(spec);
  const rss0 = settle();
  for (const batch of data.batches(1000)) await store.upsert(spec.name, batch);
  const rss1 = settle();
  const shared = createEmbeddedStore({ scanThreads: DEFAULT_SCAN_THREADS });
  await shared.createIndex(spec);
  for (const batch of data.batches(1000)) await shared.upsert(spec.name, batch);

  const search = (on: typeof store, i: number) =>
    on.search(spec.name, {
      vector: data.queries[i % data.queries.length],
      k: 10,
      offset: 0,
      filter: MATCH_ALL,
      includeVectors: false,
    });
  for (let i = 0; i < Math.min(10, queries); i++) {
    await search(store, i);
    await search(shared, i);
  }
  /** ms of one search. */
  const timed = async (on: typeof store, i: number): Promise<number> => {
    const t0 = performance.now();
    await search(on, i);
    return performance.now() - t0;
  };
  const scanMs: number[] = [];
  for (let i = 0; i < queries; i++) scanMs.push(await timed(store, i));
  const alternatedMs: number[] = [];
  const sharedMs: number[] = [];
  for (let i = 0; i < queries; i++) {
    alternatedMs.push(await timed(store, i));
    sharedMs.push(await timed(shared, i));
  }
  scanMs.sort((a, b) => a - b);
  alternatedMs.sort((a, b) => a - b);
  sharedMs.sort((a, b) => a - b);
  // Searches a second with `callers` searches at once, on each store in turn (scan-threads.ts: a search
  // alone or with one other shares its scan; more keep to the main thread and share the caches there).
  const rate = async (on: typeof store, callers: number): Promise<number> => {
    let next = 0;
    const total = Math.max(callers * 4, queries);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (next < total) await search(on, next++);
      }),
    );
    return total / ((performance.now() - t0) / 1000);
  };
  const concurrent: { callers: number; oneThread: number; shared: number }[] = [];
  for (const callers of CONCURRENT_CALLERS) {
    const oneThread: number[] = [];
    const sharing: number[] = [];
    for (let round = 0; round < 2; round++) {
      oneThread.push(await rate(store, callers));
      sharing.push(await rate(shared, callers));
    }
    concurrent.push({ callers, oneThread: medianOf(oneThread), shared: medianOf(sharing) });
  }
  await shared.close();
  const jsReadMs = jsReadPass(items * dim);
  const wasmReadMs = wasmReadPass(items * dim);
  const figures: EmbeddedBoundFigures = {
    items,
    dim,
    gcExposed: gc !== undefined,
    rssBytesPerVector: (rss1 - rss0) / items,
    scanMedianMs: median(scanMs),
    scanP95Ms: quantile(scanMs, 0.95),
    alternatedScanMedianMs: median(alternatedMs),
    sharedScanMedianMs: median(sharedMs),
    sharedScanP95Ms: quantile(sharedMs, 0.95),
    sharedThreads: DEFAULT_SCAN_THREADS,
    concurrent,
    jsReadMs,
    wasmReadMs,
    engineSimd: simdAvailable(),
  };
  process.send(figures);
  process.on("message", () => process.exit(0));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  childMain().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
