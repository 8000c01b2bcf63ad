/**
 * VectorStore on the Redis Query Engine (RediSearch), through node-redis 6 over RESP3.
 *
 * Layout (see redis-keys.ts): item hashes `<prefix><index>:item:<id>` indexed by the FT index
 * `<prefix>idx:<index>`; index definitions as JSON in the hash `<prefix>indexes` (the full spec,
 * interests included, which FT.INFO cannot tell back, shared by every vecrec replica); interactions in
 * one sorted set per user `<prefix><index>:interactions:<userId>` and, so that deleting an item can
 * delete its interactions, a set of the users of each item `<prefix><index>:item-users:<itemId>`.
 *
 * Connection policy: no per-command timer (node-redis's default 5 s timeout costs a timer per
 * command); work is bounded by the caller's AbortSignal instead. No offline queue: while Redis is
 * unreachable (at startup too) every call fails at once with UnavailableError and the client
 * (re)connects in the background; isAvailable/onAvailabilityChange report the connection state.
 * setInterestTags runs its WATCH/MULTI/EXEC blocks on a second connection of the same settings,
 * opened on first use (WATCH state belongs to a connection), one block at a time.
 *
 * Round trips: commands issued in the same tick are written together by node-redis (one write, one
 * round trip), so independent commands are sent with Promise.all rather than awaited one by one.
 */
import { ClientClosedError, ClientOfflineError, ErrorReply, RESP_TYPES, WatchError, createClient } from "redis";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  IndexNotFoundError,
  UnavailableError,
  throwIfAborted,
} from "../../domain/errors.js";
import { compareIds } from "../../domain/id-order.js";
import { specsEqual, interestTagField } from "../../domain/index-spec.js";
import type { Interaction, InteractionPage } from "../../domain/interaction.js";
import type { Item } from "../../domain/item.js";
import { encodeFloat32LE } from "../../domain/vector.js";
import {
  metadataFields,
  vectorField,
  type IndexInfo,
  type IndexSpec,
  type InterestSpec,
} from "../../domain/schema.js";
import type {
  CreateIndexResult,
  InterestTagUpdate,
  SearchHit,
  SearchQuery,
  SearchResult,
  VectorStore,
} from "../vector-store.js";
import { redactUrl, selectedDatabase } from "./connection-url.js";
import { compileFilter, isTagInexact, tagParamValue } from "./filter-query.js";
import {
  compareInteractions,
  decodeInteractionMember,
  encodeInteractionMember,
  interactionIdentity,
  interactionItemId,
} from "./interaction-codec.js";
import { hashToItem, itemHashArgs } from "./item-codec.js";
import {
  isDuplicateFieldError,
  isIndexExistsError,
  isQueryTimeoutText,
  isUnknownIndexError,
  queryTimeoutError,
  toDomainError,
} from "./redis-errors.js";
import { DISTANCE_FIELD, ID_FIELD, createRedisKeys, type RedisKeys } from "./redis-keys.js";
import { alterAddFieldArgs, createIndexArgs } from "./schema-args.js";
import {
  parseInfoReply,
  parseScoredMembers,
  parseSearchReply,
  replyArray,
  replyBytes,
  replyEntries,
  replyMap,
  replyNumber,
  replyText,
  type FtInfo,
  type Reply,
} from "./reply-parsers.js";

/** The subset of a pino-style logger the store uses. */
export interface RedisStoreLogger {
  warn(details: object, message: string): void;
  info?(details: object, message: string): void;
}

export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]` */
  readonly url: string;
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
  /** Items per MULTI/EXEC block in upsert (the blocks of one call are pipelined); default 256. */
  readonly upsertBatchSize?: number;
  readonly logger?: RedisStoreLogger;
}

type RedisArg = string | Buffer;

const TYPE_MAPPING = {
  // Vectors are binary: bulk strings must arrive as bytes, not as (mangled) UTF-8 text.
  [RESP_TYPES.BLOB_STRING]: Buffer,
  // Maps keep their order and never turn a field named like an Object.prototype member into a trap.
  [RESP_TYPES.MAP]: Map,
} as const;

const SCAN_COUNT = 1000;
/** How many rows beyond k a KNN search may fetch to settle a tie at the k-th distance. */
const MAX_TIE_EXTRA = 10_000;
const DELETE_BATCH = 500;
/**
 * How often one compare-and-set block of setInterestTags is tried: each retry follows a write by
 * someone else to one of its items between WATCH and EXEC (or a reconnect), so this is only reached
 * when they are rewritten without pause.
 */
const CAS_ATTEMPTS = 10;

/**
 * Connects to Redis and returns a VectorStore on it. Waits for the first connection attempt only:
 * when Redis is unreachable it logs that once and still returns the store, whose calls fail with
 * UnavailableError until the client, retrying in the background, connects (isAvailable() tells,
 * onAvailabilityChange reports each change).
 * @throws FailedPreconditionError when the URL selects a database other than 0;
 *   UnavailableError when Redis answers the handshake with an error (wrong password, no RESP3...):
 *   configuration, which retrying would not fix.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<VectorStore> {
  const database = selectedDatabase(options.url);
  if (database !== 0) {
    // RediSearch refuses FT.CREATE elsewhere ("Cannot create index on db != 0") and indexes only the
    // keys of database 0: a store on another database would fail on its first createIndex.
    throw new FailedPreconditionError(
      `the Redis Query Engine works only in database 0, but the Redis URL selects database ${database}: ` +
        `drop the /${database} from ${redactUrl(options.url)}`,
    );
  }
  const keys = createRedisKeys(options.keyPrefix ?? "vecrec:");
  const logger = options.logger;
  let everReady = false;
  let loggedSinceReady = false;
  let loggedUnreachable = false;

  // Before the first connection, a handshake refused by Redis (an error reply) is not retried: it is
  // configuration. Network failures are, so that vecrec can start before Redis.
  const client = newClient(options, (cause) => everReady || !isHandshakeRefusal(cause));
  const store = new RedisStore(client, keys, options);
  // Without a listener an 'error' event would crash the process.
  client.on("error", (error: unknown) => {
    if (!everReady || loggedSinceReady) return;
    loggedSinceReady = true;
    logger?.warn({ err: error }, "Redis connection error; reconnecting");
  });
  client.on("ready", () => {
    if (!everReady && loggedUnreachable) logger?.info?.({ url: redactUrl(options.url) }, "Redis connected");
    if (everReady && loggedSinceReady) logger?.info?.({}, "Redis connection restored");
    everReady = true;
    loggedSinceReady = false;
  });

  const connecting = client.connect();
  const outcome = await new Promise<"ready" | { down: unknown } | { refused: unknown }>((resolve) => {
    connecting.then(
      () => resolve("ready"),
      (error: unknown) => resolve({ refused: error }),
    );
    const onError = (error: unknown): void => {
      // A refusal also emits 'error' before connect() rejects: wait for the rejection.
      if (isHandshakeRefusal(error)) return;
      client.off("error", onError);
      resolve({ down: error });
    };
    client.on("error", onError);
    void connecting.finally(() => client.off("error", onError)).catch(() => undefined);
  });
  if (outcome === "ready") return store;
  if ("refused" in outcome) {
    client.destroy();
    const error = outcome.refused;
    throw new UnavailableError(`cannot connect to Redis: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  // The client keeps retrying (capped backoff); connect() settles when it connects or is closed.
  connecting.catch(() => undefined);
  loggedUnreachable = true;
  const cause = outcome.down;
  logger?.warn(
    { err: cause, url: redactUrl(options.url) },
    "Redis is unreachable: calls fail with UNAVAILABLE until it is, connecting in the background",
  );
  return store;
}

