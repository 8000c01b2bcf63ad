/**
 * VectorStore on the Redis Query Engine (RediSearch), through node-redis 6 over RESP3, on a single
 * server or an OSS Cluster (found out by asking the server, see connection.ts).
 *
 * The rooms: connection.ts and cluster-connection.ts (connecting, routing, availability);
 * index-definitions.ts and index-operations.ts (definitions and FT indexes); alias-operations.ts
 * (aliases: the aliases hash and the FT aliases); items.ts; interactions.ts;
 * interest-tags.ts; search.ts; commands/ holds each FT.* command's arguments beside its reply parser.
 *
 * Key layout (redis-keys.ts), unchanged since the first version, so data written by any earlier
 * vecrec is read as it is: item hashes `<prefix><index>:item:<id>` indexed by the FT index
 * `<prefix>idx:<index>`; the definitions hash `<prefix>indexes`; a sorted set of interactions per user
 * and a set of users per item. Every command, MULTI/EXEC and script touches one key, so nothing spans
 * two hash slots: the same code runs on a cluster and on a proxy of a sharded database (which refuses
 * CROSSSLOT too). Where two keys change in one call, the file doing it says what a crash between them
 * leaves and how vecrec tolerates it.
 *
 * Round trips: commands issued in the same tick are written together by node-redis (one write per
 * node), so independent commands are sent with Promise.all rather than awaited one by one.
 */
import { FailedPreconditionError, IndexNotFoundError, UnavailableError } from "../../domain/errors.js";
import type { Interaction, InteractionPage } from "../../domain/interaction.js";
import type { Item, ItemUpdate, ItemUpdateOutcome } from "../../domain/item.js";
import type { IndexInfo, IndexSpec, InterestSpec } from "../../domain/schema.js";
import type {
  CallOptions,
  CreateIndexResult,
  ExportOptions,
  InterestTagUpdate,
  SearchQuery,
  SearchResult,
  VectorStore,
  WriteOptions,
} from "../vector-store.js";
import type { Durability } from "../../domain/durability.js";
import type { StoreObserver } from "../store-observer.js";
import { connectCluster } from "./cluster-connection.js";
import {
  DEFAULT_LIMITS,
  type ConnectionLimits,
  type RedisConnection,
  type RedisSecurity,
  type RedisStoreLogger,
} from "./connection.js";
import { connectRedis } from "./connect.js";
import { redactUrl, redactUrlsIn, selectedDatabase, splitRedisUrls } from "./connection-url.js";
import { observeConnection } from "./observed-connection.js";
import { IndexDefinitions } from "./index-definitions.js";
import { IndexOperations } from "./index-operations.js";
import { AliasOperations } from "./alias-operations.js";
import { InteractionOperations } from "./interactions.js";
import { InterestTagOperations } from "./interest-tags.js";
import { ItemOperations } from "./items.js";
import { WriteRecorder, confirmDurable } from "./durability.js";
import { toDomainError } from "./redis-errors.js";
import { createRedisKeys } from "./redis-keys.js";
import { SearchOperations } from "./search.js";
import type { StoreContext } from "./redis-room.js";

export type { RedisStoreLogger } from "./connection.js";

