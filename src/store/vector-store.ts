/**
 * The storage port: what every backend (embedded engine, Redis Query Engine) implements. Inputs are
 * already validated by the use cases (src/usecases/): ids are well-formed, vectors have the index's
 * dimension and finite values, filters name existing fields of the right type. Stores still throw
 * IndexNotFoundError for an unknown index, since it can vanish between validation and use.
 *
 * Every method may throw UnavailableError when the backend cannot be reached.
 */
import type { Durability } from "../domain/durability.js";
import type { FilterNode } from "../domain/filter/filter.js";
import type { Interaction, InteractionPage } from "../domain/interaction.js";
import type { Item, ItemUpdate, ItemUpdateOutcome } from "../domain/item.js";
import type { IndexInfo, IndexSpec, InterestSpec } from "../domain/schema.js";

export interface SearchQuery {
  /** KNN when set (dimension already checked); a filter-only query when absent. */
  readonly vector?: Float32Array;
  /** KNN: number of neighbours. Filter-only: page size. 1..10000. */
  readonly k: number;
  /** Filter-only: matches to skip. Always 0 for KNN. */
  readonly offset: number;
  /** Applied before KNN. */
  readonly filter: FilterNode;
  /** Ids to leave out of the results (e.g. the query item itself); applied before KNN, so k stays k. */
  readonly excludeIds?: readonly string[];
  /** Metadata fields to return; `undefined` means all metadata fields. */
  readonly returnFields?: readonly string[];
  readonly includeVectors: boolean;
  /** HNSW only; undefined = index default. */
  readonly efRuntime?: number;
  /**
   * Range search (needs `vector`): only items at distance <= this radius (the metric's own units, as
   * reported: L2 squared), closest first, at most k. Rows at a NaN distance never match.
   */
  readonly maxDistance?: number;
  /** Aborted when the caller cancels or the deadline passes. */
  readonly signal?: AbortSignal;
}

export interface SearchHit {
  readonly id: string;
  /** KNN: the Redis-compatible distance (COSINE 1-cos, IP 1-dot, L2 squared). Filter-only: 0. */
  readonly distance: number;
  readonly item: Item;
}

export interface SearchResult {
  /** KNN: hits closest first, ties by id. Filter-only: hits by id ascending. */
  readonly hits: readonly SearchHit[];
  /** Number of items matching (KNN: min(k, matches)). */
  readonly totalMatches: number;
}

/** One compare-and-set of VectorStore.setInterestTags. */
export interface InterestTagUpdate {
  readonly id: string;
  /** The vector the tags were derived from (as read by scanItems); the write happens only if it is still stored. */
  readonly basedOnVector: Float32Array;
  /** The new tag values; empty removes the field. */
  readonly tags: readonly string[];
}

/** What exportItems walks. */
export interface ExportOptions {
  readonly filter: FilterNode;
  /** Only ids after this one (compareIds); undefined = from the first. */
  readonly afterId?: string;
  readonly batchSize: number;
  readonly signal?: AbortSignal;
}

/**
 * What a read or an index change gets from its call: every store method takes it (or a `signal` in its
 * own options). Aborted when the caller cancels or the deadline passes: the method then stops sending
 * and scanning and fails with CancelledError / DeadlineExceededError, within a few milliseconds on the
 * embedded engine (between scan slices, or while waiting for the index's lock) and at once on Redis
 * (the reply of a command already sent is not waited for). An index change stopped part-way leaves
 * what it did (see each method); repeating it is safe.
 */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** What a write gets from its call. */
export interface WriteOptions {
  /**
   * Aborted when the caller cancels or the deadline passes: the write then sends nothing more and fails
   * with CancelledError / DeadlineExceededError. What it sent before may have been applied (each item
   * or interaction whole or not at all); writes are idempotent, so repeating the call is safe.
   */
  readonly signal?: AbortSignal;
  /**
   * How durable the write must be before it resolves (domain/durability.ts); undefined = the store's
   * default. Stores that cannot give more than `none` throw FailedPreconditionError (nothing written).
   */
  readonly durability?: Durability;
}