/**
 * Whether `error` is Redis refusing the connection handshake (HELLO/AUTH/SELECT answered with an
 * error), as opposed to Redis not being reachable or still loading its data set.
 */
function isHandshakeRefusal(error: unknown): boolean {
  return error instanceof ErrorReply && !/^(LOADING|BUSY|MASTERDOWN|TRYAGAIN)\b/.test(error.message);
}

/**
 * A client without offline queue nor per-command timer that reconnects with a capped exponential
 * backoff for as long as `retry(cause)` says so.
 */
function newClient(options: RedisStoreOptions, retry: (cause: unknown) => boolean) {
  return createClient({
    url: options.url,
    disableOfflineQueue: true,
    maintNotifications: "disabled",
    commandOptions: { timeout: 0, typeMapping: TYPE_MAPPING },
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 3000,
      reconnectStrategy: (retries: number, cause: Error) => (retry(cause) ? Math.min(50 * 2 ** retries, 2000) : false),
    },
  });
}

type Client = ReturnType<typeof newClient>;

/** Closes `client` gracefully (pending replies arrive first), or drops it when that fails. */
async function closeClient(client: Client): Promise<void> {
  if (!client.isOpen) return;
  try {
    await client.close();
  } catch {
    client.destroy();
  }
}

interface CachedSpec {
  readonly spec: IndexSpec;
  readonly until: number;
}

class RedisStore implements VectorStore {
  readonly backend = "redis";
  readonly #client: Client;
  readonly #keys: RedisKeys;
  readonly #cacheMs: number;
  readonly #batchSize: number;
  readonly #specs = new Map<string, CachedSpec>();
  readonly #options: RedisStoreOptions;
  /**
   * The connection of WATCH/MULTI/EXEC blocks, connected on first use. WATCH state belongs to the
   * connection, so it cannot share the main one, where other calls' commands are interleaved.
   */
  #watchClient: Promise<Client> | undefined;
  /** Serialises the users of #watchClient: one WATCH ... EXEC block at a time. */
  #watchQueue: Promise<void> = Promise.resolve();
  #closed = false;
  /** Indexes whose FT index this store recreated over stored items, until their scan is over. */
  readonly #rebuilding = new Set<string>();

  constructor(client: Client, keys: RedisKeys, options: RedisStoreOptions) {
    this.#options = options;
    this.#client = client;
    this.#keys = keys;
    this.#cacheMs = options.definitionCacheMs ?? 1000;
    this.#batchSize = Math.max(1, options.upsertBatchSize ?? 256);
    this.#available = client.isReady;
    const update = (): void => this.#setAvailable(!this.#closed && client.isReady);
    client.on("ready", update);
    client.on("end", update);
    client.on("error", update);
    client.on("reconnecting", update);
  }

  // ---- availability ---------------------------------------------------------------------------

  #available: boolean;
  readonly #availabilityListeners = new Set<(available: boolean) => void>();

