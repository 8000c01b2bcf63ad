/**
 * Rows of issue 15 on shaped answers (`--shaping-users N`, 0 skips; the embedded engine always, each
 * Redis backend when its URL is given), through the use cases over the store, each pair interleaved
 * call by call in one run so that the machine's load weighs on both alike:
 * - filtered vs unfiltered recommendations: Recommend (20 neighbours, limit 10) for the same users,
 *   without shaping vs with `item_index_name` (a catalogue of 2000 items, 8 genres) and an
 *   `item_filter` keeping 2 genres of 8 (so the catalogue is read for about 4x the candidates kept);
 * - diversified vs plain Search: KNN k=10 vs the same query with `diversity` 0.5 (MMR over a pool of
 *   max(4k, 20) = 40 hits fetched with their vectors).
 * The ratios (shaped median / plain median) are the figures; absolute latencies depend on the machine.
 */
import { searchDraft } from "../test/support/search-draft.js";
import type { FilterNode } from "../src/domain/filter/filter.js";
import { MATCH_ALL } from "../src/domain/filter/filter.js";
import type { Interaction } from "../src/domain/interaction.js";
import type { IndexSpec } from "../src/domain/schema.js";
import type { VectorStore } from "../src/store/vector-store.js";
import { createRecommender, type RecommendDraft } from "../src/usecases/recommend.js";
import { createSearchService, type SearchDraft } from "../src/usecases/search.js";
import { createRandom, fixed, interleavedLatency, median, quantile } from "./stats.js";

export interface ShapingRow {
  readonly backend: string;
  readonly users: number;
  readonly recommendMs: number;
  readonly recommendP95Ms: number;
  readonly filteredMs: number;
  readonly filteredP95Ms: number;
  /** Items per filtered answer (limit 10 unless the filter leaves fewer). */
  readonly filteredItems: number;
  readonly searchMs: number;
  readonly searchP95Ms: number;
  readonly diverseMs: number;
  readonly diverseP95Ms: number;
}

const CATALOG = 2000;
const GENRES = 8;
const HISTORY = 20;
const NEIGHBORS = 20;
const LIMIT = 10;
const K = 10;
const DIVERSITY = 0.5;

