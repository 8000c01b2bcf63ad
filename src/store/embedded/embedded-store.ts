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
import { availableParallelism } from "node:os";
import { ScanThreads } from "./scan-threads.js";
import { THREAD_REGIONS } from "./vector-arena.js";
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
  /**
   * Threads, besides the main one, that a large exact scan is shared with (scan-threads.ts); default
   * DEFAULT_SCAN_THREADS (one per further core); 0 scans on the main thread only.
   */
  readonly scanThreads?: number;
}

/** One scan thread per core beyond the first, at most THREAD_REGIONS (what one search can use). */
export const DEFAULT_SCAN_THREADS = Math.min(THREAD_REGIONS, Math.max(0, availableParallelism() - 1));

export function createEmbeddedStore(options: EmbeddedStoreOptions = {}): VectorStore {
  const state = new EmbeddedState(options.persistence ?? memoryPersistence(), new ScanThreads(options.scanThreads ?? DEFAULT_SCAN_THREADS));
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