  #setAvailable(available: boolean): void {
    if (available === this.#available) return;
    this.#available = available;
    for (const listener of [...this.#availabilityListeners]) listener(available);
  }

  /** Whether the main connection is up (calls can reach Redis). */
  isAvailable(): boolean {
    return this.#available;
  }

  /** Calls `listener` on each change of isAvailable(); returns the unsubscribe function. */
  onAvailabilityChange(listener: (available: boolean) => void): () => void {
    this.#availabilityListeners.add(listener);
    return () => void this.#availabilityListeners.delete(listener);
  }

  // ---- plumbing -------------------------------------------------------------------------------

  /** Sends one command; errors are raw (callers map them with toDomainError). */
  #send(args: readonly RedisArg[], signal?: AbortSignal): Promise<Reply> {
    return this.#client.sendCommand(args, signal === undefined ? undefined : { abortSignal: signal });
  }

  /** Runs `commands` in one MULTI/EXEC block (written in one go); returns EXEC's replies. */
  async #transaction(commands: readonly (readonly RedisArg[])[]): Promise<Reply[]> {
    if (commands.length === 0) return [];
    // MULTI/EXEC bypasses node-redis's offline check; without it the block would wait for a reconnect.
    if (!this.#client.isReady) throw new ClientOfflineError();
    const multi = this.#client.multi();
    for (const command of commands) multi.addCommand(command as RedisArg[]);
    return (await multi.exec());
  }

  /** Runs `work` alone on the WATCH connection (connecting it first when needed). */
  async #withWatchClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const previous = this.#watchQueue;
    let release = (): void => undefined;
    this.#watchQueue = new Promise<void>((resolve) => (release = resolve));
    try {
      await previous;
      if (this.#closed) throw new ClientClosedError();
      return await work(await this.#watchConnection());
    } finally {
      release();
    }
  }

  #watchConnection(): Promise<Client> {
    this.#watchClient ??= (async () => {
      let everReady = false;
      // Not retried before its first connection: the call that needs it fails, the next one retries.
      const client = newClient(this.#options, () => everReady);
      // The main connection reports Redis being unreachable; this one only needs a listener so that
      // an 'error' event does not crash the process.
      client.on("error", () => undefined);
      client.on("ready", () => {
        everReady = true;
      });
      try {
        await client.connect();
        return client;
      } catch (error) {
        if (client.isOpen) client.destroy();
        this.#watchClient = undefined; // the next call tries again
        throw error;
      }
    })();
    return this.#watchClient;
  }