export interface RedisStoreOptions {
  /**
   * `redis://[[user]:password@]host[:port][/db]` (`rediss://` for TLS), or several separated by commas:
   * seeds of a cluster (the first reachable one is asked whether Redis is a cluster; credentials and
   * TLS of the first apply to every node).
   */
  readonly url: string;
  /** A password and TLS material given apart from the URL (applied to every node of a cluster). */
  readonly security?: RedisSecurity | undefined;
  /** Prefix of every key and FT index name; default `vecrec:`. */
  readonly keyPrefix?: string;
  /** How long one connection attempt may take; default 3000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * How long an index definition read from Redis is reused before it is read again; default 1000 ms.
   * Definitions change only through createIndex/dropIndex/setInterests, which refresh this replica's
   * copy at once; other replicas see the change after at most this long.
   */
  readonly definitionCacheMs?: number;
  /**
   * How often Redis is probed (PING; on a cluster also CLUSTER INFO); default 500 ms. The store is
   * unavailable (gRPC health NOT_SERVING) from the first probe that fails until one succeeds.
   */
  readonly probeIntervalMs?: number;
  /** The former name of probeIntervalMs (clusters only then); probeIntervalMs wins. */
  readonly clusterProbeIntervalMs?: number;
  /** How long a probe may take before Redis counts as not answering (frozen, overloaded); default 1000 ms. */
  readonly probeTimeoutMs?: number;
  /**
   * The longest any one Redis command may keep a call waiting, whatever its deadline (a call without
   * a deadline included); default 10 000 ms. A command past it fails the call with UNAVAILABLE.
   * (No configuration flag yet: set it here.)
   */
  readonly commandTimeoutMs?: number;
  /**
   * The durability of a write that does not ask for one (durability.ts); default `none`. Other levels
   * need Redis's append-only file (appendonly yes).
   */
  readonly durability?: Durability;
  /** The WAITAOF timeout of a durable write: how long fsyncs may take before it fails UNAVAILABLE; default 2000 ms. */
  readonly durabilityTimeoutMs?: number;
  readonly logger?: RedisStoreLogger;
  /** Told of every Redis round trip (metrics, tracing; see store-observer.ts); none by default. */
  readonly observer?: StoreObserver;
}