export interface CreateIndexResult {
  readonly created: boolean;
  readonly info: IndexInfo;
}

export interface VectorStore {
  /** "embedded" or "redis": shown in logs and health. */
  readonly backend: string;

  /**
   * Creates the index, or returns the existing one when its spec is equal (created=false).
   * @throws AlreadyExistsError when an index of that name exists with another spec, or an alias has
   *   that name (domain/alias.ts).
   */
  createIndex(spec: IndexSpec, options?: CallOptions): Promise<CreateIndexResult>;
  /** The index's own name (not an alias), with its aliases. @throws IndexNotFoundError */
  getIndex(name: string, options?: CallOptions): Promise<IndexInfo>;
  /**
   * The spec of index `name`, cheap: what every upsert, search and recommendation validates against.
   * The one index-spec cache of vecrec lives behind this method: a backend may answer from a copy up to
   * about 1 s old (Redis: the definitions hash, re-read after its cache time); changes made through this
   * store (createIndex, dropIndex, setInterests) are seen at once, another replica's within that time,
   * and an index found missing by any call is not served from the copy again. The embedded engine
   * answers from memory. Counters (item count, indexing state) are getIndex's.
   *
   * ALIASES are resolved here, and only here: `name` may be an alias, and the spec returned is its
   * index's, whose `name` is the index's own; use cases pass that name to every other method (which take
   * index names only). An alias is never cached: it is read each time (Redis: from the aliases hash,
   * in the round trip that would read the definition), so a moved alias takes effect for the next call
   * on every replica. (An index name cached here can only turn into an alias's name once the index is
   * dropped; a call in that second finds the index missing, as for any dropped index.)
   * @throws IndexNotFoundError (no index nor alias of that name)
   */
  getIndexSpec(name: string, options?: CallOptions): Promise<IndexSpec>;
  /** Every index, sorted by name. */
  listIndexes(options?: CallOptions): Promise<IndexInfo[]>;
  /**
   * With deleteItems, also the items' interactions. Stopped by its signal part-way (Redis), the index
   * may be gone with part of its items: repeating the drop finishes it.
   * @throws IndexNotFoundError; FailedPreconditionError when `name` is an alias, or aliases point to
   *   the index (domain/alias.ts: nothing dropped)
   */
  dropIndex(name: string, options: { deleteItems: boolean; readonly signal?: AbortSignal }): Promise<void>;
  /**
   * Creates alias `alias` of index `indexName` (domain/alias.ts); created=false when it already
   * pointed there.
   * @throws IndexNotFoundError; AlreadyExistsError (an index has that name, or the alias points to
   *   another index); FailedPreconditionError (`indexName` is an alias)
   */
  createAlias(alias: string, indexName: string, options?: CallOptions): Promise<{ created: boolean }>;
  /**
   * Moves an existing alias to index `indexName`; returns the index it pointed to before.
   * @throws AliasNotFoundError, IndexNotFoundError; FailedPreconditionError (`indexName` is an alias)
   */
  updateAlias(alias: string, indexName: string, options?: CallOptions): Promise<{ previousIndexName: string }>;
  /** Removes an alias; returns the index it pointed to. @throws AliasNotFoundError */
  deleteAlias(alias: string, options?: CallOptions): Promise<{ indexName: string }>;
  /**
   * Replaces the interests of the index definition (adding the tag field to the schema when it is new).
   * Does not touch items: the use case recomputes them with scanItems + setInterestTags. With
   * `recomputeTagField`, the same atomic write marks the index's items as waiting for that recompute
   * (into that tag field) until interestsRecomputed, so that one cut short (a crash) can be finished
   * at the next start (pendingInterestRecomputes).
   * @throws IndexNotFoundError
   */
  setInterests(name: string, interests: InterestSpec | undefined, options?: CallOptions & { readonly recomputeTagField?: string }): Promise<IndexInfo>;
  /** Clears the mark setInterests left on `name`: the recompute of its items' interests finished. */
  interestsRecomputed(name: string, options?: CallOptions): Promise<void>;
  /** The indexes whose recompute was marked and not finished (cut short, or running now): name -> tag field. */
  pendingInterestRecomputes(options?: CallOptions): Promise<Map<string, string>>;