export async function benchShaping(backend: { name: string; store: VectorStore }, users: number, dim: number, calls: number): Promise<ShapingRow> {
  const { store } = backend;
  const random = createRandom(42);
  const run = Date.now().toString(36);
  const usersIndex: IndexSpec = {
    name: `bs_${run}_users`,
    fields: [{ name: "vec", type: "vector", dimension: dim, algorithm: "FLAT", metric: "COSINE", elementType: "FLOAT32" }],
  };
  const catalog: IndexSpec = {
    name: `bs_${run}_catalog`,
    fields: [
      { name: "genre", type: "tag", separator: ",", caseSensitive: false },
      { name: "vec", type: "vector", dimension: 2, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" },
    ],
  };
  await store.createIndex(usersIndex);
  await store.createIndex(catalog);
  try {
    for (let i = 0; i < users; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, users - i) }, (_, j) => ({
        id: `u${i + j}`,
        vector: Float32Array.from({ length: dim }, () => random() * 2 - 1),
        fields: {},
      }));
      await store.upsert(usersIndex.name, batch);
    }
    for (let i = 0; i < CATALOG; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, CATALOG - i) }, (_, j) => ({
        id: `item${i + j}`,
        vector: new Float32Array([i + j, 1]),
        fields: { genre: { type: "tag" as const, values: [`g${(i + j) % GENRES}`] } },
      }));
      await store.upsert(catalog.name, batch);
    }
    const now = Date.UTC(2026, 11, 1);
    for (let i = 0; i < users; i += 500) {
      const interactions: Interaction[] = [];
      for (let u = i; u < Math.min(users, i + 500); u++) {
        for (let h = 0; h < HISTORY; h++) {
          interactions.push({ userId: `u${u}`, itemId: `item${Math.floor(random() * CATALOG)}`, kind: "purchase", weight: 1, occurredAtMs: now - h * 60_000 });
        }
      }
      await store.recordInteractions(usersIndex.name, interactions);
    }
    // Redis indexes what was written in the background: wait until both indexes hold everything.
    for (const name of [usersIndex.name, catalog.name]) {
      for (let attempt = 0; attempt < 600 && (await store.getIndex(name)).indexing; attempt++) await new Promise((r) => setTimeout(r, 50));
    }

    const recommender = createRecommender(store);
    const search = createSearchService(store);
    const genres: FilterNode = { op: "tag", field: "genre", values: ["g0", "g1"] };
    const recommendDraft = (user: number, filtered: boolean): RecommendDraft => ({
      indexName: usersIndex.name,
      user: { userId: `u${user}` },
      neighborCount: NEIGHBORS,
      neighborFilter: MATCH_ALL,
      neighborFilterField: "neighbor_filter",
      limit: LIMIT,
      recencyHalfLifeSeconds: 0,
      includeOwned: false,
      nowMs: now,
      ...(filtered && { itemIndexName: catalog.name, itemFilter: genres, itemFilterField: "item_filter" as const }),
    });
    const queries = Array.from({ length: 64 }, () => Float32Array.from({ length: dim }, () => random() * 2 - 1));
    const draftOf = (q: number, diversity: number): SearchDraft =>
      searchDraft(usersIndex.name, { query: { vector: queries[q % queries.length] as Float32Array }, k: K, ...(diversity > 0 && { diversity }) });

    let r = 0;
    let filteredItems = 0;
    let filteredCalls = 0;
    const [plainRec, filteredRec] = await interleavedLatency(
      [
        () => recommender.recommend(recommendDraft(r++ % users, false)),
        async () => {
          const result = await recommender.recommend(recommendDraft(r % users, true));
          filteredItems += result.items.length;
          filteredCalls++;
        },
      ],
      calls,
      10,
    );
    let q = 0;
    const [plainSearch, diverseSearch] = await interleavedLatency(
      [() => search.search(draftOf(q++, 0)), () => search.search(draftOf(q, DIVERSITY))],
      calls,
      10,
    );
    return {
      backend: backend.name,
      users,
      recommendMs: median(plainRec as number[]),
      recommendP95Ms: quantile(plainRec as number[], 0.95),
      filteredMs: median(filteredRec as number[]),
      filteredP95Ms: quantile(filteredRec as number[], 0.95),
      filteredItems: filteredItems / Math.max(1, filteredCalls),
      searchMs: median(plainSearch as number[]),
      searchP95Ms: quantile(plainSearch as number[], 0.95),
      diverseMs: median(diverseSearch as number[]),
      diverseP95Ms: quantile(diverseSearch as number[], 0.95),
    };
  } finally {
    await store.dropIndex(usersIndex.name, { deleteItems: true });
    await store.dropIndex(catalog.name, { deleteItems: true });
  }
}

export function printShaping(rows: readonly ShapingRow[], dim: number, calls: number, out: (line?: string) => void): void {
  const users = rows[0]?.users ?? 0;
  out(
    `## Shaped answers vs plain ones (latency, ms, through the use cases; ${users} users x ${dim}, FLAT COSINE; ${calls} interleaved pairs per row)`,
  );
  out();
  out(
    `Recommend: ${NEIGHBORS} neighbours, ${HISTORY} purchases each over ${CATALOG} items, limit ${LIMIT}; filtered = \`item_index_name\` (the ${CATALOG}-item catalogue, ${GENRES} genres) + \`item_filter\` on 2 genres. Search: k=${K} vs \`diversity\` ${DIVERSITY} (MMR over the ${Math.max(4 * K, 20)} nearest, with vectors).`,
  );
  out();
  out("| backend | Recommend median (p95) | filtered Recommend median (p95) | filtered / plain | items per filtered answer | Search median (p95) | diversified Search median (p95) | diversified / plain |");
  out("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    out(
      `| ${r.backend} | ${fixed(r.recommendMs, 3)} (${fixed(r.recommendP95Ms, 3)}) | ${fixed(r.filteredMs, 3)} (${fixed(r.filteredP95Ms, 3)}) | ${fixed(r.filteredMs / r.recommendMs)}x | ${fixed(r.filteredItems, 1)} | ${fixed(r.searchMs, 3)} (${fixed(r.searchP95Ms, 3)}) | ${fixed(r.diverseMs, 3)} (${fixed(r.diverseP95Ms, 3)}) | ${fixed(r.diverseMs / r.searchMs)}x |`,
    );
  }
  out();
}
