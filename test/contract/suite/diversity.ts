/**
 * Contract: MMR diversity on Search (SearchRequest.diversity), through the Search use case over the
 * store under test: 0 is plain KNN, 1 picks one hit per near-duplicate cluster, and a hand-computed
 * greedy MMR over float64 reference distances gives the same picks and scores.
 */
import { searchDraft } from "../../support/search-draft.js";
import { describe, expect, it } from "vitest";
import type { DistanceMetric } from "../../../src/domain/schema.js";
import { createSearchService, type SearchDraft } from "../../../src/usecases/search.js";
import { expectClose, expectedDistance, ids, item, knn, vectorField } from "./builders.js";
import type { ContractContext } from "./context.js";

const METRICS = ["L2", "IP", "COSINE"] as const;

function draft(indexName: string, vector: readonly number[], k: number, diversity?: number): SearchDraft {
  return searchDraft(indexName, { query: { vector: new Float32Array(vector) }, k, ...(diversity !== undefined && { diversity }) });
}

const sim = (metric: DistanceMetric, d: number): number => (metric === "L2" ? -d : 1 - d);

/** Greedy MMR written out from the proto's definition, over float64 reference distances. */
function referenceMmr(
  metric: DistanceMetric,
  stored: readonly [string, number[]][],
  q: readonly number[],
  k: number,
  diversity: number,
): { id: string; score: number }[] {
  const lambda = 1 - diversity;
  const pool = stored
    .map(([id, v]) => ({ id, v, d: expectedDistance(metric, v, q) }))
    .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1))
    .slice(0, Math.max(4 * k, 20));
  const chosen: { id: string; v: number[]; score: number }[] = [];
  while (chosen.length < Math.min(k, pool.length)) {
    let best: { id: string; v: number[]; score: number } | undefined;
    for (const c of pool) {
      if (chosen.some((x) => x.id === c.id)) continue;
      const redundancy = chosen.length === 0 ? 0 : Math.max(...chosen.map((x) => sim(metric, expectedDistance(metric, c.v, x.v))));
      const score = lambda * sim(metric, c.d) - (1 - lambda) * redundancy;
      if (best === undefined || score > best.score) best = { id: c.id, v: c.v, score };
    }
    if (best === undefined) break;
    chosen.push(best);
  }
  return chosen.map(({ id, score }) => ({ id, score }));
}

export function describeDiversity(ctx: ContractContext): void {
  describe("search diversity (MMR)", () => {
    const { store, createIndex } = ctx;
    const search = createSearchService(store);
    const at = (deg: number, r = 1): number[] => [r * Math.cos((deg * Math.PI) / 180), r * Math.sin((deg * Math.PI) / 180)];
    // Three clusters of near duplicates, 120 degrees apart; the query sits in cluster a.
    const clusters: [string, number[]][] = [
      ["a1", at(0)], ["a2", at(2)], ["a3", at(-3)],
      ["b1", at(120)], ["b2", at(123)], ["b3", at(118)],
      ["c1", at(240)], ["c2", at(242)], ["c3", at(237)],
    ];
    const q = at(0.5);

    for (const metric of METRICS) {
      it(`diversity 0 is plain KNN and diversity 1 picks one hit per near-duplicate cluster (${metric})`, async () => {
        const spec = await createIndex(`mmr_clusters_${metric}`, [vectorField(2, metric)]);
        await store.upsert(spec.name, clusters.map(([id, v]) => item(id, v)));

        const plain = await store.search(spec.name, knn(q, 3));
        expect(ids(plain)).toEqual(["a1", "a2", "a3"]);
        const zero = await search.search(draft(spec.name, q, 3, 0));
        expect(zero.hits).toEqual(plain.hits);
        expect(zero.diversityPool).toBeUndefined();
        expect(zero.hits.every((h) => h.mmrScore === undefined)).toBe(true);

        const spread = await search.search(draft(spec.name, q, 3, 1));
        expect(spread.hits.map((h) => h.id[0]).sort()).toEqual(["a", "b", "c"]);
        expect(spread.hits[0]?.id).toBe("a1"); // the first pick is the closest
        expect(spread.diversityPool).toBe(clusters.length); // max(4k, 20) > 9 items: all of them
        expect(spread.totalMatches).toBe(3);
        // Distances are still the distances to the query, and vectors come back only when asked.
        spread.hits.forEach((h) => {
          expectClose(h.distance, expectedDistance(metric, clusters.find(([id]) => id === h.id)?.[1] ?? [], q), h.id);
          expect(h.item.vector).toBeUndefined();
        });
        // Around a stored item: the item is left out, and the picks still spread over the clusters.
        const around = await search.search({ ...draft(spec.name, q, 3, 1), query: { itemId: "a1" } });
        expect(around.hits.map((h) => h.id)).not.toContain("a1");
        expect(around.hits.map((h) => h.id[0]).sort()).toEqual(["a", "b", "c"]);
        const withVectors = await search.search({ ...draft(spec.name, q, 3, 1), includeVectors: true });
        expect(withVectors.hits.every((h) => h.item.vector?.length === 2)).toBe(true);
      });

      it(`matches a hand-computed greedy MMR (${metric})`, async () => {
        const stored: [string, number[]][] = [
          ["p", [1, 2, 3]],
          ["q", [-1, 0.5, 2]],
          ["r", [0.3, -0.7, 0.1]],
          ["s", [0.6, 0.8, 0]],
          ["t", [2, -1, 0.4]],
          ["u", [0.5, 1.4, -0.9]],
          ["v", [1.1, 2.1, 2.7]],
        ];
        const query = [0.4, 1.2, 0.8];
        const spec = await createIndex(`mmr_ref_${metric}`, [vectorField(3, metric)]);
        await store.upsert(spec.name, stored.map(([id, v]) => item(id, v)));
        for (const diversity of [0.3, 0.7]) {
          const expected = referenceMmr(metric, stored, query, 4, diversity);
          const got = await search.search(draft(spec.name, query, 4, diversity));
          expect(got.hits.map((h) => h.id), `${metric} diversity ${diversity}`).toEqual(expected.map((e) => e.id));
          got.hits.forEach((h, i) => expectClose(h.mmrScore ?? NaN, expected[i]?.score ?? NaN, `${metric} ${h.id} mmr score`));
        }
      });
    }
  });
}
