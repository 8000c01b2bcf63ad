/**
 * Contract: KNN ranking under the three metrics (distances checked against float64 references),
 * ties and id order, k, pre-filtering, excluded ids, returned fields and cancellation.
 */
import { describe, expect, it } from "vitest";
import { VecrecError } from "../../../src/domain/errors.js";
import { num, tags, text } from "../../support/field-values.js";
import { ALL, tagFilter } from "../../support/filter-builders.js";
import { bits, defaultFields, expectClose, expectedDistance, f32, filterOnly, ids, item, knn, tagField, vectorField } from "./builders.js";
import type { ContractContext } from "./context.js";

export function describeSearchRanking(ctx: ContractContext): void {
  describe("KNN", () => {
    const { store, createIndex } = ctx;

    const stored: [string, number[]][] = [
      ["a", [1, 2, 3]],
      ["b", [-1, 0.5, 2]],
      ["c", [0.3, -0.7, 0.1]],
      ["d", [0.6, 0.8, 0]],
      ["e", [2, -1, 0.4]],
    ];
    const queries = [
      [0.5, 1.5, -1],
      [0.8, 0.6, 0],
      [-0.25, 0.1, 0.9],
    ];

    for (const metric of ["L2", "IP", "COSINE"] as const) {
      it(`ranks by the Redis ${metric} distance, closest first`, async () => {
        const spec = await createIndex(`knn_${metric}`, [vectorField(3, metric), tagField("labels")]);
        await store.upsert(spec.name, stored.map(([id, v]) => item(id, v)));
        for (const q of queries) {
          const expected = stored
            .map(([id, v]) => ({ id, distance: expectedDistance(metric, v, q) }))
            .sort((x, y) => x.distance - y.distance);
          const result = await store.search(spec.name, knn(q, 3));
          expect(result.totalMatches).toBe(3);
          expect(ids(result)).toEqual(expected.slice(0, 3).map((e) => e.id));
          result.hits.forEach((hit, i) => expectClose(hit.distance, expected[i]?.distance ?? NaN, `${metric} ${hit.id}`));
          const all = await store.search(spec.name, knn(q, 10));
          expect(ids(all)).toEqual(expected.map((e) => e.id));
          expect(all.totalMatches).toBe(5);
        }
      });
    }

    it("ranks with an HNSW index too (exact on a tiny set)", async () => {
      const spec = await createIndex("knn_hnsw", [vectorField(3, "L2", "HNSW")]);
      await store.upsert(spec.name, stored.map(([id, v]) => item(id, v)));
      const q = queries[0] ?? [];
      const expected = stored
        .map(([id, v]) => ({ id, distance: expectedDistance("L2", v, q) }))
        .sort((x, y) => x.distance - y.distance);
      const result = await store.search(spec.name, knn(q, 2));
      expect(ids(result)).toEqual(expected.slice(0, 2).map((e) => e.id));
      result.hits.forEach((hit, i) => expectClose(hit.distance, expected[i]?.distance ?? NaN));
    });

    it("reports an IP distance that can be negative and COSINE of scaled copies equal", async () => {
      const ip = await createIndex("knn_ipneg", [vectorField(3, "IP")]);
      await store.upsert(ip.name, [item("big", [10, 20, 30]), item("small", [1, 2, 3])]);
      const r = await store.search(ip.name, knn([0.5, 1.5, -1], 2));
      expect(ids(r)).toEqual(["big", "small"]);
      expectClose(r.hits[0]?.distance ?? NaN, -4);
      expectClose(r.hits[1]?.distance ?? NaN, 0.5);

      const cos = await createIndex("knn_cosscale", [vectorField(3, "COSINE")]);
      await store.upsert(cos.name, [item("big", [10, 20, 30]), item("small", [1, 2, 3]), item("other", [-1, 0.5, 2])]);
      const c = await store.search(cos.name, knn([0.5, 1.5, -1], 3));
      expect(c.hits[2]?.id).toBe("other");
      expectClose(c.hits[0]?.distance ?? NaN, 0.928571428571);
      expectClose(c.hits[1]?.distance ?? NaN, 0.928571428571);
    });

    it("lists NaN distances (zero vectors under COSINE) last, and leaves them out under a filter or exclusion", async () => {
      // Redis 8.0.2 (shared/conformance/README.md): a plain KNN returns a NaN-distance row last, a
      // hybrid (pre-filtered) KNN returns nothing for it.
      const spec = await createIndex("knn_nan", [tagField("labels"), vectorField(2, "COSINE")]);
      await store.upsert(spec.name, [
        item("zero", [0, 0], { labels: tags("x") }),
        item("a", [1, 0], { labels: tags("x") }),
        item("b", [0, 1], { labels: tags("y") }),
      ]);
      const plain = await store.search(spec.name, knn([1, 0.5], 5));
      expect(ids(plain)).toEqual(["a", "b", "zero"]);
      expect(Number.isNaN(plain.hits[2]?.distance)).toBe(true);
      const filtered = await store.search(spec.name, knn([1, 0.5], 5, { filter: tagFilter("labels", "x") }));
      expect(ids(filtered)).toEqual(["a"]);
      expect(filtered.totalMatches).toBe(1);
      const excluding = await store.search(spec.name, knn([1, 0.5], 5, { excludeIds: ["b"] }));
      expect(ids(excluding)).toEqual(["a"]);
      // A zero query vector: every distance is NaN.
      expect(ids(await store.search(spec.name, knn([0, 0], 5)))).toEqual(["a", "b", "zero"]);
      const none = await store.search(spec.name, knn([0, 0], 5, { filter: tagFilter("labels", "x", "y") }));
      expect(none.hits).toEqual([]);
      expect(none.totalMatches).toBe(0);
    });

    it("orders equal distances by id ascending", async () => {
      const spec = await createIndex("knn_ties", [vectorField(2, "L2")]);
      await store.upsert(spec.name, [
        item("m", [1, 1]),
        item("b", [1, 1]),
        item("z", [0, 0]),
        item("a", [1, 1]),
        item("k", [3, 3]),
      ]);
      const r = await store.search(spec.name, knn([0, 0], 5));
      expect(ids(r)).toEqual(["z", "a", "b", "m", "k"]);
      const top2 = await store.search(spec.name, knn([0, 0], 2));
      expect(ids(top2)).toEqual(["z", "a"]);
      // A tie straddling k keeps the smallest ids.
      const top3 = await store.search(spec.name, knn([1, 1], 3));
      expect(ids(top3)).toEqual(["a", "b", "m"]);
    });

    it("orders ids by UTF-8 bytes (Redis's order) in KNN ties and filter-only pages alike", async () => {
      // "\uFF01" < "\u{1F600}" in UTF-8 (EF BC 81 < F0 9F 98 80) but not in UTF-16 code units.
      const spec = await createIndex("id_order", [vectorField(2, "L2")]);
      const expected = ["a", "\u00e9", "\uFF01", "\uFF01x", "\u{1F600}"];
      await store.upsert(spec.name, [...expected].reverse().map((id) => item(id, [1, 1])));
      expect(ids(await store.search(spec.name, knn([0, 0], 5)))).toEqual(expected);
      expect(ids(await store.search(spec.name, knn([0, 0], 3)))).toEqual(expected.slice(0, 3));
      expect(ids(await store.search(spec.name, filterOnly(ALL, 5)))).toEqual(expected);
      expect(ids(await store.search(spec.name, filterOnly(ALL, 2, 2)))).toEqual(expected.slice(2, 4));
    });

    it("returns every match when k exceeds them, and totalMatches = min(k, matches)", async () => {
      const spec = await createIndex("knn_k", [vectorField(2, "L2"), tagField("grp")]);
      await store.upsert(
        spec.name,
        Array.from({ length: 12 }, (_, i) => item(`k${String(i).padStart(2, "0")}`, [i, 0], { grp: tags(i % 2 ? "odd" : "even") })),
      );
      const big = await store.search(spec.name, knn([0, 0], 100));
      expect(big.totalMatches).toBe(12);
      expect(big.hits).toHaveLength(12);
      const small = await store.search(spec.name, knn([0, 0], 4));
      expect(small.totalMatches).toBe(4);
      expect(ids(small)).toEqual(["k00", "k01", "k02", "k03"]);
      const filtered = await store.search(spec.name, knn([0, 0], 100, { filter: tagFilter("grp", "odd") }));
      expect(filtered.totalMatches).toBe(6);
      expect(ids(filtered)).toEqual(["k01", "k03", "k05", "k07", "k09", "k11"]);
    });

    it("applies the filter before KNN, so k neighbours come back when enough match", async () => {
      const spec = await createIndex("knn_prefilter", [vectorField(2, "L2"), tagField("grp")]);
      // The 20 nearest are all "near"; the "far" group is further away than all of them.
      await store.upsert(spec.name, [
        ...Array.from({ length: 20 }, (_, i) => item(`near${String(i).padStart(2, "0")}`, [i * 0.01, 0], { grp: tags("near") })),
        ...Array.from({ length: 3 }, (_, i) => item(`far${i}`, [100 + i, 0], { grp: tags("far") })),
      ]);
      const r = await store.search(spec.name, knn([0, 0], 2, { filter: tagFilter("grp", "far") }));
      expect(ids(r)).toEqual(["far0", "far1"]);
      expectClose(r.hits[0]?.distance ?? NaN, 10000);
      expectClose(r.hits[1]?.distance ?? NaN, 10201);
    });

    it("leaves out excluded ids before KNN, so k stays k", async () => {
      const spec = await createIndex("knn_exclude", [vectorField(2, "L2")]);
      await store.upsert(spec.name, [item("q", [0, 0]), item("a", [1, 0]), item("b", [2, 0]), item("c", [3, 0])]);
      const r = await store.search(spec.name, knn([0, 0], 2, { excludeIds: ["q"] }));
      expect(ids(r)).toEqual(["a", "b"]);
      expect(r.totalMatches).toBe(2);
      const r2 = await store.search(spec.name, knn([0, 0], 10, { excludeIds: ["q", "b", "unknown"] }));
      expect(ids(r2)).toEqual(["a", "c"]);
      expect(r2.totalMatches).toBe(2);
    });

    it("finds nothing in an empty index or when the filter matches nothing", async () => {
      const spec = await createIndex("knn_empty", [vectorField(2, "L2"), tagField("grp")]);
      const empty = await store.search(spec.name, knn([0, 0], 5));
      expect(empty).toEqual({ hits: [], totalMatches: 0 });
      await store.upsert(spec.name, [item("a", [1, 0], { grp: tags("x") })]);
      const none = await store.search(spec.name, knn([0, 0], 5, { filter: tagFilter("grp", "y") }));
      expect(none.hits).toEqual([]);
      expect(none.totalMatches).toBe(0);
    });

    it("returns only the requested fields, and vectors only when asked", async () => {
      const spec = await createIndex("knn_fields", defaultFields(2, "L2"));
      const a = item("a", [0.1, 0.2], { descr: text("hello world"), labels: tags("x", "y"), time: num(42) });
      await store.upsert(spec.name, [a]);
      const all = await store.search(spec.name, knn([0, 0], 1));
      expect(all.hits[0]?.item).toEqual({ id: "a", fields: a.fields });
      expect(all.hits[0]?.item.vector).toBeUndefined();

      const some = await store.search(spec.name, knn([0, 0], 1, { returnFields: ["time", "labels"] }));
      expect(some.hits[0]?.item.fields).toEqual({ time: num(42), labels: tags("x", "y") });

      const none = await store.search(spec.name, knn([0, 0], 1, { returnFields: [], includeVectors: true }));
      expect(none.hits[0]?.item.fields).toEqual({});
      expect(bits(none.hits[0]?.item.vector)).toEqual(bits(f32([0.1, 0.2])));
      expectClose(none.hits[0]?.distance ?? NaN, expectedDistance("L2", [0.1, 0.2], [0, 0]));

      const absent = await store.search(spec.name, knn([0, 0], 1, { returnFields: ["descr"] }));
      expect(absent.hits[0]?.item.fields).toEqual({ descr: text("hello world") });

      const page = await store.search(spec.name, filterOnly(ALL, 1, 0, { returnFields: ["descr"], includeVectors: true }));
      expect(page.hits[0]?.item.fields).toEqual({ descr: text("hello world") });
      expect(bits(page.hits[0]?.item.vector)).toEqual(bits(f32([0.1, 0.2])));
    });

    it("rejects a search whose signal is already aborted", async () => {
      const spec = await createIndex("knn_abort", [vectorField(2, "L2")]);
      await store.upsert(spec.name, [item("a", [1, 0])]);
      const controller = new AbortController();
      controller.abort();
      const error: unknown = await store.search(spec.name, knn([0, 0], 1, { signal: controller.signal })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(VecrecError);
      expect((error as VecrecError).kind).toBe("cancelled");
    });
  });
}