/**
 * Connects to Redis and returns a VectorStore on it. Waits for the first connection attempt only:
 * when Redis is unreachable it logs that once and still returns the store, whose calls fail with
 * UnavailableError until the client, retrying in the background, connects (isAvailable() tells,
 * onAvailabilityChange reports each change).
 * @throws FailedPreconditionError when a URL selects a database other than 0;
 *   UnavailableError when Redis answers the handshake with an error (wrong password, no RESP3...):
 *   configuration, which retrying would not fix.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<VectorStore> {
  const urls = splitRedisUrls(options.url);
  for (const url of urls) {
    const database = selectedDatabase(url);
    if (database !== 0) {
      // RediSearch refuses FT.CREATE elsewhere ("Cannot create index on db != 0") and indexes only the
      // keys of database 0 (a cluster has only database 0).
      throw new FailedPreconditionError(
        `the Redis Query Engine works only in database 0, but the Redis URL selects database ${database}: ` +
          `drop the /${database} from ${redactUrl(url)}`,
      );
    }
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
  const limits: ConnectionLimits = {
    probeIntervalMs: options.probeIntervalMs ?? options.clusterProbeIntervalMs ?? DEFAULT_LIMITS.probeIntervalMs,
    probeTimeoutMs: options.probeTimeoutMs ?? DEFAULT_LIMITS.probeTimeoutMs,
    commandTimeoutMs: options.commandTimeoutMs ?? DEFAULT_LIMITS.commandTimeoutMs,
  };
  let connection: RedisConnection;
  try {
    connection = await connectRedis({
      urls,
      connectTimeoutMs,
      security: options.security,
      logger: options.logger,
      limits,
      cluster: (seeds) => connectCluster({ urls: seeds, connectTimeoutMs, security: options.security, logger: options.logger, limits }),
    });
  } catch (error) {
    // node-redis prints URLs as given in some messages (a TLS mismatch, for one): never their password.
    throw new UnavailableError(`cannot connect to Redis: ${redactUrlsIn(error instanceof Error ? error.message : String(error))}`);
  }
  return new RedisStore(options.observer ? observeConnection(connection, options.observer) : connection, options);
}

class RedisStore implements VectorStore {
  readonly backend = "redis";
  readonly #connection: RedisConnection;
  readonly #definitions: IndexDefinitions;
  readonly #indexes: IndexOperations;
  readonly #aliases: AliasOperations;
  readonly #items: ItemOperations;
  readonly #tags: InterestTagOperations;
  readonly #interactions: InteractionOperations;
  readonly #search: SearchOperations;
  readonly #keys: ReturnType<typeof createRedisKeys>;
  readonly #durability: Durability;
  readonly #durabilityTimeoutMs: number;

  constructor(connection: RedisConnection, options: RedisStoreOptions) {
    this.#connection = connection;
    const keys = createRedisKeys(options.keyPrefix ?? "vecrec:");
    this.#keys = keys;
    this.#durability = options.durability ?? "none";
    this.#durabilityTimeoutMs = options.durabilityTimeoutMs ?? 2000;
    const definitions = new IndexDefinitions(connection, keys, options.definitionCacheMs ?? 1000);
    this.#definitions = definitions;
    const context = { connection, keys, definitions };
    this.#indexes = new IndexOperations(context);
    this.#aliases = new AliasOperations(context, this.#indexes);
    this.#items = new ItemOperations(context);
    this.#tags = new InterestTagOperations(context);
    this.#interactions = new InteractionOperations(context);
    this.#search = new SearchOperations(context, this.#indexes);
  }

  /** "standalone" or "cluster": which shape of Redis this store found. */
  get mode(): "standalone" | "cluster" {
    return this.#connection.mode;
  }

  /** Runs `work`, turning whatever it throws into a domain error. */
  async #call<T>(indexName: string | undefined, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const domainError = toDomainError(error, { indexName, signal });
      // A call that found the index missing (dropped by another replica) ends the cached copy of its spec.
      if (domainError instanceof IndexNotFoundError && indexName !== undefined) this.#definitions.forget(indexName);
      throw domainError;
    }
  }

  /**
   * Runs a write: as it is when its durability is none; else on a connection that records the keys it
   * writes, then waits (WAITAOF) until they are fsynced as asked before resolving (durability.ts).
   */
  async #write<T>(options: WriteOptions | undefined, work: (context: StoreContext) => Promise<T>): Promise<T> {
    const durability = options?.durability ?? this.#durability;
    const base = { keys: this.#keys, definitions: this.#definitions };
    if (durability === "none") return work({ ...base, connection: this.#connection });
    const recorder = new WriteRecorder(this.#connection);
    const result = await work({ ...base, connection: recorder });
    await confirmDurable(this.#connection, recorder.written, durability, this.#durabilityTimeoutMs, options?.signal);
    return result;
  }

  isAvailable(): boolean {
    return this.#connection.isAvailable();
  }

  onAvailabilityChange(listener: (available: boolean) => void): () => void {
    return this.#connection.onAvailabilityChange(listener);
  }

  createIndex(spec: IndexSpec, options?: CallOptions): Promise<CreateIndexResult> {
    const signal = options?.signal;
    return this.#call(spec.name, () => this.#indexes.createIndex(spec, signal), signal);
  }

  getIndex(name: string, options?: CallOptions): Promise<IndexInfo> {
    const signal = options?.signal;
    return this.#call(name, () => this.#indexes.getIndex(name, signal), signal);
  }

  /** From the definitions cache (index-definitions.ts): one HGET at most every definitionCacheMs. */
  getIndexSpec(name: string, options?: CallOptions): Promise<IndexSpec> {
    const signal = options?.signal;
    return this.#call(name, () => this.#definitions.get(name, signal), signal);
  }

  listIndexes(options?: CallOptions): Promise<IndexInfo[]> {
    const signal = options?.signal;
    return this.#call(undefined, () => this.#indexes.listIndexes(signal), signal);
  }

  dropIndex(name: string, options: { deleteItems: boolean; readonly signal?: AbortSignal }): Promise<void> {
    return this.#call(name, () => this.#indexes.dropIndex(name, options), options.signal);
  }

  createAlias(alias: string, indexName: string, options?: CallOptions): Promise<{ created: boolean }> {
    const signal = options?.signal;
    return this.#call(indexName, () => this.#aliases.createAlias(alias, indexName, signal), signal);
  }

  updateAlias(alias: string, indexName: string, options?: CallOptions): Promise<{ previousIndexName: string }> {
    const signal = options?.signal;
    return this.#call(indexName, () => this.#aliases.updateAlias(alias, indexName, signal), signal);
  }

  deleteAlias(alias: string, options?: CallOptions): Promise<{ indexName: string }> {
    const signal = options?.signal;
    return this.#call(undefined, () => this.#aliases.deleteAlias(alias, signal), signal);
  }

  setInterests(name: string, interests: InterestSpec | undefined, options?: CallOptions & { readonly recomputeTagField?: string }): Promise<IndexInfo> {
    const signal = options?.signal;
    return this.#call(name, () => this.#indexes.setInterests(name, interests, signal, options?.recomputeTagField), signal);
  }

  interestsRecomputed(name: string, options?: CallOptions): Promise<void> {
    const signal = options?.signal;
    return this.#call(undefined, () => this.#definitions.clearRecompute(name, signal), signal);
  }

  pendingInterestRecomputes(options?: CallOptions): Promise<Map<string, string>> {
    const signal = options?.signal;
    return this.#call(undefined, () => this.#definitions.pendingRecomputes(signal), signal);
  }

  upsert(index: string, items: readonly Item[], options?: WriteOptions): Promise<void> {
    const signal = options?.signal;
    return this.#call(
      index,
      () => this.#write(options, (context) => (context.connection === this.#connection ? this.#items : new ItemOperations(context)).upsert(index, items, signal)),
      signal,
    );
  }

  updateItems(
    index: string,
    updates: readonly ItemUpdate[],
    options: WriteOptions & { readonly createMissing: boolean },
  ): Promise<ItemUpdateOutcome[]> {
    const signal = options.signal;
    return this.#call(
      index,
      () =>
        this.#write(options, (context) =>
          (context.connection === this.#connection ? this.#items : new ItemOperations(context)).updateItems(
            index,
            updates,
            options.createMissing,
            signal,
          ),
        ),
      signal,
    );
  }

  getItems(
    index: string,
    ids: readonly string[],
    options: { includeVectors: boolean; readonly signal?: AbortSignal },
  ): Promise<(Item | undefined)[]> {
    return this.#call(index, () => this.#items.getItems(index, ids, options), options.signal);
  }

  deleteItems(index: string, ids: readonly string[], options?: WriteOptions): Promise<number> {
    const signal = options?.signal;
    return this.#call(
      index,
      () =>
        this.#write(options, (context) =>
          (context.connection === this.#connection ? this.#items : new ItemOperations(context)).deleteItems(index, ids, signal),
        ),
      signal,
    );
  }

  async *exportItems(index: string, options: ExportOptions): AsyncIterable<Item[]> {
    const iterator = this.#items.exportItems(index, options);
    try {
      for (;;) {
        const next = await this.#call(index, () => iterator.next(), options.signal);
        if (next.done === true) return;
        yield next.value;
      }
    } finally {
      await iterator.return(undefined).catch(() => undefined);
    }
  }

  async *scanItems(index: string, batchSize: number, options?: CallOptions): AsyncIterable<Item[]> {
    const signal = options?.signal;
    const iterator = this.#items.scanItems(index, batchSize, signal)[Symbol.asyncIterator]();
    for (;;) {
      const next = await this.#call(index, () => iterator.next(), signal);
      if (next.done === true) return;
      yield next.value;
    }
  }

  setInterestTags(index: string, updates: readonly InterestTagUpdate[], tagField: string): Promise<number> {
    return this.#call(index, () => this.#tags.setInterestTags(index, updates, tagField));
  }

  search(index: string, query: SearchQuery): Promise<SearchResult> {
    return this.#call(index, () => this.#search.search(index, query), query.signal);
  }

  recordInteractions(index: string, interactions: readonly Interaction[], options?: WriteOptions): Promise<number> {
    const signal = options?.signal;
    return this.#call(
      index,
      () =>
        this.#write(options, (context) =>
          (context.connection === this.#connection ? this.#interactions : new InteractionOperations(context)).recordInteractions(
            index,
            interactions,
            signal,
          ),
        ),
      signal,
    );
  }

  getInteractions(index: string, userId: string, page: { offset: number; limit: number }, options?: CallOptions): Promise<InteractionPage> {
    const signal = options?.signal;
    return this.#call(index, () => this.#interactions.getInteractions(index, userId, page, signal), signal);
  }

  getInteractionsOfUsers(
    index: string,
    userIds: readonly string[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<Map<string, Interaction[]>> {
    return this.#call(index, () => this.#interactions.getInteractionsOfUsers(index, userIds, options?.signal), options?.signal);
  }

  close(): Promise<void> {
    return this.#connection.close();
  }
}
