/**
 * Contract: tag, numeric and text filters and their and/or/not combinations, on one catalog, each
 * checked filter-only and under KNN; filter-only paging.
 * Only behaviour Redis itself has is asserted: text matching uses stemming and stop words, tag matching
 * is case-insensitive (unless CASESENSITIVE) and trims values.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Item } from "../../../src/domain/item.js";
import type { IndexSpec } from "../../../src/domain/schema.js";
import type { SearchQuery } from "../../../src/store/vector-store.js";
import { num, tags, text } from "../../support/field-values.js";
import { ALL, and, not, or, range, tagFilter, textFilter } from "../../support/filter-builders.js";
import { expectClose, expectedDistance, filterOnly, ids, item, knn, numericField, sortedBy, tagField, textField, vectorField } from "./builders.js";
import type { ContractContext } from "./context.js";

export function describeFilters(ctx: ContractContext): void {
  describe("filters", () => {
    const { store, createIndex } = ctx;

    let spec: IndexSpec;
    const catalog: Item[] = [
      item("f1", [0.1, 0], {
        labels: tags("books", "sci-fi"),
        ctag: tags("Books"),
        descr: text("the quick brown fox"),
        n: num(10),
      }),
      item("f2", [0.2, 0.1], {
        labels: tags("comics", "new york"),
        ctag: tags("books"),
        descr: text("a lazy dog sleeps all day"),
        n: num(20),
      }),
      item("f3", [0.3, 0.3], {
        labels: tags("computers"),
        ctag: tags("BOOKS"),
        descr: text("quick thinking computers"),
        n: num(30),
      }),
      item("f4", [0.4, 0.2], { labels: tags("BOOKS", "comics"), ctag: tags("comics"), descr: text("quick brown dogs run"), n: num(40) }),
      item("f5", [0.5, 0.5], { labels: tags(" padded "), descr: text("she was running late for the meetings"), n: num(-5.5) }),
      item("f6", [0.6, 0.1], { ctag: tags("misc"), descr: text("nothing special here") }),
    ];

    beforeAll(async () => {
      spec = await createIndex("filters", [
        tagField("labels"),
        tagField("ctag", { caseSensitive: true }),
        textField("descr"),
        numericField("n"),
        vectorField(2, "L2"),
      ]);
      await store.upsert(spec.name, catalog);
    });

    /** Ids matching `filter`, by id (filter-only), checked against the same filter under KNN. */
    async function matching(filter: SearchQuery["filter"]): Promise<string[]> {
      const page = await store.search(spec.name, filterOnly(filter, 100));
      expect(page.totalMatches).toBe(page.hits.length);
      const nearest = await store.search(spec.name, knn([0, 0], 100, { filter }));
      expect(sortedBy(ids(nearest), (x) => x)).toEqual(ids(page));
      return ids(page);
    }

    it("matches any of several tag values, case-insensitively", async () => {
      expect(await matching(tagFilter("labels", "books"))).toEqual(["f1", "f4"]);
      expect(await matching(tagFilter("labels", "Books"))).toEqual(["f1", "f4"]);
      expect(await matching(tagFilter("labels", "books", "computers"))).toEqual(["f1", "f3", "f4"]);
      expect(await matching(tagFilter("labels", "new york"))).toEqual(["f2"]);
      expect(await matching(tagFilter("labels", "sci-fi"))).toEqual(["f1"]);
      expect(await matching(tagFilter("labels", "nothing"))).toEqual([]);
    });

    it("trims tag values", async () => {
      expect(await matching(tagFilter("labels", "padded"))).toEqual(["f5"]);
    });

    it("matches all of several tag values with an AND of tag filters", async () => {
      expect(await matching(and(tagFilter("labels", "books"), tagFilter("labels", "comics")))).toEqual(["f4"]);
    });

    it("keeps case on a case-sensitive tag field", async () => {
      expect(await matching(tagFilter("ctag", "books"))).toEqual(["f2"]);
      expect(await matching(tagFilter("ctag", "Books"))).toEqual(["f1"]);
      expect(await matching(tagFilter("ctag", "BOOKS", "comics"))).toEqual(["f3", "f4"]);
    });

    it("filters numeric ranges with inclusive, exclusive and unbounded sides", async () => {
      expect(await matching(range("n", 10, 30))).toEqual(["f1", "f2", "f3"]);
      expect(await matching(range("n", 10, 30, true, false))).toEqual(["f2", "f3"]);
      expect(await matching(range("n", 10, 30, false, true))).toEqual(["f1", "f2"]);
      expect(await matching(range("n", 10, 30, true, true))).toEqual(["f2"]);
      expect(await matching(range("n", -Infinity, 10))).toEqual(["f1", "f5"]);
      expect(await matching(range("n", 25, Infinity))).toEqual(["f3", "f4"]);
      expect(await matching(range("n", -Infinity, Infinity))).toEqual(["f1", "f2", "f3", "f4", "f5"]);
      expect(await matching(range("n", -5.5, -5.5))).toEqual(["f5"]);
      expect(await matching(range("n", 41, 50))).toEqual([]);
    });

    it("matches text words after stemming, every word required", async () => {
      expect(await matching(textFilter("descr", "quick"))).toEqual(["f1", "f3", "f4"]);
      expect(await matching(textFilter("descr", "QUICK"))).toEqual(["f1", "f3", "f4"]);
      expect(await matching(textFilter("descr", "dog"))).toEqual(["f2", "f4"]);
      expect(await matching(textFilter("descr", "runs"))).toEqual(["f4", "f5"]);
      expect(await matching(textFilter("descr", "meeting"))).toEqual(["f5"]);
      expect(await matching(textFilter("descr", "quick", "brown"))).toEqual(["f1", "f4"]);
      expect(await matching(textFilter("descr", "quick", "computer"))).toEqual(["f3"]);
      expect(await matching(textFilter("descr", "elephant"))).toEqual([]);
      // A stop word among real words is ignored, as Redis ignores it in a query.
      expect(await matching(textFilter("descr", "the", "quick", "brown"))).toEqual(["f1", "f4"]);
    });

    it("combines filters with and, or and not, nested", async () => {
      expect(await matching(or(tagFilter("labels", "computers"), range("n", 40, 40)))).toEqual(["f3", "f4"]);
      expect(await matching(not(tagFilter("labels", "books")))).toEqual(["f2", "f3", "f5", "f6"]);
      expect(await matching(and(textFilter("descr", "quick"), not(tagFilter("labels", "books"))))).toEqual(["f3"]);
      expect(
        await matching(
          or(and(tagFilter("labels", "comics"), range("n", -Infinity, 20)), and(textFilter("descr", "running"), not(range("n", 0, Infinity)))),
        ),
      ).toEqual(["f2", "f5"]);
      expect(await matching(not(or(tagFilter("labels", "books", "comics"), range("n", 0, Infinity))))).toEqual(["f5", "f6"]);
    });

    it("returns the nearest of the matches under KNN", async () => {
      const r = await store.search(spec.name, knn([0.45, 0.45], 2, { filter: textFilter("descr", "quick") }));
      expect(ids(r)).toEqual(["f3", "f4"]);
      expectClose(r.hits[0]?.distance ?? NaN, expectedDistance("L2", [0.3, 0.3], [0.45, 0.45]));
      expectClose(r.hits[1]?.distance ?? NaN, expectedDistance("L2", [0.4, 0.2], [0.45, 0.45]));
    });

    it("pages filter-only results by id", async () => {
      const first = await store.search(spec.name, filterOnly(ALL, 4));
      expect(ids(first)).toEqual(["f1", "f2", "f3", "f4"]);
      expect(first.totalMatches).toBe(6);
      expect(first.hits.every((h) => h.distance === 0)).toBe(true);
      const second = await store.search(spec.name, filterOnly(ALL, 4, 4));
      expect(ids(second)).toEqual(["f5", "f6"]);
      expect(second.totalMatches).toBe(6);
      const beyond = await store.search(spec.name, filterOnly(ALL, 4, 10));
      expect(beyond.hits).toEqual([]);
      expect(beyond.totalMatches).toBe(6);
      const middle = await store.search(spec.name, filterOnly(not(tagFilter("labels", "books")), 2, 1));
      expect(ids(middle)).toEqual(["f3", "f5"]);
      expect(middle.totalMatches).toBe(4);
      const excluded = await store.search(spec.name, filterOnly(ALL, 10, 0, { excludeIds: ["f2"] }));
      expect(ids(excluded)).toEqual(["f1", "f3", "f4", "f5", "f6"]);
    });
  });
}
