/**
 * The embedded engine's state (live indexes, data of dropped indexes) and THE WRITE PATH to it.
 *
 * Every mutation of the embedded store goes through `mutate` below and nowhere else: it runs the change
 * of memory and, in the same synchronous step, `persistence.commit(batch => ...)` with the exact delta
 * (one transaction per write request, queued in the order memory changed), then waits, outside the index
 * lock, until that transaction is durable, and only then answers. A new mutation (a partial update, an
 * alias, another element type) must do the same: change memory inside `mutate` and name what changed on
 * the batch (putItems with the whole items as they now are, putIndex, putMeta...); what it does not put
 * on the batch is lost on restart. A commit that fails (disk full, I/O error) leaves memory ahead of the
 * disk: the store then stops (every call UNAVAILABLE, health NOT_SERVING) until restarted from the disk.
 */
import { ScanThreads } from "./scan-threads.js";
import { aliasesOf } from "../../domain/alias.js";
import { FailedPreconditionError, IndexNotFoundError, UnavailableError } from "../../domain/errors.js";
import type { IndexInfo } from "../../domain/schema.js";
import type { WriteOptions } from "../vector-store.js";
import type { EmbeddedIndex } from "./embedded-index.js";
import { loadPersisted, type OrphanedData } from "./load-persisted.js";
import type { Persistence, PersistenceBatch } from "./persistence.js";

/** What a change of memory returns: its result and the delta to persist (undefined: nothing changed). */
export interface Change<T> {
  readonly value: T;
  readonly persist?: (batch: PersistenceBatch) => void;
}

export class EmbeddedState {
  readonly indexes = new Map<string, EmbeddedIndex>();
  readonly orphans = new Map<string, OrphanedData>();
  /** alias → index name (domain/alias.ts); persisted whole under putMeta(ALIASES_META_KEY). */
  readonly aliases = new Map<string, string>();
  /** Interest recomputes marked by setInterests and not finished: index name → tag field (persisted whole under putMeta(RECOMPUTES_META_KEY)). */
  readonly recomputes = new Map<string, string>();
  private closed = false;
  /** Set when a commit failed: memory is ahead of the disk, so nothing is served any more. */
  private failure: Error | undefined;
  private readonly availabilityListeners = new Set<(available: boolean) => void>();

  /**
   * @param scanThreads threads that large searches share their scans with (scan-threads.ts); the state
   *   ends them when it closes
   */
  constructor(
    readonly persistence: Persistence,
    readonly scanThreads: ScanThreads = new ScanThreads(0),
  ) {
    loadPersisted(persistence, this.indexes, this.orphans, this.aliases, this.recomputes);
  }

  /** @throws UnavailableError once closed or after a failed commit. */
  open(): void {
    if (this.closed) throw new UnavailableError("the embedded store is closed");
    if (this.failure !== undefined) {
      throw new UnavailableError(
        `the embedded engine could not save a write to its data directory (${this.failure.message}); it stopped serving: ` +
          `restart the server (it reloads what was saved)`,
      );
    }
  }

  /** @throws IndexNotFoundError, UnavailableError */
  indexOf(name: string): EmbeddedIndex {
    this.open();
    const index = this.indexes.get(name);
    if (index === undefined) throw new IndexNotFoundError(name);
    return index;
  }

  /** The index named `name`, or the one alias `name` points to. @throws IndexNotFoundError, UnavailableError */
  resolve(name: string): EmbeddedIndex {
    this.open();
    const index = this.indexes.get(name) ?? this.indexes.get(this.aliases.get(name) ?? "");
    if (index === undefined) throw new IndexNotFoundError(name);
    return index;
  }

  /** What getIndex tells of `index`, its aliases included. */
  infoOf(index: EmbeddedIndex): IndexInfo {
    const info = infoOf(index);
    const aliases = aliasesOf(this.aliases, index.spec.name);
    return aliases.length === 0 ? info : { ...info, aliases };
  }

  /**
   * The write path (see the header): `change` mutates memory and returns its result and the delta to
   * persist. The delta is committed at once, in the same synchronous step; `saved` resolves once the
   * delta is durable.
   */
  mutate<T>(change: () => Change<T>): { value: T; saved: Promise<void> } {
    const { value, persist } = change();
    if (persist === undefined) return { value, saved: Promise.resolve() };
    const saved = this.persistence.commit(persist).catch((error: unknown) => {
      const cause = error instanceof Error ? error : new Error(String(error));
      if (this.failure === undefined) {
        this.failure = cause;
        for (const listener of this.availabilityListeners) listener(false);
      }
      throw new UnavailableError(`the write could not be saved to the data directory: ${cause.message}`, { cause });
    });
    return { value, saved };
  }

  /** Runs `change` through `mutate` and resolves once it is durable. */
  async write<T>(change: () => Change<T>): Promise<T> {
    const { value, saved } = this.mutate(change);
    await saved;
    return value;
  }

  /**
   * Runs `fn` on index `name` under its write lock. A write waits for the searches in flight; when the
   * index was dropped meanwhile, writing to it would be acknowledged and then lost (its data was set
   * aside when it was dropped), so the write goes to the index now of that name, or fails with
   * IndexNotFoundError when there is none. A write whose `signal` aborts while it waits for the lock
   * gives up (CancelledError / DeadlineExceededError) and changes nothing.
   */
  async writeTo<T>(name: string, fn: (index: EmbeddedIndex) => Change<T>, signal?: AbortSignal): Promise<T> {
    for (;;) {
      const index = this.indexOf(name);
      // The memory change and the queueing of its transaction happen under the lock; the wait for the
      // disk does not hold it.
      const done = await index.lock.write(() => (this.indexes.get(name) === index ? this.mutate(() => fn(index)) : undefined), signal);
      if (done !== undefined) {
        await done.saved;
        return done.value;
      }
    }
  }

  isAvailable(): boolean {
    return this.failure === undefined;
  }

  onAvailabilityChange(listener: (available: boolean) => void): () => void {
    this.availabilityListeners.add(listener);
    return () => this.availabilityListeners.delete(listener);
  }

  close(): Promise<void> {
    this.closed = true;
    void this.scanThreads.close();
    return this.persistence.close();
  }
}

export function infoOf(index: EmbeddedIndex): IndexInfo {
  return {
    spec: index.spec,
    itemCount: index.size,
    indexing: false,
    indexingProgress: 1,
    indexingFailures: index.unindexed.size,
  };
}

/**
 * In memory only, a write cannot be made more durable than that, so asking for durability LOCAL or
 * REPLICAS fails before anything is written. With a data directory every write is fsynced before it is
 * acknowledged, which is LOCAL; there are no replicas.
 * @throws FailedPreconditionError
 */
export function refuseDurability(options: WriteOptions | undefined, durable: boolean): void {
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

/** Runs an async step whose synchronous part may throw (errors become rejections). */
export function runAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Runs a synchronous step as a promise (errors become rejections, never synchronous throws). */
export function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