  #fail(error: unknown, indexName?: string, signal?: AbortSignal): never {
    throw toDomainError(error, { indexName, signal });
  }

  /** The stored definition of `name`, undefined when there is none. */
  async #readSpec(name: string): Promise<IndexSpec | undefined> {
    const raw = await this.#send(["HGET", this.#keys.definitions, name]);
    if (raw === null || raw === undefined) {
      this.#specs.delete(name);
      return undefined;
    }
    const spec = JSON.parse(replyText(raw)) as IndexSpec;
    this.#remember(spec);
    return spec;
  }

  #remember(spec: IndexSpec): void {
    this.#specs.set(spec.name, { spec, until: Date.now() + this.#cacheMs });
  }

  /** The definition of `name` (possibly cached for definitionCacheMs). @throws IndexNotFoundError */
  async #spec(name: string): Promise<IndexSpec> {
    const cached = this.#specs.get(name);
    if (cached !== undefined && cached.until > Date.now()) return cached.spec;
    const spec = await this.#readSpec(name);
    if (spec === undefined) throw new IndexNotFoundError(name);
    return spec;
  }

  /**
   * Creates the FT index of `spec` unless it exists (repairs a definition left without one). A
   * recreated index indexes the stored items in the background, so it is remembered in #rebuilding
   * until FT.INFO says the scan is over.
   */
  async #ensureFtIndex(spec: IndexSpec): Promise<void> {
    try {
      await this.#send(createIndexArgs(this.#keys, spec));
      this.#rebuilding.add(spec.name);
    } catch (error) {
      if (!isIndexExistsError(error)) throw error;
    }
  }

  /**
   * @throws UnavailableError while the FT index that #ensureFtIndex recreated for `name` is still
   *   scanning the stored items: a search would answer from part of them, with nothing to tell.
   */
  async #throwIfRebuilding(name: string): Promise<void> {
    if (!this.#rebuilding.has(name)) return;
    let info: FtInfo;
    try {
      info = parseInfoReply(await this.#send(["FT.INFO", this.#keys.ftIndex(name)]));
    } catch (error) {
      if (isUnknownIndexError(error)) return; // dropped again: the search repairs or reports it
      throw error;
    }
    if (!info.indexing) {
      this.#rebuilding.delete(name);
      return;
    }
    throw new UnavailableError(
      `the Redis search index of "${name}" was missing and is being rebuilt from its stored items ` +
        `(${Math.floor(info.percentIndexed * 100)}% done); retry shortly`,
    );
  }

  #info(spec: IndexSpec, info: FtInfo): IndexInfo {
    return {
      spec,
      itemCount: info.numDocs,
      indexing: info.indexing,
      indexingProgress: info.percentIndexed,
      indexingFailures: info.hashIndexingFailures,
    };
  }

  /** FT.INFO of `spec`, recreating the FT index first when only the definition survived. */
  async #indexInfo(spec: IndexSpec, infoReply: PromiseSettledResult<Reply>): Promise<IndexInfo> {
    if (infoReply.status === "fulfilled") return this.#info(spec, parseInfoReply(infoReply.value));
    if (!isUnknownIndexError(infoReply.reason)) throw infoReply.reason;
    await this.#ensureFtIndex(spec);
    return this.#info(spec, parseInfoReply(await this.#send(["FT.INFO", this.#keys.ftIndex(spec.name)])));
  }

  // ---- indexes --------------------------------------------------------------------------------

  async createIndex(spec: IndexSpec): Promise<CreateIndexResult> {
    try {
      // The definition is claimed first (HSETNX), so two replicas creating the same index agree on
      // one winner; the FT index follows.
      const claimed = replyNumber(await this.#send(["HSETNX", this.#keys.definitions, spec.name, JSON.stringify(spec)]));
      if (claimed === 0) {
        const existing = await this.#readSpec(spec.name);
        if (existing === undefined) return await this.createIndex(spec); // dropped in between
        if (!specsEqual(existing, spec)) {
          throw new AlreadyExistsError(`index "${spec.name}" already exists with another definition`);
        }
        await this.#ensureFtIndex(existing);
        return { created: false, info: await this.getIndex(spec.name) };
      }
      try {
        await this.#send(createIndexArgs(this.#keys, spec));
      } catch (error) {
        if (!isIndexExistsError(error)) {
          await this.#send(["HDEL", this.#keys.definitions, spec.name]).catch(() => undefined);
          throw error;
        }
        // An FT index without a definition: left by a create that died half-way. Rebuild it from
        // this spec (the hashes are kept).
        await this.#send(["FT.DROPINDEX", this.#keys.ftIndex(spec.name)]);
        await this.#send(createIndexArgs(this.#keys, spec));
      }
      this.#remember(spec);
      return { created: true, info: await this.getIndex(spec.name) };
    } catch (error) {
      this.#fail(error, spec.name);
    }
  }

  async getIndex(name: string): Promise<IndexInfo> {
    try {
      const [specReply, infoReply] = await Promise.allSettled([
        this.#readSpec(name),
        this.#send(["FT.INFO", this.#keys.ftIndex(name)]),
      ]);
      if (specReply.status === "rejected") throw specReply.reason;
      if (specReply.value === undefined) throw new IndexNotFoundError(name);
      return await this.#indexInfo(specReply.value, infoReply);
    } catch (error) {
      this.#fail(error, name);
    }
  }

  async listIndexes(): Promise<IndexInfo[]> {
    try {
      const entries = replyEntries(await this.#send(["HGETALL", this.#keys.definitions]));
      const specs = entries
        .map(([, json]) => JSON.parse(replyText(json)) as IndexSpec)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      specs.forEach((spec) => this.#remember(spec));
      // One round trip for every FT.INFO.
      const infos = await Promise.allSettled(specs.map((spec) => this.#send(["FT.INFO", this.#keys.ftIndex(spec.name)])));
      return await Promise.all(specs.map((spec, i) => this.#indexInfo(spec, infos[i] as PromiseSettledResult<Reply>)));
    } catch (error) {
      this.#fail(error);
    }
  }

  async dropIndex(name: string, options: { deleteItems: boolean }): Promise<void> {
    try {
      const spec = await this.#readSpec(name);
      if (spec === undefined) throw new IndexNotFoundError(name);
      const drop = ["FT.DROPINDEX", this.#keys.ftIndex(name)];
      if (options.deleteItems) drop.push("DD");
      try {
        await this.#send(drop);
      } catch (error) {
        if (!isUnknownIndexError(error)) throw error;
      }
      if (options.deleteItems) {
        // DD deletes only the hashes in the index's document table (synchronously, in
        // DropIndexCommand): not those that failed to index, nor those a background scan (after
        // FT.CREATE over stored items) has not reached yet. Sweep the prefix so the index is really
        // empty when this returns.
        await this.#deleteMatching(this.#keys.itemPattern(name));
        await this.#deleteMatching(this.#keys.interactionsPattern(name));
        await this.#deleteMatching(this.#keys.itemUsersPattern(name));
      }
      await this.#send(["HDEL", this.#keys.definitions, name]);
      this.#specs.delete(name);
      this.#rebuilding.delete(name);
    } catch (error) {
      this.#fail(error, name);
    }
  }

  /** Deletes every key matching `pattern` (SCAN + UNLINK, one UNLINK per page). */
  async #deleteMatching(pattern: string): Promise<void> {
    let cursor = "0";
    do {
      const reply = replyArray(await this.#send(["SCAN", cursor, "MATCH", pattern, "COUNT", String(SCAN_COUNT)]));
      cursor = replyText(reply[0]);
      const found = replyArray(reply[1] ?? []).map(replyText);
      for (let i = 0; i < found.length; i += DELETE_BATCH) {
        await this.#send(["UNLINK", ...found.slice(i, i + DELETE_BATCH)]);
      }
    } while (cursor !== "0");
  }

  async setInterests(name: string, interests: InterestSpec | undefined): Promise<IndexInfo> {
    try {
      const spec = await this.#readSpec(name);
      if (spec === undefined) throw new IndexNotFoundError(name);
      let fields = spec.fields;
      const newField =
        interests !== undefined && !fields.some((f) => f.name === interests.tagField)
          ? interestTagField(interests.tagField)
          : undefined;
      if (newField !== undefined) fields = [...fields, newField];
      const updated: IndexSpec =
        interests === undefined ? { name: spec.name, fields } : { name: spec.name, fields, interests };
      if (newField !== undefined) {
        try {
          await this.#send(alterAddFieldArgs(this.#keys, name, newField));
        } catch (error) {
          // Definition without FT index: the repair below creates it with the new field. The FT index
          // already has the field: a setInterests that died between FT.ALTER and HSET, or one running
          // on another replica, added it (vecrec adds it only as this tag field).
          if (!isUnknownIndexError(error) && !isDuplicateFieldError(error)) throw error;
        }
      }
      await this.#send(["HSET", this.#keys.definitions, name, JSON.stringify(updated)]);
      this.#remember(updated);
      return await this.getIndex(name);
    } catch (error) {
      this.#fail(error, name);
    }
  }

  // ---- items ----------------------------------------------------------------------------------

  async upsert(index: string, items: readonly Item[]): Promise<void> {
    try {
      const spec = await this.#spec(index);
      const blocks: Promise<Reply[]>[] = [];
      for (let start = 0; start < items.length; start += this.#batchSize) {
        const commands: RedisArg[][] = [];
        for (const item of items.slice(start, start + this.#batchSize)) {
          const key = this.#keys.item(index, item.id);
          // Whole-item replace: fields absent from the new item must not survive.
          commands.push(["DEL", key], ["HSET", key, ...itemHashArgs(spec, item)]);
        }
        // Blocks are issued in the same tick: node-redis writes them together (pipelined).
        blocks.push(this.#transaction(commands));
      }
      await Promise.all(blocks);
    } catch (error) {
      this.#fail(error, index);
    }
  }

  async getItems(index: string, ids: readonly string[], options: { includeVectors: boolean }): Promise<(Item | undefined)[]> {
    try {
      const spec = await this.#spec(index);
      const vector = vectorField(spec);
      const wanted = [ID_FIELD, ...metadataFields(spec).map((f) => f.name)];
      if (options.includeVectors) wanted.push(vector.name);
      // One round trip: every HMGET is issued in the same tick.
      const replies = await Promise.all(ids.map((id) => this.#send(["HMGET", this.#keys.item(index, id), ...wanted])));
      return replies.map((reply, i) => {
        const values = replyArray(reply);
        if (values[0] === null || values[0] === undefined) return undefined;
        const hash = new Map<string, Reply>();
        wanted.forEach((field, j) => {
          const value = values[j];
          if (value !== null && value !== undefined) hash.set(field, value);
        });
        return hashToItem(spec, ids[i] as string, hash, { includeVector: options.includeVectors });
      });
    } catch (error) {
      this.#fail(error, index);
    }
  }

  async deleteItems(index: string, ids: readonly string[]): Promise<number> {
    try {
      await this.#spec(index);
      const unique = [...new Set(ids)];
      // Round trip 1: who interacted with these items.
      const userSets = await Promise.all(unique.map((id) => this.#send(["SMEMBERS", this.#keys.itemUsers(index, id)])));
      const usersByItem = new Map<string, Set<string>>();
      const users = new Set<string>();
      unique.forEach((id, i) => {
        const members = replyArray(userSets[i] ?? []).map(replyText);
        usersByItem.set(id, new Set(members));
        members.forEach((u) => users.add(u));
      });
      // Round trip 2 (only when there are interactions): their members, to find the items' ones.
      const userList = [...users];
      const memberLists = await Promise.all(
        userList.map((u) => this.#send(["ZRANGE", this.#keys.interactions(index, u), "0", "-1"])),
      );
      const deleted = new Set(unique);
      const commands: RedisArg[][] = [];
      for (const id of unique) commands.push(["DEL", this.#keys.item(index, id)]);
      // Users are items too (user-to-user recommendations): an item's own history goes with it.
      const extraKeys = unique.flatMap((id) => [this.#keys.itemUsers(index, id), this.#keys.interactions(index, id)]);
      for (let i = 0; i < extraKeys.length; i += DELETE_BATCH) {
        commands.push(["DEL", ...extraKeys.slice(i, i + DELETE_BATCH)]);
      }
      userList.forEach((u, i) => {
        if (deleted.has(u)) return; // its whole set is deleted above
        const stale = replyArray(memberLists[i] ?? [])
          .map(replyText)
          .filter((member) => deleted.has(interactionItemId(member)));
        if (stale.length > 0) commands.push(["ZREM", this.#keys.interactions(index, u), ...stale]);
      });
      // Round trip 3: all deletions at once.
      const replies = await this.#transaction(commands);
      let existed = 0;
      for (let i = 0; i < unique.length; i++) existed += replyNumber(replies[i] ?? 0);
      return existed;
    } catch (error) {
      this.#fail(error, index);
    }
  }

  /**
   * Optimistic concurrency, one block of items at a time on the WATCH connection: WATCH the block's
   * keys, HMGET their vectors, compare them with the vectors the tags were derived from, then
   * MULTI + HSET/HDEL of the tag field + EXEC. EXEC aborts (WatchError) when any watched key was
   * written in between: the block is read and compared again (at most CAS_ATTEMPTS times).
   */
  async setInterestTags(index: string, updates: readonly InterestTagUpdate[], tagField: string): Promise<number> {
    try {
      const spec = await this.#spec(index);
      const vectorName = vectorField(spec).name;
      const field = spec.fields.find((f) => f.name === tagField);
      const separator = field?.type === "tag" ? field.separator : ",";
      const latest = [...new Map(updates.map((u) => [u.id, u])).values()];
      let written = 0;
      for (let start = 0; start < latest.length; start += this.#batchSize) {
        const block = latest.slice(start, start + this.#batchSize);
        written += await this.#withWatchClient((client) =>
          this.#setTagsBlock(client, index, block, vectorName, tagField, separator),
        );
      }
      return written;
    } catch (error) {
      this.#fail(error, index);
    }
  }

  async #setTagsBlock(
    client: Client,
    index: string,
    block: readonly InterestTagUpdate[],
    vectorName: string,
    tagField: string,
    separator: string,
  ): Promise<number> {
    const keys = block.map((u) => this.#keys.item(index, u.id));
    for (let attempt = 1; ; attempt++) {
      if (!client.isReady) throw new ClientOfflineError();
      await client.watch(keys);
      let watching = true;
      try {
        // One round trip: every HMGET is issued in the same tick.
        const stored = await Promise.all(keys.map((key) => client.sendCommand(["HMGET", key, vectorName])));
        const commands: RedisArg[][] = [];
        block.forEach((update, i) => {
          const vector = replyArray(stored[i] ?? [])[0];
          // Deleted, or rewritten with another vector since it was read: its upsert set its interests.
          if (vector === null || vector === undefined) return;
          if (!replyBytes(vector).equals(encodeFloat32LE(update.basedOnVector))) return;
          const key = keys[i] as string;
          commands.push(update.tags.length > 0 ? ["HSET", key, tagField, update.tags.join(separator)] : ["HDEL", key, tagField]);
        });
        if (commands.length === 0) return 0;
        // MULTI/EXEC bypasses node-redis's offline check; EXEC ends the WATCH whatever its outcome.
        if (!client.isReady) throw new ClientOfflineError();
        watching = false;
        const multi = client.multi();
        for (const command of commands) multi.addCommand(command);
        await multi.exec();
        return commands.length;
      } catch (error) {
        if (!(error instanceof WatchError)) throw error;
        if (attempt >= CAS_ATTEMPTS) {
          throw new UnavailableError(
            `items of index "${index}" kept changing while their interests were rewritten (${CAS_ATTEMPTS} attempts); try again`,
            { cause: error },
          );
        }
      } finally {
        if (watching) await client.unwatch().catch(() => undefined);
      }
    }
  }

  async *scanItems(index: string, batchSize: number): AsyncIterable<Item[]> {
    let spec: IndexSpec;
    try {
      spec = (await this.#readSpec(index)) ?? this.#fail(new IndexNotFoundError(index));
    } catch (error) {
      this.#fail(error, index);
    }
    // SCAN may return a key twice; ids already yielded are skipped.
    const seen = new Set<string>();
    let pending: Item[] = [];
    let cursor = "0";
    const size = Math.max(1, batchSize);
    do {
      let found: string[];
      let hashes: Reply[];
      try {
        const reply = replyArray(
          await this.#send(["SCAN", cursor, "MATCH", this.#keys.itemPattern(index), "COUNT", String(Math.max(size, 100))]),
        );
        cursor = replyText(reply[0]);
        found = replyArray(reply[1] ?? []).map(replyText);
        hashes = await Promise.all(found.map((key) => this.#send(["HGETALL", key])));
      } catch (error) {
        this.#fail(error, index);
      }
      hashes.forEach((raw) => {
        const hash = replyMap(raw);
        const idValue = hash.get(ID_FIELD);
        if (idValue === undefined) return; // deleted meanwhile
        const id = replyText(idValue);
        if (seen.has(id)) return;
        seen.add(id);
        pending.push(hashToItem(spec, id, hash, { includeVector: true }));
      });
      while (pending.length >= size) {
        yield pending.slice(0, size);
        pending = pending.slice(size);
      }
    } while (cursor !== "0");
    if (pending.length > 0) yield pending;
  }

  // ---- search ---------------------------------------------------------------------------------

  /**
   * KNN asks Redis for one neighbour more than k: when the (k+1)-th ties with the k-th, Redis chose
   * among the tied items by internal document id, so the query is repeated with a larger k until the
   * whole tie is inside (at most MAX_TIE_EXTRA extra rows), then hits are ordered by (distance, id) and
   * cut to k. Without a boundary tie this costs one extra row and no extra round trip.
   */
  async search(index: string, query: SearchQuery): Promise<SearchResult> {
    const signal = query.signal;
    try {
      throwIfAborted(signal);
      try {
        await this.#throwIfRebuilding(index);
        return await this.#search(await this.#spec(index), query);
      } catch (error) {
        if (!isUnknownIndexError(error)) throw error;
        // The FT index is gone: dropped by another replica (then the definition is gone too), or by
        // hand, leaving the definition: rebuild the FT index from it and try once more (Redis indexes
        // the stored items in the background: until it is done the search fails with UnavailableError).
        const spec = await this.#readSpec(index);
        if (spec === undefined) throw new IndexNotFoundError(index, { cause: error });
        await this.#ensureFtIndex(spec);
        await this.#throwIfRebuilding(index);
        return await this.#search(spec, query);
      }
    } catch (error) {
      this.#fail(error, index, signal);
    }
  }

  async #search(spec: IndexSpec, query: SearchQuery): Promise<SearchResult> {
    const signal = query.signal;
    if (query.vector === undefined) {
      const args = buildSearchArgs(this.#keys, spec, query);
      if (args === undefined) return { hits: [], totalMatches: 0 };
      const reply = await raceAbort(this.#send(args.command, signal), signal);
      const { result } = readSearchReply(this.#keys, spec, query, args.returned, reply);
      // Ids the tag exclusion cannot match (edge whitespace, see isTagInexact) are dropped here; the
      // page may then be one short (only KNN searches exclude ids in vecrec's use cases).
      const inexact = new Set((query.excludeIds ?? []).filter(isTagInexact));
      return inexact.size === 0 ? result : { ...result, hits: result.hits.filter((h) => !inexact.has(h.id)) };
    }
    // Ids the tag exclusion cannot match on a real server (edge whitespace): they stay in the query
    // (harmless there, and the KNN stays hybrid like any excluding one) and are dropped here, with as
    // many more rows fetched so that k stays k.
    const inexact = new Set((query.excludeIds ?? []).filter(isTagInexact));
    const limit = query.k + MAX_TIE_EXTRA + inexact.size;
    let fetch = query.k + 1 + inexact.size;
    for (;;) {
      const args = buildSearchArgs(this.#keys, spec, query, fetch);
      if (args === undefined) return { hits: [], totalMatches: 0 };
      const reply = await raceAbort(this.#send(args.command, signal), signal);
      const { result, rows } = readSearchReply(this.#keys, spec, query, args.returned, reply);
      const hits = inexact.size === 0 ? result.hits : result.hits.filter((h) => !inexact.has(h.id));
      const dropped = result.hits.length - hits.length;
      const kth = hits[query.k - 1];
      const last = hits[hits.length - 1];
      const tieOpen = rows >= fetch && kth !== undefined && last !== undefined && sameDistance(kth.distance, last.distance);
      if (!tieOpen || fetch >= limit) {
        return { hits: hits.slice(0, query.k), totalMatches: Math.min(query.k, result.totalMatches - dropped) };
      }
      fetch = Math.min(limit, fetch * 2);
    }
  }

  // ---- interactions ---------------------------------------------------------------------------

  async recordInteractions(index: string, interactions: readonly Interaction[]): Promise<number> {
    try {
      // Last one wins within the call for the same (user, item, kind, time).
      const latest = new Map<string, Interaction>();
      for (const interaction of interactions) {
        const identity = interactionIdentity(encodeInteractionMember(interaction));
        latest.set(`${interaction.userId}\u001f${identity}`, interaction);
      }
      const slots = new Map<string, { key: string; time: number }>();
      for (const interaction of latest.values()) {
        const key = this.#keys.interactions(index, interaction.userId);
        slots.set(`${key}\u0000${interaction.occurredAtMs}`, { key, time: interaction.occurredAtMs });
      }
      // Round trip 1: the members already stored at the same times (usually none), for the dedup.
      const slotList = [...slots.values()];
      const [, ...existing] = await Promise.all([
        this.#spec(index),
        ...slotList.map(({ key, time }) => this.#send(["ZRANGE", key, String(time), String(time), "BYSCORE"])),
      ]);
      const stored = new Map<string, string[]>();
      slotList.forEach(({ key, time }, i) => stored.set(`${key}\u0000${time}`, replyArray(existing[i] ?? []).map(replyText)));

      // Round trip 2: one transaction with every write.
      const commands: RedisArg[][] = [];
      for (const interaction of latest.values()) {
        const key = this.#keys.interactions(index, interaction.userId);
        const member = encodeInteractionMember(interaction);
        const identity = interactionIdentity(member);
        const replaced = (stored.get(`${key}\u0000${interaction.occurredAtMs}`) ?? []).filter(
          (m) => m !== member && interactionIdentity(m) === identity,
        );
        if (replaced.length > 0) commands.push(["ZREM", key, ...replaced]);
        commands.push(["ZADD", key, String(interaction.occurredAtMs), member]);
        commands.push(["SADD", this.#keys.itemUsers(index, interaction.itemId), interaction.userId]);
      }
      await this.#transaction(commands);
      return interactions.length;
    } catch (error) {
      this.#fail(error, index);
    }
  }

  /**
   * One page of a user's interactions, newest first, equal times by (item id, kind). ZRANGE REV orders
   * equal times by member descending, the opposite of the wanted order, so the page is read with one
   * neighbour on each side: only when a run of equal times crosses a page edge is the whole run read
   * (second round trip) to place its members exactly, so consecutive pages never repeat or skip one.
   */
  async getInteractions(index: string, userId: string, page: { offset: number; limit: number }): Promise<InteractionPage> {
    try {
      const key = this.#keys.interactions(index, userId);
      const offset = Math.max(0, page.offset);
      const limit = Math.max(0, page.limit);
      const from = Math.max(0, offset - 1);
      // One round trip (two when the definition is not cached): the page, its neighbours and the count.
      const [, rangeReply, countReply] = await Promise.all([
        this.#spec(index),
        limit > 0
          ? this.#send(["ZRANGE", key, String(from), String(offset + limit), "REV", "WITHSCORES"])
          : Promise.resolve<Reply>([]),
        this.#send(["ZCARD", key]),
      ]);
      const totalCount = replyNumber(countReply);
      const window = parseScoredMembers(rangeReply); // window[i] is at position from + i
      const inPage = (position: number): boolean => position >= offset && position < offset + limit;
      const pageEntries = window.map((entry, i) => ({ ...entry, position: from + i })).filter((e) => inPage(e.position));
      if (pageEntries.length === 0) return { interactions: [], totalCount };

      // Runs of equal times: positions are the same in both orders, only members move within a run.
      const runs = new Map<number, { positions: number[]; members: string[]; crosses: boolean }>();
      window.forEach((entry, i) => {
        const run = runs.get(entry.score) ?? { positions: [], members: [], crosses: false };
        run.positions.push(from + i);
        run.members.push(entry.member);
        if (!inPage(from + i)) run.crosses = true;
        runs.set(entry.score, run);
      });
      const crossing = [...runs.entries()].filter(([, run]) => run.crosses && run.positions.some(inPage));
      // Round trip 2, only for a run across a page edge: all its members and where it starts.
      const whole = await Promise.all(
        crossing.map(([score]) =>
          Promise.all([
            this.#send(["ZRANGE", key, String(score), String(score), "BYSCORE"]),
            this.#send(["ZCOUNT", key, `(${score}`, "+inf"]),
          ]),
        ),
      );
      const placed = new Map<number, Interaction>();
      const decodeSorted = (members: string[]): Interaction[] =>
        members.map((m) => decodeInteractionMember(userId, m)).sort(compareInteractions);
      crossing.forEach(([, run], i) => {
        const [membersReply, newerReply] = whole[i] ?? [[], 0];
        const sorted = decodeSorted(replyArray(membersReply).map(replyText));
        const start = replyNumber(newerReply);
        for (const position of run.positions) {
          const interaction = sorted[position - start];
          if (interaction !== undefined && inPage(position)) placed.set(position, interaction);
        }
      });
      for (const run of runs.values()) {
        if (run.crosses) continue;
        const sorted = decodeSorted(run.members);
        run.positions.forEach((position, i) => {
          const interaction = sorted[i];
          if (interaction !== undefined) placed.set(position, interaction);
        });
      }
      const interactions = pageEntries.flatMap((e) => {
        const interaction = placed.get(e.position);
        return interaction === undefined ? [] : [interaction];
      });
      return { interactions, totalCount };
    } catch (error) {
      this.#fail(error, index);
    }
  }

  async getInteractionsOfUsers(index: string, userIds: readonly string[]): Promise<Map<string, Interaction[]>> {
    try {
      const unique = [...new Set(userIds)];
      // ONE round trip: the definition check (when not cached) and one ZRANGE per user are issued in
      // the same tick, so node-redis writes them together: 1 + users commands at most, 1 round trip.
      const [, ...ranges] = await Promise.all([
        this.#spec(index),
        ...unique.map((u) => this.#send(["ZRANGE", this.#keys.interactions(index, u), "0", "-1", "REV", "WITHSCORES"])),
      ]);
      const result = new Map<string, Interaction[]>();
      unique.forEach((u, i) => {
        result.set(
          u,
          parseScoredMembers(ranges[i] ?? [])
            .map(({ member }) => decodeInteractionMember(u, member))
            .sort(compareInteractions),
        );
      });
      for (const u of userIds) if (!result.has(u)) result.set(u, []);
      return result;
    } catch (error) {
      this.#fail(error, index);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#setAvailable(false);
    const watchClient = await this.#watchClient?.catch(() => undefined);
    await Promise.all([closeClient(this.#client), watchClient === undefined ? undefined : closeClient(watchClient)]);
  }
}

// ---- search command and reply (exported for unit tests) -----------------------------------------

export interface SearchArgs {
  readonly command: RedisArg[];
  /** Metadata fields asked for with RETURN. */
  readonly returned: ReadonlySet<string>;
}

/**
 * The FT.SEARCH command for `query`, or undefined when the filter can match nothing. KNN:
 * `(<filter>)=>[KNN $knn_k @vec $knn_vec [EF_RUNTIME $knn_ef] AS __vecrec_distance]` sorted by the
 * distance, `LIMIT 0 k`. Filter-only: `<filter>` sorted by `__vecrec_id`, `LIMIT offset k`. Every value
 * travels in PARAMS; DIALECT 2.
 */
export function buildSearchArgs(
  keys: RedisKeys,
  spec: IndexSpec,
  query: SearchQuery,
  knnK = query.k,
): SearchArgs | undefined {
  const compiled = compileFilter(query.filter, { excludeIds: query.excludeIds });
  if (compiled.matchesNothing) return undefined;
  const vector = vectorField(spec);
  const metadata = metadataFields(spec).map((f) => f.name);
  const returned = new Set(
    query.returnFields === undefined ? metadata : query.returnFields.filter((f) => metadata.includes(f)),
  );
  const params: RedisArg[] = [];
  for (const [name, value] of compiled.params) params.push(name, compiled.tagParams.has(name) ? tagParamValue(value) : value);

  const fields: string[] = [ID_FIELD, ...returned];
  let text: string;
  let sort: string[];
  let limit: string[];
  if (query.vector !== undefined) {
    let knnOptions = "";
    if (vector.algorithm === "HNSW" && query.efRuntime !== undefined && query.efRuntime > 0) {
      // EF_RUNTIME on a FLAT index is an error ("Invalid option").
      knnOptions = " EF_RUNTIME $knn_ef";
      params.push("knn_ef", String(query.efRuntime));
    }
    params.push("knn_k", String(knnK), "knn_vec", encodeFloat32LE(query.vector));
    const filter = compiled.query === "*" ? "*" : `(${compiled.query})`;
    text = `${filter}=>[KNN $knn_k @${vector.name} $knn_vec${knnOptions} AS ${DISTANCE_FIELD}]`;
    fields.push(DISTANCE_FIELD);
    sort = ["SORTBY", DISTANCE_FIELD];
    limit = ["LIMIT", "0", String(knnK)];
  } else {
    text = compiled.query;
    sort = ["SORTBY", ID_FIELD, "ASC"];
    limit = ["LIMIT", String(Math.max(0, query.offset)), String(query.k)];
  }
  if (query.includeVectors) fields.push(vector.name);
  const command: RedisArg[] = ["FT.SEARCH", keys.ftIndex(spec.name), text];
  if (params.length > 0) command.push("PARAMS", String(params.length), ...params);
  command.push(...sort, "RETURN", String(fields.length), ...fields, ...limit, "DIALECT", "2");
  return { command, returned };
}

/**
 * Turns an FT.SEARCH reply into hits (and the number of rows Redis sent). KNN hits are re-sorted by
 * (distance, id): Redis breaks equal distances by internal document id. Rows without fields (a key
 * deleted while the query ran) are dropped.
 */
export function readSearchReply(
  keys: RedisKeys,
  spec: IndexSpec,
  query: SearchQuery,
  returned: ReadonlySet<string>,
  reply: Reply,
): { result: SearchResult; rows: number } {
  const parsed = parseSearchReply(reply);
  // Under ON_TIMEOUT RETURN (the default) a query that outruns the server's TIMEOUT (500 ms by default)
  // comes back with the rows found so far and this warning: for KNN they are not the nearest ones.
  const timedOut = parsed.warnings?.find((w) => isQueryTimeoutText(w));
  if (timedOut !== undefined) throw queryTimeoutError(timedOut);
  const prefix = keys.itemPrefix(spec.name);
  const knn = query.vector !== undefined;
  const hits: SearchHit[] = [];
  for (const row of parsed.rows) {
    if (row.fields.size === 0) continue;
    const idValue = row.fields.get(ID_FIELD);
    const id = idValue !== undefined ? replyText(idValue) : row.key.startsWith(prefix) ? row.key.slice(prefix.length) : row.key;
    const distanceValue = row.fields.get(DISTANCE_FIELD);
    const distance = knn && distanceValue !== undefined ? replyNumber(distanceValue) : 0;
    const item = hashToItem(spec, id, row.fields, { includeVector: query.includeVectors, onlyFields: returned });
    hits.push({ id, distance, item });
  }
  if (knn) hits.sort(compareHits);
  return { result: { hits, totalMatches: parsed.total }, rows: parsed.rows.length };
}

function sameDistance(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function compareHits(a: SearchHit, b: SearchHit): number {
  const an = Number.isNaN(a.distance);
  const bn = Number.isNaN(b.distance);
  if (an !== bn) return an ? 1 : -1; // NaN (zero vectors under COSINE) last, like Redis
  if (!an && a.distance !== b.distance) return a.distance - b.distance;
  // The order Redis gives filter-only pages (SORTBY on the id: UTF-8 bytes), so both kinds agree.
  return compareIds(a.id, b.id);
}

/** Rejects as soon as `signal` aborts (the command's reply, when it comes, is dropped). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      try {
        throwIfAborted(signal);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
