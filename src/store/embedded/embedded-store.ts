/**
 * The embedded engine: an in-process VectorStore (the default when no Redis is configured). Exact KNN
 * over contiguous float32 arenas, with Redis-identical distances. Memory is what every read and search
 * uses; a Persistence (persistence.ts) keeps a durable copy: LMDB in a data directory
 * (lmdb-persistence.ts), or nothing (`--in-memory`: data lost on exit).
 *
 * THE WRITE PATH. Every mutation of this store goes through `mutate` below and nowhere else: it runs the
 * change of memory and, in the same synchronous step, `persistence.commit(batch => ...)` with the exact
 * delta (one transaction per write request, queued in the order memory changed), then waits, outside
 * the index lock, until that transaction is durable, and only then answers. A new mutation (a partial
 * update, an alias, another element type) must do the same: change memory inside `mutate` and name what
 * changed on the batch (putItems with the whole items as they now are, putIndex, putMeta...); what it
 * does not put on the batch is lost on restart. At open, the state is rebuilt from `persistence.load()`
 * (`loadPersisted`). A commit that fails (disk full, I/O error) leaves memory ahead of the disk: the
 * store then stops (every call UNAVAILABLE, health NOT_SERVING) until restarted from the disk.
 *
 * Like Redis, dropping an index without deleting items keeps its data (items and interactions), and an
 * index created again under the same name finds it.
 */
import {
  AlreadyExistsError,
  FailedPreconditionError,
  throwIfAborted,
  IndexNotFoundError,
  UnavailableError,
} from "../../domain/errors.js";
import type { Interaction, InteractionPage } from "../../domain/interaction.js";
import { interestTagField, specsEqual } from "../../domain/index-spec.js";
import type { FieldValue, FieldValues, Item, ItemUpdate, ItemUpdateOutcome } from "../../domain/item.js";
import type { FieldSpec, IndexInfo, IndexSpec, InterestSpec } from "../../domain/schema.js";
import { vectorField } from "../../domain/schema.js";
import type {
  CreateIndexResult,
  ExportOptions,
  InterestTagUpdate,
  SearchQuery,
  SearchResult,
  VectorStore,
  WriteOptions,
} from "../vector-store.js";
import { EmbeddedIndex } from "./embedded-index.js";
import { InteractionLog } from "./interaction-log.js";
import { memoryPersistence, type Persistence, type PersistenceBatch } from "./persistence.js";

/** Items upserted at a time while the arenas are rebuilt at open. */
const LOAD_BATCH_ITEMS = 8192;

export interface EmbeddedStoreOptions {
  /** Where the data is kept; default: memory only (memoryPersistence). The store closes it. */
  readonly persistence?: Persistence;
}

/** What is left of an index dropped without deleting its items. */
interface OrphanedData {
  readonly spec: IndexSpec;
  readonly items: Item[];
  readonly interactions: InteractionLog;
}

