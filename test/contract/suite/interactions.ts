/**
 * Contract: recording interactions (deduplicated), reading them newest first, paging, several users
 * at once, and one history per index.
 */
import { describe, expect, it } from "vitest";
import type { Interaction, InteractionKind } from "../../../src/domain/interaction.js";
import { defaultFields } from "./builders.js";
import type { ContractContext } from "./context.js";

export function describeInteractions(ctx: ContractContext): void {
  describe("interactions", () => {
    const { store, createIndex } = ctx;

    const at = (userId: string, itemId: string, kind: InteractionKind, occurredAtMs: number, weight = 1): Interaction => ({
      userId,
      itemId,
      kind,
      weight,
      occurredAtMs,
    });

    it("records interactions and reads them newest first", async () => {
      const spec = await createIndex("inter", defaultFields(2));
      const given = [at("u1", "i1", "view", 1000), at("u1", "i2", "purchase", 3000, 2.5), at("u1", "i3", "like", 2000), at("u2", "i1", "click", 1500)];
      expect(await store.recordInteractions(spec.name, given)).toBe(4);
      const page = await store.getInteractions(spec.name, "u1", { offset: 0, limit: 10 });
      expect(page.totalCount).toBe(3);
      expect(page.interactions).toEqual([given[1], given[2], given[0]]);
      const u2 = await store.getInteractions(spec.name, "u2", { offset: 0, limit: 10 });
      expect(u2.interactions).toEqual([given[3]]);
    });

    it("deduplicates on user, item, kind and time", async () => {
      const spec = await createIndex("dedup", defaultFields(2));
      const one = at("u", "i", "view", 1000);
      expect(await store.recordInteractions(spec.name, [one, one])).toBe(2);
      await store.recordInteractions(spec.name, [one]);
      await store.recordInteractions(spec.name, [at("u", "i", "like", 1000), at("u", "i", "view", 1001)]);
      const page = await store.getInteractions(spec.name, "u", { offset: 0, limit: 10 });
      expect(page.totalCount).toBe(3);
      expect(page.interactions).toEqual([at("u", "i", "view", 1001), at("u", "i", "like", 1000), at("u", "i", "view", 1000)]);
    });

    it("orders interactions at the same time by item id, then kind", async () => {
      const spec = await createIndex("interties", defaultFields(2));
      await store.recordInteractions(spec.name, [
        at("u", "b", "view", 500),
        at("u", "a", "view", 500),
        at("u", "c", "view", 900),
        at("u", "a", "click", 500),
      ]);
      const page = await store.getInteractions(spec.name, "u", { offset: 0, limit: 10 });
      expect(page.interactions.map((i) => [i.itemId, i.kind])).toEqual([
        ["c", "view"],
        ["a", "click"],
        ["a", "view"],
        ["b", "view"],
      ]);
    });

    it("pages with offset and limit, counting them all", async () => {
      const spec = await createIndex("interpage", defaultFields(2));
      const many = Array.from({ length: 7 }, (_, i) => at("u", `item${i}`, "view", 1000 + i));
      await store.recordInteractions(spec.name, many);
      const first = await store.getInteractions(spec.name, "u", { offset: 0, limit: 3 });
      expect(first.totalCount).toBe(7);
      expect(first.interactions.map((i) => i.itemId)).toEqual(["item6", "item5", "item4"]);
      const last = await store.getInteractions(spec.name, "u", { offset: 6, limit: 3 });
      expect(last.interactions.map((i) => i.itemId)).toEqual(["item0"]);
      const beyond = await store.getInteractions(spec.name, "u", { offset: 10, limit: 3 });
      expect(beyond).toEqual({ interactions: [], totalCount: 7 });
      const nobody = await store.getInteractions(spec.name, "nobody", { offset: 0, limit: 3 });
      expect(nobody).toEqual({ interactions: [], totalCount: 0 });
    });

    it("reads the interactions of several users at once", async () => {
      const spec = await createIndex("interusers", defaultFields(2));
      await store.recordInteractions(spec.name, [
        at("u1", "a", "view", 1),
        at("u2", "b", "like", 5),
        at("u1", "c", "purchase", 9, 3),
      ]);
      const map = await store.getInteractionsOfUsers(spec.name, ["u1", "u2", "ghost"]);
      expect([...map.keys()].sort()).toEqual(["ghost", "u1", "u2"]);
      expect(map.get("u1")).toEqual([at("u1", "c", "purchase", 9, 3), at("u1", "a", "view", 1)]);
      expect(map.get("u2")).toEqual([at("u2", "b", "like", 5)]);
      expect(map.get("ghost")).toEqual([]);
    });

    it("keeps interactions per index", async () => {
      const one = await createIndex("interone", defaultFields(2));
      const two = await createIndex("intertwo", defaultFields(2));
      await store.recordInteractions(one.name, [at("u", "a", "view", 1)]);
      expect((await store.getInteractions(two.name, "u", { offset: 0, limit: 10 })).totalCount).toBe(0);
      expect((await store.getInteractionsOfUsers(two.name, ["u"])).get("u")).toEqual([]);
    });
  });
}
