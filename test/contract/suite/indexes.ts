/**
 * Contract: creating, describing, listing and dropping indexes (with or without their data), and
 * setting interests on an index.
 */
import { describe, expect, it } from "vitest";
import { AlreadyExistsError } from "../../../src/domain/errors.js";
import type { FieldSpec, InterestSpec } from "../../../src/domain/schema.js";
import { num, tags, text } from "../../support/field-values.js";
import { ALL, tagFilter } from "../../support/filter-builders.js";
import { bits, defaultFields, expectIndexNotFound, f32, filterOnly, ids, item, numericField, sortedBy, tagField, textField, vectorField } from "./builders.js";
import type { ContractContext } from "./context.js";

export function describeIndexes(ctx: ContractContext): void {
  describe("indexes", () => {
    const { store, runId, createIndex, waitUntilIndexed } = ctx;

    it("creates an index and describes it", async () => {
      const spec = await createIndex("create", defaultFields(3));
      const info = await store.getIndex(spec.name);
      expect(info.spec).toEqual(spec);
      expect(info.itemCount).toBe(0);
      expect(info.indexingFailures).toBe(0);
    });

    it("answers getIndexSpec with the spec as created, then as changed, and IndexNotFoundError once dropped", async () => {
      const spec = await createIndex("spec", defaultFields(3));
      expect(await store.getIndexSpec(spec.name)).toEqual(spec);
      const interests: InterestSpec = { categoryNames: ["a", "b", "c"], threshold: 0.4, tagField: "interests" };
      const changed = (await store.setInterests(spec.name, interests)).spec;
      expect(await store.getIndexSpec(spec.name)).toEqual(changed);
      await store.dropIndex(spec.name, { deleteItems: true });
      await expectIndexNotFound(store.getIndexSpec(spec.name));
    });

    it("round-trips every field type and an HNSW vector spec", async () => {
      const fields: FieldSpec[] = [
        textField("title"),
        { name: "body", type: "text", weight: 2.5 },
        tagField("codes", { separator: ";" }),
        tagField("ctag", { caseSensitive: true }),
        numericField("price"),
        vectorField(4, "IP", "HNSW", "embedding"),
      ];
      const spec = await createIndex("types", fields);
      expect((await store.getIndex(spec.name)).spec).toEqual(spec);
    });

    it("is idempotent on an equal spec and refuses another spec under the same name", async () => {
      const spec = await createIndex("idem", defaultFields(3));
      await store.upsert(spec.name, [item("a", [1, 0, 0])]);
      const again = await store.createIndex({ name: spec.name, fields: defaultFields(3) });
      expect(again.created).toBe(false);
      expect(again.info.spec).toEqual(spec);
      expect(again.info.itemCount).toBe(1);
      await expect(store.createIndex({ name: spec.name, fields: defaultFields(4) })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      await expect(store.createIndex({ name: spec.name, fields: defaultFields(3, "L2") })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      // The existing index is untouched.
      expect((await store.getIndex(spec.name)).spec).toEqual(spec);
    });

    it("lists indexes sorted by name", async () => {
      const b = await createIndex("list_b", defaultFields(2));
      const a = await createIndex("list_a", defaultFields(2));
      const listed = (await store.listIndexes()).map((info) => info.spec.name);
      const ours = listed.filter((indexName) => indexName === a.name || indexName === b.name);
      expect(ours).toEqual([a.name, b.name].sort());
      const mine = listed.filter((indexName) => indexName.startsWith(`ct_${runId}_`));
      expect(mine).toEqual(sortedBy(mine, (x) => x));
    });

    it("drops an index and deletes its items and interactions with deleteItems", async () => {
      const spec = await createIndex("dropdel", defaultFields(2));
      await store.upsert(spec.name, [item("a", [1, 0]), item("b", [0, 1])]);
      await store.recordInteractions(spec.name, [
        { userId: "u", itemId: "a", kind: "view", weight: 1, occurredAtMs: 1000 },
      ]);
      await store.dropIndex(spec.name, { deleteItems: true });
      await expectIndexNotFound(store.getIndex(spec.name));
      expect((await store.listIndexes()).map((i) => i.spec.name)).not.toContain(spec.name);

      await store.createIndex(spec);
      await waitUntilIndexed(spec.name);
      expect((await store.getIndex(spec.name)).itemCount).toBe(0);
      expect(await store.getItems(spec.name, ["a", "b"], { includeVectors: false })).toEqual([undefined, undefined]);
      expect((await store.getInteractions(spec.name, "u", { offset: 0, limit: 10 })).totalCount).toBe(0);
    });

    it("creates a new index ready at once, not indexing, while other indexes' items are stored", async () => {
      // Redis would scan every key of the database for a new index (vecrec skips that scan when no item
      // of the index is stored, Redis: index-operations.ts); here 300 other items are there to scan.
      const other = await createIndex("populated", defaultFields(2));
      await store.upsert(other.name, Array.from({ length: 300 }, (_, i) => item(`o${i}`, [1, i])));
      const fresh = await createIndex("fresh", defaultFields(2));
      expect(await store.getIndex(fresh.name)).toMatchObject({ indexing: false, indexingProgress: 1, itemCount: 0 });
      await store.upsert(fresh.name, [item("a", [1, 0]), item("b", [0, 1])]);
      expect(await store.getIndex(fresh.name)).toMatchObject({ indexing: false, itemCount: 2 });
    });

    it("keeps the data of an index dropped without deleteItems, and a new index of that name finds it", async () => {
      const spec = await createIndex("dropkeep", defaultFields(2));
      await store.upsert(spec.name, [
        item("a", [1, 0], { labels: tags("x"), time: num(5) }),
        item("b", [0, 1], { descr: text("kept text") }),
      ]);
      await store.recordInteractions(spec.name, [
        { userId: "u", itemId: "a", kind: "like", weight: 2, occurredAtMs: 1000 },
      ]);
      await store.dropIndex(spec.name, { deleteItems: false });
      await expectIndexNotFound(store.getIndex(spec.name));
      await expectIndexNotFound(store.search(spec.name, filterOnly(ALL, 10)));

      await store.createIndex(spec);
      await waitUntilIndexed(spec.name);
      expect((await store.getIndex(spec.name)).itemCount).toBe(2);
      const [a, b] = await store.getItems(spec.name, ["a", "b"], { includeVectors: true });
      expect(a?.fields).toEqual({ labels: tags("x"), time: num(5) });
      expect(bits(a?.vector)).toEqual(bits(f32([1, 0])));
      expect(b?.fields).toEqual({ descr: text("kept text") });
      expect(ids(await store.search(spec.name, filterOnly(tagFilter("labels", "x"), 10)))).toEqual(["a"]);
      const page = await store.getInteractions(spec.name, "u", { offset: 0, limit: 10 });
      expect(page.interactions).toEqual([{ userId: "u", itemId: "a", kind: "like", weight: 2, occurredAtMs: 1000 }]);
    });

    it("sets, changes and removes interests, adding the tag field to the schema once", async () => {
      const spec = await createIndex("interests", defaultFields(3));
      await store.upsert(spec.name, [item("a", [0.9, 0.1, 0.5], { labels: tags("x") })]);
      const interests: InterestSpec = { categoryNames: ["books", "comics", "computers"], threshold: 0.4, tagField: "interests" };
      const info = await store.setInterests(spec.name, interests);
      expect(info.spec.interests).toEqual(interests);
      expect(info.spec.fields).toEqual([...defaultFields(3), tagField("interests")]);
      expect((await store.getIndex(spec.name)).spec).toEqual(info.spec);

      const changed: InterestSpec = { ...interests, threshold: 0.7 };
      const info2 = await store.setInterests(spec.name, changed);
      expect(info2.spec.interests).toEqual(changed);
      expect(info2.spec.fields).toEqual([...defaultFields(3), tagField("interests")]);

      const removed = await store.setInterests(spec.name, undefined);
      expect(removed.spec.interests).toBeUndefined();
      expect(removed.spec.fields).toEqual([...defaultFields(3), tagField("interests")]);
      expect((await store.getIndex(spec.name)).spec).toEqual(removed.spec);

      // Items are not touched: the use case recomputes them.
      const [a] = await store.getItems(spec.name, ["a"], { includeVectors: false });
      expect(a?.fields).toEqual({ labels: tags("x") });
      expect(removed.itemCount).toBe(1);
    });

    it("marks the recompute of an index's interests with its new definition, until told it finished", async () => {
      const spec = await createIndex("recompute", defaultFields(3));
      const interests: InterestSpec = { categoryNames: ["books", "comics", "computers"], threshold: 0.4, tagField: "interests" };
      await store.setInterests(spec.name, interests, { recomputeTagField: "interests" });
      expect((await store.pendingInterestRecomputes()).get(spec.name)).toBe("interests");
      // The mark is not an index.
      expect((await store.listIndexes()).map((info) => info.spec.name).filter((name) => name.includes("recompute"))).toEqual([spec.name]);
      await store.interestsRecomputed(spec.name);
      expect((await store.pendingInterestRecomputes()).has(spec.name)).toBe(false);
      // Without a tag field to recompute, nothing is marked.
      await store.setInterests(spec.name, undefined);
      expect((await store.pendingInterestRecomputes()).has(spec.name)).toBe(false);
      // A mark goes with its index when the index is dropped (not left for an index created later).
      await store.setInterests(spec.name, interests, { recomputeTagField: "interests" });
      await store.dropIndex(spec.name, { deleteItems: true });
      expect((await store.pendingInterestRecomputes()).has(spec.name)).toBe(false);
    });

    it("writes interests into the tag field declared with the index", async () => {
      const interests: InterestSpec = { categoryNames: ["a", "b"], threshold: 0.4, tagField: "likes" };
      const spec = await createIndex("interests2", [vectorField(2), tagField("likes")], interests);
      await store.upsert(spec.name, [
        item("p", [0.9, 0.1], { likes: tags("a") }),
        item("q", [0.5, 0.5], { likes: tags("a", "b") }),
      ]);
      expect(ids(await store.search(spec.name, filterOnly(tagFilter("likes", "b"), 10)))).toEqual(["q"]);
      expect((await store.getIndex(spec.name)).spec.interests).toEqual(interests);
    });
  });
}
