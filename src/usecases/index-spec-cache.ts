/**
 * A short-lived cache of index specs, shared by the use cases of one store.
 *
 * Why: every upsert and search validates against the index spec, and VectorStore only offers
 * `getIndex`, which on Redis costs an FT.INFO round trip (plus the definition read) for item counts and
 * indexing state the use cases do not need. Caching the spec for a short time (1 s by default) removes
 * that round trip from the hot path.
 *
 * Consistency: changes made through this process (createIndex, dropIndex, updateInterests) update or
 * invalidate the entry at once; changes made by another process are seen within the TTL. A store call
 * that throws IndexNotFoundError invalidates the entry, so a dropped index is never served for long.
 * Lookups of an unknown index are not cached.
 */
import { IndexNotFoundError } from "../domain/errors.js";
import type { IndexSpec } from "../domain/schema.js";
import type { VectorStore } from "../store/vector-store.js";

export const DEFAULT_SPEC_CACHE_TTL_MS = 1_000;

export interface IndexSpecCache {
  /** The spec of `name`, from the cache when fresh. @throws IndexNotFoundError (from the store) */
  get(name: string): Promise<IndexSpec>;
  /** Records a spec this process just wrote. */
  set(spec: IndexSpec): void;
  /** Forgets `name` (dropped, or found missing). */
  invalidate(name: string): void;
  /** Runs `work`; if it throws IndexNotFoundError for `name`, forgets `name` before rethrowing. */
  guard<T>(name: string, work: () => Promise<T>): Promise<T>;
}

export interface IndexSpecCacheOptions {
  /** 0 disables caching (every get reads the store). */
  ttlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface Entry {
  readonly spec: Promise<IndexSpec>;
  readonly expiresAt: number;
}

/** A cache over `store.getIndex`. Concurrent misses for one name share one store call. */
export function createIndexSpecCache(store: VectorStore, options: IndexSpecCacheOptions = {}): IndexSpecCache {
  const ttlMs = options.ttlMs ?? DEFAULT_SPEC_CACHE_TTL_MS;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  const invalidate = (name: string): void => {
    entries.delete(name);
  };

  return {
    get(name) {
      const hit = entries.get(name);
      if (hit !== undefined && hit.expiresAt > now()) return hit.spec;
      const spec = store.getIndex(name).then((info) => info.spec);
      if (ttlMs <= 0) return spec;
      const entry: Entry = { spec, expiresAt: now() + ttlMs };
      entries.set(name, entry);
      // A failed read is not cached; only remove our own entry (a set() may have replaced it meanwhile).
      spec.catch(() => {
        if (entries.get(name) === entry) entries.delete(name);
      });
      return spec;
    },
    set(spec) {
      if (ttlMs <= 0) return;
      entries.set(spec.name, { spec: Promise.resolve(spec), expiresAt: now() + ttlMs });
    },
    invalidate,
    async guard(name, work) {
      try {
        return await work();
      } catch (error) {
        if (error instanceof IndexNotFoundError) invalidate(name);
        throw error;
      }
    },
  };
}

const sharedCaches = new WeakMap<VectorStore, IndexSpecCache>();

/**
 * The cache shared by every use case built on `store` (so that an index change made through the admin
 * service is seen at once by the item and search services of the same process).
 */
export function indexSpecCacheFor(store: VectorStore): IndexSpecCache {
  let cache = sharedCaches.get(store);
  if (cache === undefined) {
    cache = createIndexSpecCache(store);
    sharedCaches.set(store, cache);
  }
  return cache;
}