  /** Writes whole items (replacing existing ones with the same id). All or nothing per call where the backend allows. */
  upsert(index: string, items: readonly Item[], options?: WriteOptions): Promise<void>;
  /**
   * Changes stored items in place (UpdateItems): for each update, atomically with respect to every other
   * write of the store, sets its fields, removes its `remove` fields and replaces the vector when given,
   * leaving everything else as stored. A missing item is created from the update (id, vector, `set`)
   * only when `createMissing` and the update has a vector; else it is left alone. Outcomes in the order
   * of `updates` (ids are distinct).
   * @throws IndexNotFoundError
   */
  updateItems(
    index: string,
    updates: readonly ItemUpdate[],
    options: WriteOptions & { readonly createMissing: boolean },
  ): Promise<ItemUpdateOutcome[]>;
  /** Items in the order of `ids`; undefined where missing. */
  getItems(
    index: string,
    ids: readonly string[],
    options: { includeVectors: boolean; readonly signal?: AbortSignal },
  ): Promise<(Item | undefined)[]>;
  /** Deletes items and their interactions; returns how many items existed. */
  deleteItems(index: string, ids: readonly string[], options?: WriteOptions): Promise<number>;
  /**
   * ExportItems: every item of the index matching `filter`, with its vector, in id order (UTF-8 bytes,
   * compareIds), only ids after `afterId` when given, in batches of at most `batchSize`. Items deleted
   * meanwhile are skipped. Memory: Redis holds one batch of ids at a time (sorted by Redis); the
   * embedded engine lists the matching ids once.
   * @throws IndexNotFoundError (from the first batch)
   */
  exportItems(index: string, options: ExportOptions): AsyncIterable<Item[]>;
  /** Every item of the index in batches (with vectors), for maintenance such as recomputing interests. */
  scanItems(index: string, batchSize: number, options?: CallOptions): AsyncIterable<Item[]>;
  /**
   * Compare-and-set of the interests tag, for recomputing interests from scanned items without losing
   * a concurrent upsert. For each update: when item `id` still exists and its stored vector is
   * bit-identical to `basedOnVector`, sets field `tagField` to `tags` (removes the field when `tags` is
   * empty) and leaves every other field and the vector as they are; otherwise (deleted, or rewritten
   * with another vector since it was read) the item is left untouched. The check and the write of one
   * item are atomic with respect to every other write of the store (an upsert or delete lands wholly
   * before or wholly after them). An item rewritten with a bit-identical vector passes the check: only
   * the tag is written, so its other new fields are kept. Duplicate ids: the last update wins.
   * Returns how many items were written (passed the check).
   * @throws IndexNotFoundError; UnavailableError also when a backend with optimistic concurrency (Redis)
   *   saw the items change again on every one of its bounded attempts (nothing of that block written)
   */
  setInterestTags(index: string, updates: readonly InterestTagUpdate[], tagField: string): Promise<number>;

  search(index: string, query: SearchQuery): Promise<SearchResult>;

  /** Stores interactions (deduplicated on user, item, kind, time); returns how many were given. */
  recordInteractions(index: string, interactions: readonly Interaction[], options?: WriteOptions): Promise<number>;
  /** One user's interactions, newest first (ties: item id, kind). */
  getInteractions(index: string, userId: string, page: { offset: number; limit: number }, options?: CallOptions): Promise<InteractionPage>;
  /**
   * Every interaction of each user, newest first, in one round trip on Redis.
   * Users without interactions map to an empty list.
   */
  getInteractionsOfUsers(
    index: string,
    userIds: readonly string[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<Map<string, Interaction[]>>;

  /**
   * Whether the backend can be reached now (false while Redis is down, calls then fail with
   * UnavailableError). A store without it is always available.
   */
  isAvailable?(): boolean;
  /** Calls `listener` on each change of isAvailable(); returns the function that unsubscribes it. */
  onAvailabilityChange?(listener: (available: boolean) => void): () => void;

  /** Closes connections; further calls fail. Idempotent. */
  close(): Promise<void>;
}
