/**
 * The interactions of one index: per user, deduplicated on (item, kind, time), read newest first
 * (ties by item id, then kind, both ascending), with an item -> users index so deleting an item
 * removes its interactions.
 */
import { compareIds } from "../../domain/id-order.js";
import type { Interaction } from "../../domain/interaction.js";

export class InteractionLog {
  private readonly byUser = new Map<string, Map<string, Interaction>>();
  private readonly usersOfItem = new Map<string, Set<string>>();
  /** Per user, the newest-first order; dropped on every change of that user. */
  private readonly sortedCache = new Map<string, readonly Interaction[]>();

  /** Stores interactions; one with the same (user, item, kind, time) as a stored one replaces it. */
  record(interactions: readonly Interaction[]): void {
    for (const interaction of interactions) {
      const { userId, itemId } = interaction;
      let entries = this.byUser.get(userId);
      if (entries === undefined) {
        entries = new Map();
        this.byUser.set(userId, entries);
      }
      entries.set(dedupKey(interaction), { ...interaction });
      let users = this.usersOfItem.get(itemId);
      if (users === undefined) {
        users = new Set();
        this.usersOfItem.set(itemId, users);
      }
      users.add(userId);
      this.sortedCache.delete(userId);
    }
  }

  /** Every interaction of `userId`, newest first. */
  ofUser(userId: string): readonly Interaction[] {
    const cached = this.sortedCache.get(userId);
    if (cached !== undefined) return cached;
    const entries = this.byUser.get(userId);
    if (entries === undefined) return [];
    const sorted = [...entries.values()].sort(newestFirst);
    this.sortedCache.set(userId, sorted);
    return sorted;
  }

  /** Every interaction stored, in no particular order (for persisting or dropping them all). */
  *all(): IterableIterator<Interaction> {
    for (const entries of this.byUser.values()) yield* entries.values();
  }

  /**
   * Removes every interaction with one of `itemIds`, and the interactions of the users with those ids
   * (users are items of the index too: deleting one deletes its history). Returns the interactions
   * removed (what the persistence deletes).
   */
  deleteItems(itemIds: Iterable<string>): Interaction[] {
    const removed: Interaction[] = [];
    for (const itemId of itemIds) {
      this.deleteUser(itemId, removed);
      const users = this.usersOfItem.get(itemId);
      if (users === undefined) continue;
      this.usersOfItem.delete(itemId);
      for (const userId of users) {
        const entries = this.byUser.get(userId);
        if (entries === undefined) continue;
        for (const [key, interaction] of entries) {
          if (interaction.itemId !== itemId) continue;
          entries.delete(key);
          removed.push(interaction);
        }
        if (entries.size === 0) this.byUser.delete(userId);
        this.sortedCache.delete(userId);
      }
    }
    return removed;
  }

  private deleteUser(userId: string, removed: Interaction[]): void {
    const entries = this.byUser.get(userId);
    if (entries === undefined) return;
    this.byUser.delete(userId);
    this.sortedCache.delete(userId);
    for (const interaction of entries.values()) {
      removed.push(interaction);
      const users = this.usersOfItem.get(interaction.itemId);
      if (users === undefined) continue;
      // The user is gone: unlink it from every item it touched.
      users.delete(userId);
      if (users.size === 0) this.usersOfItem.delete(interaction.itemId);
    }
  }
}

function dedupKey(i: Interaction): string {
  return `${i.itemId}\u0000${i.kind}\u0000${i.occurredAtMs}`;
}

function newestFirst(a: Interaction, b: Interaction): number {
  if (a.occurredAtMs !== b.occurredAtMs) return b.occurredAtMs - a.occurredAtMs;
  if (a.itemId !== b.itemId) return compareIds(a.itemId, b.itemId);
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return 0;
}
