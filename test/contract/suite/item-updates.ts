/**
 * Contract: updateItems (UpdateItems) changes stored items in place: fields set and removed, the vector
 * replaced, the rest kept; missing items reported or created; searches see the change.
 */
import { describe, expect, it } from "vitest";
import { num, tags, text } from "../../support/field-values.js";
import { tagFilter } from "../../support/filter-builders.js";
import { bits, defaultFields, f32, filterOnly, ids, item, knn } from "./builders.js";
import type { ContractContext } from "./context.js";

export function describeItemUpdates(ctx: ContractContext): void {
  describe("item updates", () => {
    const { store, createIndex } = ctx;

    it("sets and removes fields and keeps the rest, vector included", async () => {
      const spec = await createIndex("upd", defaultFields(2, "L2"));
      await store.upsert(spec.name, [item("a", [1, 2], { descr: text("old text"), labels: tags("x"), time: num(1) })]);
      const outcomes = await store.updateItems(
        spec.name,
        [{ id: "a", set: { labels: tags("y", "z"), time: num(5) }, remove: ["descr"] }],
        { createMissing: false },
      );
      expect(outcomes).toEqual(["updated"]);
      const [a] = await store.getItems(spec.name, ["a"], { includeVectors: true });
      expect(a?.fields).toEqual({ labels: tags("y", "z"), time: num(5) });
      expect(bits(a?.vector)).toEqual(bits(f32([1, 2])));
      expect(ids(await store.search(spec.name, filterOnly(tagFilter("labels", "z"), 10)))).toEqual(["a"]);
      expect(ids(await store.search(spec.name, filterOnly(tagFilter("labels", "x"), 10)))).toEqual([]);
    });

    it("replaces the vector only, and searches see the new one", async () => {
      const spec = await createIndex("updvec", defaultFields(2, "L2"));
      await store.upsert(spec.name, [item("a", [0, 0], { time: num(1) }), item("b", [10, 10])]);
      await store.updateItems(spec.name, [{ id: "a", vector: f32([10, 10.5]), set: {}, remove: [] }], { createMissing: false });
      const [a] = await store.getItems(spec.name, ["a"], { includeVectors: true });
      expect(a?.fields).toEqual({ time: num(1) });
      expect(bits(a?.vector)).toEqual(bits(f32([10, 10.5])));
      expect(ids(await store.search(spec.name, knn([10, 11], 1)))).toEqual(["a"]);
    });

    it("reports missing items without creating them, unless asked and given a vector", async () => {
      const spec = await createIndex("updmiss", defaultFields(2, "L2"));
      await store.upsert(spec.name, [item("a", [1, 1])]);
      const outcomes = await store.updateItems(
        spec.name,
        [
          { id: "ghost", set: { time: num(1) }, remove: [] },
          { id: "a", set: { time: num(2) }, remove: [] },
        ],
        { createMissing: false },
      );
      expect(outcomes).toEqual(["missing", "updated"]);
      expect(await store.getItems(spec.name, ["ghost"], { includeVectors: false })).toEqual([undefined]);
      const created = await store.updateItems(
        spec.name,
        [
          { id: "new", vector: f32([3, 4]), set: { labels: tags("n") }, remove: ["descr"] },
          { id: "novec", set: { time: num(1) }, remove: [] },
        ],
        { createMissing: true },
      );
      expect(created).toEqual(["created", "missing"]);
      const [n, nv] = await store.getItems(spec.name, ["new", "novec"], { includeVectors: true });
      expect(n?.fields).toEqual({ labels: tags("n") });
      expect(bits(n?.vector)).toEqual(bits(f32([3, 4])));
      expect(nv).toBeUndefined();
      expect((await store.getIndex(spec.name)).itemCount).toBe(2);
    });
  });
}
