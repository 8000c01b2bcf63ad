/**
 * Contract: range search (`maxDistance`): every item within the radius in the metric's own units (L2
 * squared), closest first, capped at k, with a filter and exclusions, against float64 references.
 */
import { describe, expect, it } from "vitest";
import { tags } from "../../support/field-values.js";
import { tagFilter } from "../../support/filter-builders.js";
import { expectClose, expectedDistance, ids, item, knn, tagField, vectorField } from "./builders.js";
import type { ContractContext } from "./context.js";

export function describeRangeSearch(ctx: ContractContext): void {
  describe("range search", () => {
    const { store, createIndex } = ctx;
    const stored: [string, number[], string][] = [
      ["a", [1, 2, 3], "x"],
      ["b", [-1, 0.5, 2], "y"],
      ["c", [0.3, -0.7, 0.1], "x"],
      ["d", [0.6, 0.8, 0], "y"],
      ["e", [2, -1, 0.4], "x"],
      ["f", [0.5, 1.4, -0.9], "y"],
    ];
    const q = [0.5, 1.5, -1];

    for (const metric of ["L2", "IP", "COSINE"] as const) {
      it(`returns the items within the radius under ${metric}, closest first, capped at k`, async () => {
        const spec = await createIndex(`range_${metric}`, [vectorField(3, metric), tagField("labels")]);
        await store.upsert(spec.name, stored.map(([id, v, label]) => item(id, v, { labels: tags(label) })));
        const all = stored
          .map(([id, v, label]) => ({ id, label, distance: expectedDistance(metric, v, q) }))
          .sort((x, y) => x.distance - y.distance);
        // A radius halfway between the 3rd and 4th distances: exactly three inside.
        const third = all[2]?.distance ?? NaN;
        const fourth = all[3]?.distance ?? NaN;
        const radius = Math.max(0, (third + fourth) / 2);
        const inside = all.filter((e) => e.distance <= radius);
        const result = await store.search(spec.name, knn(q, 10, { maxDistance: radius }));
        expect(ids(result)).toEqual(inside.map((e) => e.id));
        expect(result.totalMatches).toBe(inside.length);
        result.hits.forEach((hit, i) => expectClose(hit.distance, inside[i]?.distance ?? NaN, `${metric} ${hit.id}`));

        const capped = await store.search(spec.name, knn(q, 2, { maxDistance: radius }));
        expect(ids(capped)).toEqual(inside.slice(0, 2).map((e) => e.id));
        expect(capped.totalMatches).toBe(Math.min(2, inside.length));

        const filtered = await store.search(spec.name, knn(q, 10, { maxDistance: radius, filter: tagFilter("labels", "x") }));
        expect(ids(filtered)).toEqual(inside.filter((e) => e.label === "x").map((e) => e.id));

        const excluded = await store.search(spec.name, knn(q, 10, { maxDistance: radius, excludeIds: [inside[0]?.id ?? ""] }));
        expect(ids(excluded)).toEqual(inside.slice(1).map((e) => e.id));
      });
    }

    it("takes the L2 radius as a squared distance, includes the boundary and returns nothing outside", async () => {
      const spec = await createIndex("range_l2sq", [vectorField(2, "L2")]);
      await store.upsert(spec.name, [item("p0", [0, 0]), item("p1", [1, 0]), item("p2", [0, 2]), item("p3", [3, 0])]);
      // Euclidean distance 2 is a squared distance of 4: p2 sits on the boundary and is in.
      expect(ids(await store.search(spec.name, knn([0, 0], 10, { maxDistance: 4 })))).toEqual(["p0", "p1", "p2"]);
      expect(ids(await store.search(spec.name, knn([0, 0], 10, { maxDistance: 3.999 })))).toEqual(["p0", "p1"]);
      expect(ids(await store.search(spec.name, knn([0, 0], 10, { maxDistance: 0 })))).toEqual(["p0"]);
      const none = await store.search(spec.name, knn([10, 10], 10, { maxDistance: 1 }));
      expect(none.hits).toEqual([]);
      expect(none.totalMatches).toBe(0);
    });

    it("compares the distance with the radius rounded to float32, as Redis does (FLOAT32)", async () => {
      const spec = await createIndex("range_f32", [vectorField(1, "L2")]);
      const x = Math.fround(Math.sqrt(0.1));
      await store.upsert(spec.name, [item("p", [x])]);
      const d = Math.fround(x * x); // 0.10000000149011612
      // 3e-9 below d is still d once rounded to float32; 1e-8 below is the float32 below it.
      expect(ids(await store.search(spec.name, knn([0], 10, { maxDistance: d - 3e-9 })))).toEqual(["p"]);
      expect(ids(await store.search(spec.name, knn([0], 10, { maxDistance: d - 1e-8 })))).toEqual([]);
    });

    it("leaves out zero vectors under COSINE (their distance is NaN)", async () => {
      const spec = await createIndex("range_nan", [vectorField(2, "COSINE")]);
      await store.upsert(spec.name, [item("zero", [0, 0]), item("one", [1, 0])]);
      expect(ids(await store.search(spec.name, knn([1, 0], 10, { maxDistance: 2 })))).toEqual(["one"]);
    });
  });
}
