/**
 * The embedded engine's writes to items and interactions: each runs under its index's write lock through
 * the write path (write-path.ts) and names its delta on the batch (partial updates and interest tags
 * persist the whole items as they now are).
 */
import type { Interaction } from "../../domain/interaction.js";
import type { Item, ItemUpdate, ItemUpdateOutcome } from "../../domain/item.js";
import type { InterestTagUpdate, VectorStore, WriteOptions } from "../vector-store.js";
import { refuseDurability, type EmbeddedState } from "./write-path.js";

export type ItemWrites = Pick<VectorStore, "upsert" | "updateItems" | "deleteItems" | "setInterestTags" | "recordInteractions">;

export function embeddedItemWrites(state: EmbeddedState): ItemWrites {
  const durable = state.persistence.durable;
  return {
    async upsert(indexName: string, items: readonly Item[], options?: WriteOptions): Promise<void> {
      refuseDurability(options, durable);
      await state.writeTo(indexName, (index) => {
        index.upsert(items);
        return { value: undefined, persist: (batch) => batch.putItems(indexName, items) };
      }, options?.signal);
    },

    async updateItems(
      indexName: string,
      updates: readonly ItemUpdate[],
      options: WriteOptions & { readonly createMissing: boolean },
    ): Promise<ItemUpdateOutcome[]> {
      refuseDurability(options, durable);
      return state.writeTo(indexName, (index) => {
        const outcomes = index.update(updates, options.createMissing);
        return {
          value: outcomes,
          // Partial updates persist the whole items as they now are.
          persist: (batch) =>
            batch.putItems(
              indexName,
              updates.flatMap((u, i) => (outcomes[i] === "missing" ? [] : (index.get(u.id, true) ?? []))),
            ),
        };
      }, options.signal);
    },

    async deleteItems(indexName: string, ids: readonly string[], options?: WriteOptions): Promise<number> {
      refuseDurability(options, durable);
      return state.writeTo(indexName, (index) => {
        const removedInteractions: Interaction[] = [];
        const deleted = index.delete(ids, removedInteractions);
        return {
          value: deleted,
          persist: (batch) => {
            batch.deleteItems(indexName, ids);
            if (removedInteractions.length > 0) batch.deleteInteractions(indexName, removedInteractions);
          },
        };
      }, options?.signal);
    },

    setInterestTags(indexName: string, updates: readonly InterestTagUpdate[], tagField: string): Promise<number> {
      // Under the write lock, like upsert and delete: the check and the write of every item happen
      // between two other writes, never across one. Last update of an id wins.
      const latest = [...new Map(updates.map((u) => [u.id, u])).values()];
      return state.writeTo(indexName, (index) => {
        const written = index.setInterestTags(latest, tagField);
        if (written === 0) return { value: 0 };
        return {
          value: written,
          // The items as they now are (an item the check left alone is written unchanged).
          persist: (batch) =>
            batch.putItems(
              indexName,
              latest.flatMap((u) => index.get(u.id, true) ?? []),
            ),
        };
      });
    },

    async recordInteractions(indexName: string, interactions: readonly Interaction[], options?: WriteOptions): Promise<number> {
      refuseDurability(options, durable);
      return state.write(() => {
        state.indexOf(indexName).interactions.record(interactions);
        return { value: interactions.length, persist: (batch) => batch.putInteractions(indexName, interactions) };
      });
    },
  };
}
