/**
 * Rows of issue 15 (`--queries-items N`, 0 skips; on the embedded engine and each Redis backend):
 * - range vs KNN: the same query vectors as KNN k=10 and as a range search whose radius is each query's
 *   10th distance (so both return about 10 hits), interleaved; median latency and the ratio;
 * - FLOAT16 vs FLOAT32: the same vectors in a FLAT COSINE index of each type: bytes per stored vector
 *   (embedded: what its vector structures hold per row, from their layout, since process memory
 *   figures are too coarse at this size; Redis: INFO used_memory growth and FT.INFO
 *   vector_index_sz_mb, per item), and KNN k=10 median latency.
 * Filtered vs unfiltered recommendations and diversified Search: bench/shaping.ts.
 */
import { MATCH_ALL } from "../src/domain/filter/filter.js";
import { roundVector } from "../src/domain/element-type.js";
import type { IndexSpec, VectorElementType } from "../src/domain/schema.js";
import type { VectorStore } from "../src/store/vector-store.js";
import { createRandom, interleavedLatency, median } from "./stats.js";

export interface QueriesBenchRow {
  readonly backend: string;
  readonly knnMs: number;
  readonly rangeMs: number;
  readonly rangeHits: number;
  readonly types: { type: VectorElementType; bytesPerVector: number; indexBytesPerVector?: number; knnMs: number }[];
}

export interface QueriesBenchBackend {
  readonly name: string;
  readonly store: VectorStore;
  /** Redis: used_memory summed over primaries. Undefined: the embedded engine (bytes from its layout). */
  readonly memory?: () => Promise<number>;
  /** Redis: FT.INFO vector_index_sz_mb of an index, in bytes. */
  readonly vectorIndexBytes?: (index: string) => Promise<number>;
}

const K = 10;

/**
 * Bytes per row of the embedded engine's vector structures under COSINE: FLOAT32 keeps the normalised
 * row (4 d), its norm (4) and 2 bits per component (vector-arena.ts); FLOAT16 keeps the row and its
 * normalised copy, 2 bytes per component each (typed-rows.ts).
 */
function embeddedRowBytes(type: VectorElementType, dim: number): number {
  return type === "FLOAT32" ? 4 * dim + 4 + Math.ceil(dim / 4) : 2 * dim * 2;
}

function spec(name: string, dim: number, elementType: VectorElementType): IndexSpec {
  return { name, fields: [{ name: "vec", type: "vector", dimension: dim, algorithm: "FLAT", metric: "COSINE", elementType }] };
}

export async function benchQueries(backend: QueriesBenchBackend, items: number, dim: number, queries: number): Promise<QueriesBenchRow> {
  const random = createRandom(15);
  const vectors = Array.from({ length: items }, () => Float32Array.from({ length: dim }, () => random() * 2 - 1));
  const queryVectors = Array.from({ length: queries }, () => Float32Array.from({ length: dim }, () => random() * 2 - 1));
  const { store } = backend;
  const run = `${Date.now().toString(36)}`;
  const types: QueriesBenchRow["types"] = [];
  let knnMs = 0;
  let rangeMs = 0;
  let rangeHits = 0;
  for (const type of ["FLOAT32", "FLOAT16"] as const) {
    const name = `bq_${run}_${type}`;
    const before = (await backend.memory?.()) ?? 0;
    await store.createIndex(spec(name, dim, type));
    for (let i = 0; i < items; i += 1000) {
      await store.upsert(
        name,
        vectors.slice(i, i + 1000).map((v, j) => ({ id: `i${i + j}`, vector: roundVector(type, v), fields: {} })),
      );
    }
    const after = backend.memory === undefined ? embeddedRowBytes(type, dim) * items : await backend.memory();
    const indexBytes = backend.vectorIndexBytes === undefined ? undefined : await backend.vectorIndexBytes(name);
    const knn = (q: Float32Array) => store.search(name, { vector: roundVector(type, q), k: K, offset: 0, filter: MATCH_ALL, includeVectors: false });
    let at = 0;
    if (type === "FLOAT32") {
      const radii = await Promise.all(queryVectors.map(async (q) => (await knn(q)).hits[K - 1]?.distance ?? 0));
      let hits = 0;
      const [k, r] = await interleavedLatency(
        [
          () => knn(queryVectors[at++ % queries] as Float32Array),
          async () => {
            const i = at % queries;
            const result = await store.search(name, { vector: queryVectors[i], k: K, offset: 0, filter: MATCH_ALL, includeVectors: false, maxDistance: radii[i] });
            hits += result.hits.length;
          },
        ],
        queries,
        5,
      );
      knnMs = median(k as number[]);
      rangeMs = median(r as number[]);
      rangeHits = hits / (queries + 5);
    }
    const [typed] = await interleavedLatency([() => knn(queryVectors[at++ % queries] as Float32Array)], queries, 5);
    types.push({
      type,
      bytesPerVector: (after - before) / items,
      ...(indexBytes !== undefined && { indexBytesPerVector: indexBytes / items }),
      knnMs: median(typed as number[]),
    });
    await store.dropIndex(name, { deleteItems: true });
  }
  return { backend: backend.name, knnMs, rangeMs, rangeHits, types };
}

export function printQueries(rows: readonly QueriesBenchRow[], items: number, dim: number, out: (line?: string) => void): void {
  out(`## Range vs KNN (latency, ms; ${items} items x ${dim}, FLAT COSINE, k=${K}, radius = each query's ${K}th distance)`);
  out();
  out("| backend | KNN median | range median | range / KNN | hits per range query |");
  out("|---|---:|---:|---:|---:|");
  for (const r of rows) out(`| ${r.backend} | ${r.knnMs.toFixed(3)} | ${r.rangeMs.toFixed(3)} | ${(r.rangeMs / r.knnMs).toFixed(2)}x | ${r.rangeHits.toFixed(1)} |`);
  out();
  out(`## FLOAT16 vs FLOAT32 (${items} items x ${dim}, FLAT COSINE)`);
  out();
  out("| backend | type | bytes per vector (memory growth / items) | vector index bytes per vector (FT.INFO) | KNN k=10 median ms | vs FLOAT32 |");
  out("|---|---|---:|---:|---:|---:|");
  for (const r of rows) {
    const base = r.types.find((t) => t.type === "FLOAT32");
    for (const t of r.types) {
      const ratio = base === undefined ? "" : `${(t.bytesPerVector / base.bytesPerVector).toFixed(2)}x memory, ${(t.knnMs / base.knnMs).toFixed(2)}x latency`;
      out(`| ${r.backend} | ${t.type} | ${Math.round(t.bytesPerVector)} | ${t.indexBytesPerVector === undefined ? "-" : Math.round(t.indexBytesPerVector)} | ${t.knnMs.toFixed(3)} | ${ratio} |`);
    }
  }
  out();
}