export function createEmbeddedStore(options: EmbeddedStoreOptions = {}): VectorStore {
  const persistence = options.persistence ?? memoryPersistence();
  const indexes = new Map<string, EmbeddedIndex>();
  const orphans = new Map<string, OrphanedData>();
  let closed = false;
  /** Set when a commit failed: memory is ahead of the disk, so nothing is served any more. */
  let failure: Error | undefined;
  const availabilityListeners = new Set<(available: boolean) => void>();
  loadPersisted(persistence, indexes, orphans);

  function open(): void {
    if (closed) throw new UnavailableError("the embedded store is closed");
    if (failure !== undefined) {
      throw new UnavailableError(
        `the embedded engine could not save a write to its data directory (${failure.message}); it stopped serving: ` +
          `restart the server (it reloads what was saved)`,
      );
    }
  }

  /**
   * The write path (see the header): `change` mutates memory and returns its result and the delta to
   * persist (undefined: nothing changed). The delta is committed at once, in the same synchronous step;
   * the promise returned resolves with the result once the delta is durable.
   */
  function mutate<T>(change: () => { value: T; persist?: (batch: PersistenceBatch) => void }): { value: T; saved: Promise<void> } {
    const { value, persist } = change();
    if (persist === undefined) return { value, saved: Promise.resolve() };
    const saved = persistence.commit(persist).catch((error: unknown) => {
      const cause = error instanceof Error ? error : new Error(String(error));
      if (failure === undefined) {
        failure = cause;
        for (const listener of availabilityListeners) listener(false);
      }
      throw new UnavailableError(`the write could not be saved to the data directory: ${cause.message}`, { cause });
    });
    return { value, saved };
  }

  /** Runs `change` through `mutate` and resolves once it is durable. */
  async function write<T>(change: () => { value: T; persist?: (batch: PersistenceBatch) => void }): Promise<T> {
    const { value, saved } = mutate(change);
    await saved;
    return value;
  }

  function indexOf(name: string): EmbeddedIndex {
    open();
    const index = indexes.get(name);
    if (index === undefined) throw new IndexNotFoundError(name);
    return index;
  }

  /**
   * Runs `fn` on index `name` under its write lock. A write waits for the searches in flight; when the
   * index was dropped meanwhile, writing to it would be acknowledged and then lost (its data was set
   * aside when it was dropped), so the write goes to the index now of that name, or fails with
   * IndexNotFoundError when there is none.
   */
  async function writeTo<T>(
    name: string,
    fn: (index: EmbeddedIndex) => { value: T; persist?: (batch: PersistenceBatch) => void },
  ): Promise<T> {
    for (;;) {
      const index = indexOf(name);
      // The memory change and the queueing of its transaction happen under the lock; the wait for the
      // disk does not hold it.
      const done = await index.lock.write(() => (indexes.get(name) === index ? mutate(() => fn(index)) : undefined));
      if (done !== undefined) {
        await done.saved;
        return done.value;
      }
    }
  }

  function infoOf(index: EmbeddedIndex): IndexInfo {
    return {
      spec: index.spec,
      itemCount: index.size,
      indexing: false,
      indexingProgress: 1,
      indexingFailures: index.unindexed.size,
    };
  }

  return {
    backend: "embedded",

    createIndex(spec: IndexSpec): Promise<CreateIndexResult> {
      return runAsync(() =>
        write<CreateIndexResult>(() => {
          open();
          const existing = indexes.get(spec.name);
          if (existing !== undefined) {
            if (specsEqual(existing.spec, spec)) return { value: { created: false, info: infoOf(existing) } };
            throw new AlreadyExistsError(`index "${spec.name}" already exists with another spec`);
          }
          const orphan = orphans.get(spec.name);
          orphans.delete(spec.name);
          const index = new EmbeddedIndex(spec, orphan?.interactions);
          const adaptedItems: Item[] = [];
          if (orphan !== undefined) {
            const dimension = vectorField(spec).dimension;
            const fitting: Item[] = [];
            for (const item of orphan.items) {
              const adapted: Item = { ...item, fields: adaptFields(item.fields, orphan.spec, spec) };
              adaptedItems.push(adapted);
              if (item.vector?.length === dimension) fitting.push(adapted);
              else index.unindexed.set(item.id, adapted);
            }
            index.upsert(fitting);
          }
          indexes.set(spec.name, index);
          return {
            value: { created: true, info: infoOf(index) },
            persist: (batch) => {
              batch.putIndex({ spec, live: true });
              // The kept items as the new schema reads them.
              if (adaptedItems.length > 0) batch.putItems(spec.name, adaptedItems);
            },
          };
        }),
      );
    },

    getIndex(name: string): Promise<IndexInfo> {
      return run(() => infoOf(indexOf(name)));
    },

    getIndexSpec(name: string): Promise<IndexSpec> {
      return run(() => indexOf(name).spec);
    },

    listIndexes(): Promise<IndexInfo[]> {
      return run(() => {
        open();
        return [...indexes.values()]
          .sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0))
          .map(infoOf);
      });
    },

    dropIndex(name: string, options: { deleteItems: boolean }): Promise<void> {
      return runAsync(() =>
        write(() => {
          const index = indexOf(name);
          indexes.delete(name);
          if (options.deleteItems) {
            return {
              value: undefined,
              persist: (batch) => {
                batch.deleteIndex(name);
                batch.deleteItems(name, [...index.snapshotIds(), ...index.unindexed.keys()]);
                batch.deleteInteractions(name, index.interactions.all());
              },
            };
          }
          // Searches in flight only read, so the snapshot is consistent without waiting for them.
          orphans.set(name, {
            spec: index.spec,
            items: [...index.allItems(), ...index.unindexed.values()],
            interactions: index.interactions,
          });
          return { value: undefined, persist: (batch) => batch.putIndex({ spec: index.spec, live: false }) };
        }),
      );
    },

    setInterests(name: string, interests: InterestSpec | undefined): Promise<IndexInfo> {
      return runAsync(() =>
        write(() => {
          const index = indexOf(name);
          const { spec } = index;
          let fields: readonly FieldSpec[] = spec.fields;
          if (interests !== undefined && !fields.some((f) => f.name === interests.tagField)) {
            fields = [...fields, interestTagField(interests.tagField)];
          }
          const next: IndexSpec = interests === undefined ? { name: spec.name, fields } : { name: spec.name, fields, interests };
          index.spec = next;
          return { value: infoOf(index), persist: (batch) => batch.putIndex({ spec: next, live: true }) };
        }),
      );
    },

    async upsert(indexName: string, items: readonly Item[], options?: WriteOptions): Promise<void> {
      refuseDurability(options, persistence.durable);
      await writeTo(indexName, (index) => {
        index.upsert(items);
        return { value: undefined, persist: (batch) => batch.putItems(indexName, items) };
      });
    },

    async updateItems(
      indexName: string,
      updates: readonly ItemUpdate[],
      options: WriteOptions & { readonly createMissing: boolean },
    ): Promise<ItemUpdateOutcome[]> {
      refuseDurability(options, persistence.durable);
      return writeTo(indexName, (index) => {
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
      });
    },

    getItems(
      indexName: string,
      ids: readonly string[],
      options: { includeVectors: boolean; readonly signal?: AbortSignal },
    ): Promise<(Item | undefined)[]> {
      return run(() => {
        const index = indexOf(indexName);
        return ids.map((id) => index.get(id, options.includeVectors));
      });
    },

    async deleteItems(indexName: string, ids: readonly string[], options?: WriteOptions): Promise<number> {
      refuseDurability(options, persistence.durable);
      return writeTo(indexName, (index) => {
        const removedInteractions: Interaction[] = [];
        const deleted = index.delete(ids, removedInteractions);
        return {
          value: deleted,
          persist: (batch) => {
            batch.deleteItems(indexName, ids);
            if (removedInteractions.length > 0) batch.deleteInteractions(indexName, removedInteractions);
          },
        };
      });
    },

    setInterestTags(indexName: string, updates: readonly InterestTagUpdate[], tagField: string): Promise<number> {
      // Under the write lock, like upsert and delete: the check and the write of every item happen
      // between two other writes, never across one. Last update of an id wins.
      const latest = [...new Map(updates.map((u) => [u.id, u])).values()];
      return writeTo(indexName, (index) => {
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

    exportItems(indexName: string, options: ExportOptions): AsyncIterable<Item[]> {
      return {
        async *[Symbol.asyncIterator]() {
          const index = indexOf(indexName);
          const ids = await index.lock.read(() => index.matchingIds(options.filter, options.afterId));
          const size = Math.max(1, Math.floor(options.batchSize));
          for (let start = 0; start < ids.length; start += size) {
            throwIfAborted(options.signal);
            // Items deleted since the ids were listed are skipped.
            const batch = await index.lock.read(() => ids.slice(start, start + size).flatMap((id) => index.get(id, true) ?? []));
            if (batch.length > 0) yield batch;
          }
        },
      };
    },

    scanItems(indexName: string, batchSize: number): AsyncIterable<Item[]> {
      return {
        async *[Symbol.asyncIterator]() {
          const index = indexOf(indexName);
          const ids = index.snapshotIds();
          const size = Math.max(1, Math.floor(batchSize));
          for (let start = 0; start < ids.length; start += size) {
            // Items deleted since the scan started are skipped.
            const batch = await index.lock.read(() =>
              ids.slice(start, start + size).flatMap((id) => index.get(id, true) ?? []),
            );
            if (batch.length > 0) yield batch;
          }
        },
      };
    },

    async search(indexName: string, query: SearchQuery): Promise<SearchResult> {
      const index = indexOf(indexName);
      return index.lock.read(() => index.search(query));
    },

    async recordInteractions(indexName: string, interactions: readonly Interaction[], options?: WriteOptions): Promise<number> {
      refuseDurability(options, persistence.durable);
      return write(() => {
        indexOf(indexName).interactions.record(interactions);
        return { value: interactions.length, persist: (batch) => batch.putInteractions(indexName, interactions) };
      });
    },

    getInteractions(indexName: string, userId: string, page: { offset: number; limit: number }): Promise<InteractionPage> {
      return run(() => {
        const all = indexOf(indexName).interactions.ofUser(userId);
        return { interactions: all.slice(page.offset, page.offset + page.limit), totalCount: all.length };
      });
    },

    getInteractionsOfUsers(indexName: string, userIds: readonly string[]): Promise<Map<string, Interaction[]>> {
      return run(() => {
        const log = indexOf(indexName).interactions;
        const out = new Map<string, Interaction[]>();
        for (const userId of userIds) out.set(userId, [...log.ofUser(userId)]);
        return out;
      });
    },

    isAvailable(): boolean {
      return failure === undefined;
    },

    onAvailabilityChange(listener: (available: boolean) => void): () => void {
      availabilityListeners.add(listener);
      return () => availabilityListeners.delete(listener);
    },

    close(): Promise<void> {
      closed = true;
      return persistence.close();
    },
  };
}

/**
 * Rebuilds memory from what `persistence` kept: index definitions, then items (the arenas filled in
 * batches, in the order stored), then interactions. Items of a dropped index wait as orphans.
 */
function loadPersisted(persistence: Persistence, indexes: Map<string, EmbeddedIndex>, orphans: Map<string, OrphanedData>): void {
  const data = persistence.load();
  for (const record of data.indexes) {
    const name = record.spec.name;
    if (record.live) indexes.set(name, new EmbeddedIndex(record.spec));
    else orphans.set(name, { spec: record.spec, items: [], interactions: new InteractionLog() });
  }
  let pending: Item[] = [];
  let pendingIndex: EmbeddedIndex | undefined;
  const flush = (): void => {
    if (pendingIndex !== undefined && pending.length > 0) pendingIndex.upsert(pending);
    pending = [];
  };
  for (const [name, item] of data.items()) {
    const index = indexes.get(name);
    if (index === undefined) {
      // Items without a definition are not reachable by any call; they stay on disk untouched.
      orphans.get(name)?.items.push(item);
      continue;
    }
    if (item.vector?.length !== index.dimension) {
      index.unindexed.set(item.id, item);
      continue;
    }
    if (index !== pendingIndex || pending.length >= LOAD_BATCH_ITEMS) {
      flush();
      pendingIndex = index;
    }
    pending.push(item);
  }
  flush();
  const interactions = new Map<string, Interaction[]>();
  for (const [name, interaction] of data.interactions()) {
    let list = interactions.get(name);
    if (list === undefined) interactions.set(name, (list = []));
    list.push(interaction);
  }
  for (const [name, list] of interactions) {
    (indexes.get(name)?.interactions ?? orphans.get(name)?.interactions)?.record(list);
  }
}

/** Runs an async step whose synchronous part may throw (errors become rejections). */
function runAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Runs a synchronous step as a promise (errors become rejections, never synchronous throws). */
function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * The metadata of an item kept from a dropped index, read through a new schema the way Redis re-reads a
 * hash: each value goes through its hash text and is parsed by the new field type; fields the new schema
 * lacks are kept as they are (a later index may use them again).
 */
function adaptFields(fields: FieldValues, from: IndexSpec, to: IndexSpec): FieldValues {
  const out: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(fields)) {
    const target = to.fields.find((f) => f.name === name);
    if (target === undefined || target.type === "vector" || target.type === value.type) {
      out[name] = value;
      continue;
    }
    const source = from.fields.find((f) => f.name === name);
    const separator = source?.type === "tag" ? source.separator : ",";
    const text =
      value.type === "text" ? value.value : value.type === "tag" ? value.values.join(separator) : String(value.value);
    if (target.type === "text") out[name] = { type: "text", value: text };
    else if (target.type === "tag") {
      out[name] = {
        type: "tag",
        values: text
          .split(target.separator)
          .map((t) => t.trim())
          .filter((t) => t !== ""),
      };
    } else {
      const number = Number(text);
      if (text.trim() !== "" && !Number.isNaN(number)) out[name] = { type: "numeric", value: number };
    }
  }
  return out;
}

/**
 * In memory only, a write cannot be made more durable than that, so asking for durability LOCAL or
 * REPLICAS fails before anything is written. With a data directory every write is fsynced before it is
 * acknowledged, which is LOCAL; there are no replicas.
 * @throws FailedPreconditionError
 */
function refuseDurability(options: WriteOptions | undefined, durable: boolean): void {
  const durability = options?.durability;
  if (durability === undefined || durability === "none") return;
  if (durable && durability === "local") return;
  if (durable) {
    throw new FailedPreconditionError(
      `durability REPLICAS is not available on the embedded engine, which has no replicas (nothing was written): ` +
        `send LOCAL (every write is fsynced to its data directory before it is acknowledged), or run vecrec on Redis with replicas`,
    );
  }
  throw new FailedPreconditionError(
    `durability ${durability.toUpperCase()} is not available on the embedded engine, which keeps its data in memory only ` +
      `(nothing was written): send durability NONE or UNSPECIFIED, or run vecrec on Redis with appendonly yes`,
  );
}
