/**
 * Contract: writing, reading, replacing, deleting and scanning items (vectors bit-exact), and the
 * interests tag's compare-and-set (interest-tags.ts).
 */
import { describe, expect, it } from "vitest";
import type { Item } from "../../../src/domain/item.js";
import { num, tags, text } from "../../support/field-values.js";
import { ALL, range, tagFilter } from "../../support/filter-builders.js";
import { bits, defaultFields, expectClose, f32, filterOnly, ids, item, knn, sortedBy } from "./builders.js";
import type { ContractContext } from "./context.js";
import { describeInterestTags } from "./interest-tags.js";

export function describeItems(ctx: ContractContext): void {
  describe("items", () => {
    const { store, createIndex } = ctx;

    it("reads items back in the order asked, undefined where missing", async () => {
      const spec = await createIndex("get", defaultFields(3));
      const a = item("a", [0.1, 0.2, 0.3], {
        descr: text("Loves fantasy novels, and manga!"),
        labels: tags("books", "comics"),
        time: num(1700000000),
      });
      const b = item("b", [-1.5, 0, 2e-7], { time: num(-2.5) });
      await store.upsert(spec.name, [a, b]);
      const got = await store.getItems(spec.name, ["b", "missing", "a"], { includeVectors: false });
      expect(got).toHaveLength(3);
      expect(got[0]).toEqual({ id: "b", fields: { time: num(-2.5) } });
      expect(got[0]?.vector).toBeUndefined();
      expect(got[1]).toBeUndefined();
      expect(got[2]?.id).toBe("a");
      expect(got[2]?.fields).toEqual(a.fields);
      expect((await store.getIndex(spec.name)).itemCount).toBe(2);
    });

    it("round-trips vectors bit-exact", async () => {
      const spec = await createIndex("bits", defaultFields(5, "L2"));
      const awkward = [0.1, -0, 1e-38, 3.4028234663852886e38, -123.456];
      await store.upsert(spec.name, [item("x", awkward)]);
      const [x] = await store.getItems(spec.name, ["x"], { includeVectors: true });
      expect(x?.vector).toBeInstanceOf(Float32Array);
      expect(bits(x?.vector)).toEqual(bits(f32(awkward)));
    });

    it("keeps ids with unicode and punctuation apart", async () => {
      const spec = await createIndex("ids", defaultFields(2, "L2"));
      const weird = ["user:1", "user 1", "Café-日本", "a,b|c{d}", "x.y@z"];
      await store.upsert(spec.name, weird.map((id, i) => item(id, [i, 0])));
      const got = await store.getItems(spec.name, weird, { includeVectors: true });
      expect(got.map((g) => g?.id)).toEqual(weird);
      expect(got.map((g) => g?.vector?.[0])).toEqual([0, 1, 2, 3, 4]);
      expect(ids(await store.search(spec.name, filterOnly(ALL, 10)))).toEqual(sortedBy(weird, (x) => x));
    });

    it("replaces items whole on upsert", async () => {
      const spec = await createIndex("replace", defaultFields(2, "L2"));
      await store.upsert(spec.name, [item("a", [1, 1], { descr: text("old"), labels: tags("x"), time: num(1) })]);
      await store.upsert(spec.name, [item("a", [2, 3], { time: num(2) })]);
      const [a] = await store.getItems(spec.name, ["a"], { includeVectors: true });
      expect(a?.fields).toEqual({ time: num(2) });
      expect(Array.from(a?.vector ?? [])).toEqual([2, 3]);
      expect((await store.getIndex(spec.name)).itemCount).toBe(1);
      // The old values no longer match.
      expect((await store.search(spec.name, filterOnly(tagFilter("labels", "x"), 10))).totalMatches).toBe(0);
      expect(ids(await store.search(spec.name, filterOnly(range("time", 2, 2), 10)))).toEqual(["a"]);
      const hit = (await store.search(spec.name, knn([2, 3], 1))).hits[0];
      expectClose(hit?.distance ?? NaN, 0);
    });

    it("deletes items, returning how many existed, with their interactions (as item and as user)", async () => {
      const spec = await createIndex("delete", defaultFields(2, "L2"));
      await store.upsert(spec.name, [item("a", [0, 0]), item("b", [1, 0]), item("c", [2, 0])]);
      await store.recordInteractions(spec.name, [
        { userId: "u", itemId: "a", kind: "view", weight: 1, occurredAtMs: 3000 },
        { userId: "u", itemId: "b", kind: "view", weight: 1, occurredAtMs: 2000 },
        { userId: "v", itemId: "a", kind: "purchase", weight: 1, occurredAtMs: 1000 },
        // Users are items too: deleting item "c" deletes the history of user "c".
        { userId: "c", itemId: "b", kind: "like", weight: 1, occurredAtMs: 500 },
        { userId: "b", itemId: "u", kind: "like", weight: 1, occurredAtMs: 400 },
      ]);
      expect(await store.deleteItems(spec.name, ["a", "nope", "c"])).toBe(2);
      expect(await store.deleteItems(spec.name, ["a"])).toBe(0);
      expect(await store.getItems(spec.name, ["a", "b", "c"], { includeVectors: false })).toEqual([
        undefined,
        { id: "b", fields: {} },
        undefined,
      ]);
      expect((await store.getIndex(spec.name)).itemCount).toBe(1);
      const hits = await store.search(spec.name, knn([0, 0], 10));
      expect(ids(hits)).toEqual(["b"]);
      expect(hits.totalMatches).toBe(1);
      const u = await store.getInteractions(spec.name, "u", { offset: 0, limit: 10 });
      expect(u.interactions.map((i) => i.itemId)).toEqual(["b"]);
      expect(u.totalCount).toBe(1);
      expect((await store.getInteractions(spec.name, "v", { offset: 0, limit: 10 })).totalCount).toBe(0);
      expect((await store.getInteractions(spec.name, "c", { offset: 0, limit: 10 })).totalCount).toBe(0);
      expect((await store.getInteractionsOfUsers(spec.name, ["b", "c"])).get("b")).toEqual([
        { userId: "b", itemId: "u", kind: "like", weight: 1, occurredAtMs: 400 },
      ]);
    });

    it("scans every item in batches, with vectors", async () => {
      const spec = await createIndex("scan", defaultFields(2, "L2"));
      const written = Array.from({ length: 23 }, (_, i) => item(`item${i}`, [i, -i], { time: num(i) }));
      await store.upsert(spec.name, written);
      const seen: Item[] = [];
      for await (const batch of store.scanItems(spec.name, 5)) {
        expect(batch.length).toBeGreaterThan(0);
        expect(batch.length).toBeLessThanOrEqual(5);
        seen.push(...batch);
      }
      expect(sortedBy(seen, (i) => i.id).map((i) => i.id)).toEqual(sortedBy(written, (i) => i.id).map((i) => i.id));
      for (const got of seen) {
        const original = written.find((w) => w.id === got.id);
        expect(bits(got.vector)).toEqual(bits(original?.vector));
        expect(got.fields).toEqual(original?.fields);
      }
    });

    describeInterestTags(ctx);

    it("scans an empty index without a batch", async () => {
      const spec = await createIndex("scanempty", defaultFields(2));
      const batches: Item[][] = [];
      for await (const batch of store.scanItems(spec.name, 10)) batches.push(batch);
      expect(batches.flat()).toEqual([]);
    });
  });
}
