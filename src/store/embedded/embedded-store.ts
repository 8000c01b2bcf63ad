/**
 * The embedded engine: an in-process VectorStore (the default when no Redis is configured). Exact KNN
 * over contiguous float32 arenas, with Redis-identical distances. Memory is what every read and search
 * uses; a Persistence (persistence.ts) keeps a durable copy: LMDB in a data directory
 * (lmdb-persistence.ts), or nothing (`--in-memory`: data lost on exit).
 *
 * This file is the facade; the concepts live beside it:
 *   write-path.ts      the state and THE WRITE PATH (`mutate`: memory change + its persisted delta,
 *                      answered once durable; a failed commit stops the store)
 *   load-persisted.ts  memory rebuilt at open; the data of dropped indexes
 *   index-admin.ts     index definitions (create, drop, interests, get, list); alias resolution
 *   aliases.ts         aliases created, moved, deleted (persisted as one meta record)
 *   item-writes.ts     items and interactions written
 *   reads.ts           reads, export/scan walks, searches
 */
import type { VectorStore } from "../vector-store.js";
import { embeddedAliases } from "./aliases.js";
import { embeddedIndexAdmin } from "./index-admin.js";
import { embeddedItemWrites } from "./item-writes.js";
import { memoryPersistence, type Persistence } from "./persistence.js";
import { embeddedReads } from "./reads.js";
import { EmbeddedState } from "./write-path.js";

export interface EmbeddedStoreOptions {
  /** Where the data is kept; default: memory only (memoryPersistence). The store closes it. */
  readonly persistence?: Persistence;
}

export function createEmbeddedStore(options: EmbeddedStoreOptions = {}): VectorStore {
  const state = new EmbeddedState(options.persistence ?? memoryPersistence());
  return {
    backend: "embedded",
    ...embeddedIndexAdmin(state),
    ...embeddedAliases(state),
    ...embeddedItemWrites(state),
    ...embeddedReads(state),
    isAvailable: () => state.isAvailable(),
    onAvailabilityChange: (listener) => state.onAvailabilityChange(listener),
    close: () => state.close(),
  };
}
