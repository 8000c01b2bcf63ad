/**
 * Measures the embedded engine (not a test; vitest runs only *.test.ts):
 * - bytes of RSS per stored vector after GC (and per vector of the second half alone: the marginal cost) (items with no metadata, ids like "item:123456", the input
 *   vectors written into one reused buffer);
 * - exact KNN time (k = 10, no filter) against the memory-read bound measured in the same run: a
 *   WebAssembly SIMD sum (four accumulators) over as many bytes as the index's vectors.
 *
 *   node --expose-gc --import tsx test/unit/store/embedded/measure-embedded.ts [rows=100000] [metric=COSINE] [dim=128] [meta]
 *
 * With `meta`, each item also has a tag (one of 8 labels, "c0".."c7") and a numeric field, as in bench/;
 * the raw size of an item is then counted as its vector plus 8 bytes for the number and the tag's bytes.
 */
import { createEmbeddedStore } from "../../../../src/store/embedded/embedded-store.js";
import type { DistanceMetric } from "../../../../src/domain/schema.js";

const rows = Number(process.argv[2] ?? 100_000);
const metric = (process.argv[3] ?? "COSINE") as DistanceMetric;
const dim = Number(process.argv[4] ?? 128);
const withMetadata = process.argv[5] === "meta";
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

function collect(): void {
  for (let i = 0; i < 4; i++) gc?.();
}

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** A module exporting sum(ptr, end): f32, adding f32x4 loads of [ptr, end) into four accumulators. */
interface Wasm {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

function readBoundKernel(memory: { buffer: ArrayBuffer }): (ptr: number, end: number) => number {
  const load = (acc: number, offset: number): number[] => [0x20, acc, 0x20, 0, 0xfd, 0x00, 4, offset, 0xfd, 0xe4, 0x01, 0x21, acc];
  const code = [
    0x02, 0x40, 0x03, 0x40,
    0x20, 0, 0x20, 1, 0x4f, 0x0d, 1,
    ...load(2, 0), ...load(3, 16), ...load(4, 32), ...load(5, 48),
    0x20, 0, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0,
    0x0c, 0, 0x0b, 0x0b,
    0x20, 2, 0x20, 3, 0xfd, 0xe4, 0x01, 0x20, 4, 0xfd, 0xe4, 0x01, 0x20, 5, 0xfd, 0xe4, 0x01, 0xfd, 0x1f, 0,
    0x0b,
  ];
  const fn = [1, 4, 0x7b, ...code];
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    1, 7, 1, 0x60, 2, 0x7f, 0x7f, 1, 0x7d,
    2, 12, 1, 3, 0x65, 0x6e, 0x76, 3, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01,
    3, 2, 1, 0,
    7, 7, 1, 3, 0x73, 0x75, 0x6d, 0x00, 0,
    10, fn.length + 2, 1, fn.length, ...fn,
  ]);
  const instance = new wasm.Instance(new wasm.Module(bytes), { env: { mem: memory } });
  return instance.exports.sum as (ptr: number, end: number) => number;
}

async function main(): Promise<void> {
  const next = random(12345);
  collect();
  const before = process.memoryUsage();
  const rssBefore = before.rss;
  const store = createEmbeddedStore();
  await store.createIndex({
    name: "m",
    fields: [
      { name: "grp", type: "tag", separator: ",", caseSensitive: false },
      { name: "time", type: "numeric" },
      { name: "vec", type: "vector", dimension: dim, algorithm: "FLAT", metric, elementType: "FLOAT32" },
    ],
  });
  const BATCH = 1000;
  let rssHalf = 0;
  // One input buffer for every batch (the store copies vectors): RSS then grows by what the store keeps.
  const input = new Float32Array(BATCH * dim);
  for (let start = 0; start < rows; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(rows, start + BATCH); i++) {
      const vector = input.subarray((i - start) * dim, (i - start + 1) * dim);
      for (let j = 0; j < dim; j++) vector[j] = next() * 2 - 1;
      batch.push({
        id: `item:${i}`,
        vector,
        fields: withMetadata
          ? { grp: { type: "tag" as const, values: [`c${i % 8}`] }, time: { type: "numeric" as const, value: i } }
          : {},
      });
    }
    await store.upsert("m", batch);
    if (start + BATCH === rows / 2) {
      collect();
      rssHalf = process.memoryUsage().rss;
    }
  }
  collect();
  const after = process.memoryUsage();
  const rssAfter = after.rss;
  const perVector = (rssAfter - rssBefore) / rows;
  // The second half's vectors alone: what each more vector costs, without the process's fixed growth.
  const marginalPerVector = (rssAfter - rssHalf) / (rows - rows / 2);
  const heapPerVector = (after.heapUsed - before.heapUsed) / rows;
  const externalPerVector = (after.external - before.external) / rows;

  const query = Float32Array.from({ length: dim }, () => next() * 2 - 1);
  const bytes = rows * dim * 4;
  const memory = new wasm.Memory({ initial: Math.ceil((bytes + 64) / 65536) });
  new Float32Array(memory.buffer, 0, bytes / 4).fill(0.5);
  for (let i = 0; i < bytes / 4; i += 1024) new Float32Array(memory.buffer)[i] = next();
  const sum = readBoundKernel(memory);
  // The KNN and the read bound alternate, so that other load on the machine hits both alike; the
  // fastest of each is reported with the medians.
  const runs = rows >= 1_000_000 ? 15 : 41;
  const knn: number[] = [];
  const bound: number[] = [];
  for (let r = 0; r < runs + 3; r++) {
    let t0 = performance.now();
    await store.search("m", { vector: query, k: 10, offset: 0, filter: { op: "all" }, includeVectors: false });
    if (r >= 3) knn.push(performance.now() - t0);
    t0 = performance.now();
    sum(0, bytes - (bytes % 64));
    if (r >= 3) bound.push(performance.now() - t0);
  }
  const knnMs = median(knn);
  const boundMs = median(bound);
  const knnMin = Math.min(...knn);
  const boundMin = Math.min(...bound);
  console.log(
    JSON.stringify({
      rows,
      dim,
      metric,
      bytesPerVector: Math.round(perVector),
      metadata: withMetadata,
      ratioToRaw: +(perVector / (dim * 4 + (withMetadata ? 10 : 0))).toFixed(2),
      marginalBytesPerVector: Math.round(marginalPerVector),
      jsHeapPerVector: Math.round(heapPerVector),
      externalPerVector: Math.round(externalPerVector),
      knnMs: +knnMs.toFixed(2),
      readBoundMs: +boundMs.toFixed(2),
      knnOverBound: +(knnMs / boundMs).toFixed(2),
      knnMinMs: +knnMin.toFixed(2),
      readBoundMinMs: +boundMin.toFixed(2),
      minKnnOverMinBound: +(knnMin / boundMin).toFixed(2),
    }),
  );
  await store.close();
}

await main();
