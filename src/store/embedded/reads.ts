/**
 * The embedded engine's read side: item reads, export and scan walks, searches and interaction reads.
 * Nothing here writes; searches and batch reads take the index's read lock.
 */
import { throwIfAborted } from "../../domain/errors.js";
import type { Interaction, InteractionPage } from "../../domain/interaction.js";
import type { Item } from "../../domain/item.js";
import type { CallOptions, ExportOptions, SearchQuery, SearchResult, VectorStore } from "../vector-store.js";
import { run, type EmbeddedState } from "./write-path.js";

export type Reads = Pick<
  VectorStore,
  "getItems" | "exportItems" | "scanItems" | "search" | "getInteractions" | "getInteractionsOfUsers"
>;

export function embeddedReads(state: EmbeddedState): Reads {
  return {
    getItems(
      indexName: string,
      ids: readonly string[],
      options: { includeVectors: boolean; readonly signal?: AbortSignal },
    ): Promise<(Item | undefined)[]> {
      return run(() => {
        const index = state.indexOf(indexName);
        return ids.map((id) => index.get(id, options.includeVectors));
      });
    },

    exportItems(indexName: string, options: ExportOptions): AsyncIterable<Item[]> {
      return {
        async *[Symbol.asyncIterator]() {
          const index = state.indexOf(indexName);
          const { signal } = options;
          const ids = await index.lock.read(() => index.matchingIds(options.filter, options.afterId, signal), signal);
          const size = Math.max(1, Math.floor(options.batchSize));
          for (let start = 0; start < ids.length; start += size) {
            throwIfAborted(signal);
            // Items deleted since the ids were listed are skipped.
            const batch = await index.lock.read(() => ids.slice(start, start + size).flatMap((id) => index.get(id, true) ?? []), signal);
            if (batch.length > 0) yield batch;
          }
        },
      };
    },

    scanItems(indexName: string, batchSize: number, options?: CallOptions): AsyncIterable<Item[]> {
      const signal = options?.signal;
      return {
        async *[Symbol.asyncIterator]() {
          throwIfAborted(signal);
          const index = state.indexOf(indexName);
          const ids = index.snapshotIds();
          const size = Math.max(1, Math.floor(batchSize));
          for (let start = 0; start < ids.length; start += size) {
            throwIfAborted(signal);
            // Items deleted since the scan started are skipped.
            const batch = await index.lock.read(
              () => ids.slice(start, start + size).flatMap((id) => index.get(id, true) ?? []),
              signal,
            );
            if (batch.length > 0) yield batch;
          }
        },
      };
    },

    async search(indexName: string, query: SearchQuery): Promise<SearchResult> {
      const index = state.indexOf(indexName);
      return state.scanThreads.counting(() => index.lock.read(() => index.search(query, state.scanThreads), query.signal));
    },

    getInteractions(indexName: string, userId: string, page: { offset: number; limit: number }): Promise<InteractionPage> {
      return run(() => {
        const all = state.indexOf(indexName).interactions.ofUser(userId);
        return { interactions: all.slice(page.offset, page.offset + page.limit), totalCount: all.length };
      });
    },

    getInteractionsOfUsers(indexName: string, userIds: readonly string[]): Promise<Map<string, Interaction[]>> {
      return run(() => {
        const log = state.indexOf(indexName).interactions;
        const out = new Map<string, Interaction[]>();
        for (const userId of userIds) out.set(userId, [...log.ofUser(userId)]);
        return out;
      });
    },
  };
}
