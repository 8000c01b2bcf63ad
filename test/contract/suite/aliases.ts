/**
 * Contract: aliases (domain/alias.ts). Created, moved and deleted through the store; resolved by
 * getIndexSpec only, at once after every change (never from a stale copy); shown by getIndex and
 * listIndexes; refused where they would shadow an index or be silently broken by a drop. Then, through
 * the use cases over the store under test, every call that names an index accepts an alias.
 */
import { searchDraft } from "../../support/search-draft.js";
import { describe, expect, it } from "vitest";
import { AlreadyExistsError, AliasNotFoundError, FailedPreconditionError, InvalidArgumentError } from "../../../src/domain/errors.js";
import { MATCH_ALL } from "../../../src/domain/filter/filter.js";
import { createUseCases } from "../../../src/usecases/use-cases.js";
import { tags } from "../../support/field-values.js";
import { tagFilter } from "../../support/filter-builders.js";
import { defaultFields, expectIndexNotFound, ids, item, tagField, vectorField } from "./builders.js";
import type { ContractContext } from "./context.js";

export function describeAliases(ctx: ContractContext): void {
  describe("aliases", () => {
    const { store, createIndex, freshName } = ctx;

    it("creates an alias that getIndexSpec resolves, getIndex and listIndexes show, and moves it with effect on the next call", async () => {
      const a = await createIndex("al_a", defaultFields(2));
      const b = await createIndex("al_b", defaultFields(3));
      const alias = freshName("alias");
      try {
        expect(await store.createAlias(alias, a.name)).toEqual({ created: true });
        expect(await store.createAlias(alias, a.name)).toEqual({ created: false });
        expect((await store.getIndexSpec(alias)).name).toBe(a.name);
        expect((await store.getIndex(a.name)).aliases).toEqual([alias]);
        expect((await store.getIndex(b.name)).aliases ?? []).toEqual([]);
        const listed = await store.listIndexes();
        expect(listed.find((i) => i.spec.name === a.name)?.aliases).toEqual([alias]);
        // Moved: the very next resolution answers the new index (no cached copy of the alias).
        expect(await store.updateAlias(alias, b.name)).toEqual({ previousIndexName: a.name });
        expect(await store.getIndexSpec(alias)).toEqual(b);
        expect((await store.getIndex(b.name)).aliases).toEqual([alias]);
        expect((await store.getIndex(a.name)).aliases ?? []).toEqual([]);
        // Moved back and forth again, each answer at once.
        await store.updateAlias(alias, a.name);
        expect((await store.getIndexSpec(alias)).name).toBe(a.name);
        expect(await store.updateAlias(alias, a.name)).toEqual({ previousIndexName: a.name });
      } finally {
        expect(await store.deleteAlias(alias)).toEqual({ indexName: a.name });
      }
      await expectIndexNotFound(store.getIndexSpec(alias));
      await expect(store.deleteAlias(alias)).rejects.toBeInstanceOf(AliasNotFoundError);
      await expect(store.updateAlias(alias, a.name)).rejects.toBeInstanceOf(AliasNotFoundError);
    });

    it("keeps indexes and aliases in one namespace, points only to indexes, and refuses to drop through or under an alias", async () => {
      const a = await createIndex("al_ns", defaultFields(2));
      const other = await createIndex("al_other", defaultFields(2));
      const alias = freshName("alias_ns");
      const second = freshName("alias_ns2");
      await store.createAlias(alias, a.name);
      try {
        await expect(store.createAlias(other.name, a.name)).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.createIndex({ name: alias, fields: defaultFields(2) })).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.createAlias(alias, other.name)).rejects.toThrow(/points to index/);
        await expect(store.createAlias(second, alias)).rejects.toBeInstanceOf(FailedPreconditionError);
        await expect(store.updateAlias(alias, alias)).rejects.toBeInstanceOf(FailedPreconditionError);
        await expectIndexNotFound(store.createAlias(second, freshName("missing")));
        await expectIndexNotFound(store.updateAlias(alias, freshName("missing")));
        await expect(store.dropIndex(alias, { deleteItems: true })).rejects.toBeInstanceOf(FailedPreconditionError);
        await store.createAlias(second, a.name);
        const refused = store.dropIndex(a.name, { deleteItems: true });
        await expect(refused).rejects.toBeInstanceOf(FailedPreconditionError);
        await expect(refused).rejects.toThrow(alias);
        await expect(refused).rejects.toThrow(second);
        expect((await store.getIndex(a.name)).aliases).toEqual([alias, second].sort());
      } finally {
        await store.deleteAlias(second).catch(() => undefined);
        await store.deleteAlias(alias);
      }
      await store.dropIndex(a.name, { deleteItems: true });
      await expectIndexNotFound(store.getIndexSpec(a.name));
    });

    it("serves every call that names an index through an alias, resolved to the index's own name (use cases)", async () => {
      const useCases = createUseCases(store);
      const users = await createIndex("al_users", [vectorField(2, "L2"), tagField("labels")]);
      const items = await createIndex("al_items", [vectorField(2, "L2"), tagField("genre")]);
      const usersAlias = freshName("users_alias");
      const itemsAlias = freshName("items_alias");
      await store.createAlias(usersAlias, users.name);
      await store.createAlias(itemsAlias, items.name);
      try {
        const vector = (v: number[]) => new Float32Array(v);
        expect(
          await useCases.items.upsert(usersAlias, [
            { id: "u1", vector: vector([0, 0]), fields: { labels: tags("x") } },
            { id: "u2", vector: vector([0, 1]), fields: { labels: tags("x") } },
            { id: "u3", vector: vector([5, 5]), fields: {} },
          ]),
        ).toBe(3);
        await store.upsert(items.name, [item("i1", [1, 1], { genre: tags("book") }), item("i2", [2, 2], { genre: tags("film") })]);
        // The items are in the index itself.
        expect((await store.getItems(users.name, ["u1", "u2", "u3"], { includeVectors: false })).map((i) => i?.id)).toEqual(["u1", "u2", "u3"]);
        const got = await useCases.items.getItems(usersAlias, ["u1", "nope"], false);
        expect(got.items.map((i) => i.id)).toEqual(["u1"]);
        expect(got.missingIds).toEqual(["nope"]);
        const search = await useCases.search.search(searchDraft(usersAlias, { query: { vector: vector([0, 0.1]) }, k: 2 }));
        expect(ids(search)).toEqual(["u1", "u2"]);
        const when = 1_700_000_000_000;
        await useCases.interactions.record(usersAlias, [
          { userId: "u2", itemId: "i1", kind: "purchase", weight: 1, occurredAtMs: when },
          { userId: "u2", itemId: "i2", kind: "purchase", weight: 1, occurredAtMs: when },
        ]);
        expect((await useCases.interactions.get(usersAlias, "u2", { limit: 0, offset: 0 })).totalCount).toBe(2);
        expect((await store.getInteractions(users.name, "u2", { offset: 0, limit: 10 })).totalCount).toBe(2);
        const recommended = await useCases.recommender.recommend({
          indexName: usersAlias,
          user: { userId: "u1" },
          neighborCount: 1,
          neighborFilter: MATCH_ALL,
          neighborFilterField: "neighbor_filter",
          limit: 10,
          recencyHalfLifeSeconds: 0,
          includeOwned: false,
          itemIndexName: itemsAlias,
          itemFilter: tagFilter("genre", "book"),
          itemFilterField: "item_filter",
          nowMs: when,
        });
        expect(recommended.items.map((i) => i.itemId)).toEqual(["i1"]);
        const exported: string[] = [];
        for await (const batch of await useCases.items.exportItems({ indexName: usersAlias, afterId: "", filter: MATCH_ALL, filterField: "filter" })) {
          exported.push(...batch.map((i) => i.id));
        }
        expect(exported).toEqual(["u1", "u2", "u3"]);
        expect((await useCases.indexAdmin.getIndex(usersAlias)).spec.name).toBe(users.name);
        expect(await useCases.items.deleteItems(usersAlias, ["u3"])).toBe(1);
        expect((await store.getItems(users.name, ["u3"], { includeVectors: false }))[0]).toBeUndefined();
        // Names are checked like index names, the field named.
        await expect(useCases.indexAdmin.createAlias("", users.name)).rejects.toSatisfy(
          (e) => e instanceof InvalidArgumentError && e.violations.some((v) => v.field === "alias"),
        );
        await expect(useCases.indexAdmin.updateAlias("bad name", "also bad")).rejects.toSatisfy(
          (e) =>
            e instanceof InvalidArgumentError &&
            e.violations.some((v) => v.field === "alias") &&
            e.violations.some((v) => v.field === "index_name"),
        );
      } finally {
        await store.deleteAlias(usersAlias);
        await store.deleteAlias(itemsAlias);
      }
    });
  });
}
