/**
 * Contract: exportItems walks every item (or those matching a filter) with its vector, in id order
 * (UTF-8 bytes), in batches, resumable after an id.
 */
import { describe, expect, it } from "vitest";
import { MATCH_ALL } from "../../../src/domain/filter/filter.js";
import { compareIds } from "../../../src/domain/id-order.js";
import type { Item } from "../../../src/domain/item.js";
import { num, tags } from "../../support/field-values.js";
import { tagFilter } from "../../support/filter-builders.js";
import { bits, defaultFields, f32, item } from "./builders.js";
import type { ContractContext } from "./context.js";

async function all(batches: AsyncIterable<Item[]>): Promise<Item[][]> {
  const out: Item[][] = [];
  for await (const batch of batches) out.push(batch);
  return out;
}

export function describeExport(ctx: ContractContext): void {
  describe("export", () => {
    const { store, createIndex } = ctx;
    const ids = ["b", "a", "é", "Z", "a:10", "a:9", "日本", "z", "ab", "a b"];

    it("walks every item with its vector in id order, in batches, and resumes after an id", async () => {
      const spec = await createIndex("export", defaultFields(2, "L2"));
      await store.upsert(
        spec.name,
        ids.map((id, i) => item(id, [i, -i], { labels: tags(i % 2 === 0 ? "even" : "odd"), time: num(i) })),
      );
      await ctx.waitUntilIndexed(spec.name);
      const sorted = [...ids].sort(compareIds);
      const batches = await all(store.exportItems(spec.name, { filter: MATCH_ALL, batchSize: 3 }));
      expect(batches.every((b) => b.length <= 3)).toBe(true);
      const items = batches.flat();
      expect(items.map((i) => i.id)).toEqual(sorted);
      const b = items.find((i) => i.id === "b");
      expect(bits(b?.vector)).toEqual(bits(f32([0, -0])));
      expect(b?.fields).toEqual({ labels: tags("even"), time: num(0) });

      const after = sorted[4] as string;
      const resumed = (await all(store.exportItems(spec.name, { filter: MATCH_ALL, afterId: after, batchSize: 4 }))).flat();
      expect(resumed.map((i) => i.id)).toEqual(sorted.slice(5));

      const odd = (await all(store.exportItems(spec.name, { filter: tagFilter("labels", "odd"), batchSize: 100 }))).flat();
      expect(odd.map((i) => i.id)).toEqual(sorted.filter((id) => ids.indexOf(id) % 2 === 1));
    });
  });
}
