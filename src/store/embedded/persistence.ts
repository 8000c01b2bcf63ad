/**
 * The one write path of the embedded engine to its persistent copy.
 *
 * The engine's in-memory structures (arenas, columns, interaction logs) are what every read and every
 * search uses; a Persistence keeps a copy of the same state that survives a restart, and gives it back
 * once, at open (`load`). Every mutation of the embedded store goes through `commit`:
 *
 *   1. under the index's write lock, the store changes its memory and, in the same synchronous step,
 *      calls `commit(batch => ...)` naming the exact delta (items written, ids deleted, interactions
 *      added or removed, index definitions); `commit` queues it as ONE transaction, in call order, so the
 *      copy on disk changes in the same order as memory;
 *   2. the lock is released, and the write is acknowledged only once the promise `commit` returned has
 *      resolved: the transaction is then on disk (fsynced).
 *
 * The batch callback must only call the batch (it may read memory to build what it passes): the
 * in-memory persistence never runs it. A commit that fails leaves memory ahead of the disk, so the store
 * stops serving (see embedded-store.ts) rather than answer from data a restart would not find.
 *
 * A new kind of embedded state (an alias table, another element type, a partial update) persists by
 * adding what it needs here, in `PersistenceBatch` and `PersistedData`, and implementing it in both
 * persistences (memory: nothing; LMDB: lmdb-persistence.ts, one sub-database or key prefix each).
 * Partial updates of items write the whole item as it now is in memory (`putItems`).
 */
import type { Interaction } from "../../domain/interaction.js";
import type { Item } from "../../domain/item.js";
import type { IndexSpec } from "../../domain/schema.js";

/** An index definition as persisted: live, or dropped with its items kept (Redis keeps them too). */
export interface IndexRecord {
  readonly spec: IndexSpec;
  /** false: the index was dropped without deleting its items; they wait for an index of that name. */
  readonly live: boolean;
}

/** The writes of one transaction. Names are index names; every method only records (no I/O). */
export interface PersistenceBatch {
  /** Creates or replaces the definition of index `name` (`record.spec.name`). */
  putIndex(record: IndexRecord): void;
  /** Removes the definition of index `name` (its items and interactions are deleted with their own calls). */
  deleteIndex(name: string): void;
  /** Writes whole items (vector and every field) of index `indexName`, replacing any with the same id. */
  putItems(indexName: string, items: Iterable<Item>): void;
  /** Deletes items by id (ids that do not exist are ignored). */
  deleteItems(indexName: string, ids: Iterable<string>): void;
  /** Writes interactions; one with the same (user, item, kind, time) as a stored one replaces it. */
  putInteractions(indexName: string, interactions: Iterable<Interaction>): void;
  /** Deletes interactions by (user, item, kind, time). */
  deleteInteractions(indexName: string, interactions: Iterable<Interaction>): void;
  /** Small store-wide values (an alias table, settings): `undefined` deletes the key. msgpack-encodable. */
  putMeta(key: string, value: unknown): void;
}

/** Everything persisted, as read at open. */
export interface PersistedData {
  readonly indexes: readonly IndexRecord[];
  /** Every item, vectors included, as [index name, item], read lazily (one index after another). */
  items(): Iterable<[string, Item]>;
  /** Every interaction, as [index name, interaction], read lazily. */
  interactions(): Iterable<[string, Interaction]>;
  /** The values written with putMeta. */
  readonly meta: ReadonlyMap<string, unknown>;
}

export interface Persistence {
  /** false for the in-memory persistence (nothing survives the process). */
  readonly durable: boolean;
  /** Where the data lives (a directory), for logs; undefined in memory. */
  readonly location: string | undefined;
  /** The state persisted before this process started. Call once, before any commit. */
  load(): PersistedData;
  /**
   * Queues the writes `write` names as one transaction, after every transaction queued before it, and
   * returns a promise that resolves once it is durable (or rejects when it could not be written).
   * `write` runs synchronously, before commit returns, or not at all (in memory).
   */
  commit(write: (batch: PersistenceBatch) => void): Promise<void>;
  /** Waits for the transactions queued, then releases the files. Idempotent. */
  close(): Promise<void>;
}

const RESOLVED = Promise.resolve();

/** Today's embedded engine: nothing is written anywhere, and nothing is loaded. */
export function memoryPersistence(): Persistence {
  return {
    durable: false,
    location: undefined,
    load: () => ({ indexes: [], items: () => [], interactions: () => [], meta: new Map() }),
    commit: () => RESOLVED,
    close: () => RESOLVED,
  };
}
