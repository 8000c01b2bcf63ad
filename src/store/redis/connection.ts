/**
 * The connection to Redis, whatever its shape: one server (or a primary with replicas, or a proxy in
 * front of a sharded database) or an OSS Cluster. The rest of the Redis store only sees
 * `RedisConnection`: commands routed by key, single-slot transactions, the primaries (for SCAN), and
 * availability. Which shape is used is found out, not configured: the first server reached is asked
 * `INFO cluster`, and `cluster_enabled:1` switches to node-redis's cluster client (cluster-connection.ts).
 *
 * Connection policy (both shapes): no per-command timer (node-redis's default 5 s timeout costs a timer
 * per command); work is bounded by the caller's AbortSignal instead. No offline queue: while Redis is
 * unreachable (at startup too) every call fails at once and the client (re)connects in the background.
 */
import { ErrorReply, RESP_TYPES, createClient } from "redis";
import { redactUrl } from "./connection-url.js";
import type { Reply } from "./reply-parsers.js";

export type RedisArg = string | Buffer;
export type RedisCommand = readonly RedisArg[];

/** The subset of a pino-style logger the store uses. */
export interface RedisStoreLogger {
  warn(details: object, message: string): void;
  info?(details: object, message: string): void;
}

export interface RedisConnection {
  /** "standalone" or "cluster". */
  readonly mode: "standalone" | "cluster";
  /**
   * Sends one command. `key` is the key the command touches (every key of one command shares its
   * slot): on a cluster it routes the command to the primary owning that slot, following MOVED/ASK;
   * keyless commands (FT.*) go to any primary, whose coordinator answers for the whole cluster.
   * Errors are raw (callers map them with toDomainError).
   */
  send(command: RedisCommand, route?: { readonly key?: RedisArg; readonly signal?: AbortSignal }): Promise<Reply>;
  /** MULTI/EXEC of `commands`, all on `key`'s slot; returns EXEC's replies. */
  transaction(key: RedisArg, commands: readonly RedisCommand[]): Promise<Reply[]>;
  /**
   * A sender per primary, for the commands that see one node's keys only (SCAN). One entry on a
   * standalone server.
   */
  primaries(): Promise<((command: RedisCommand) => Promise<Reply>)[]>;
  /** Whether calls can reach Redis now. */
  isAvailable(): boolean;
  onAvailabilityChange(listener: (available: boolean) => void): () => void;
  close(): Promise<void>;
}

export const TYPE_MAPPING = {
  // Vectors are binary: bulk strings must arrive as bytes, not as (mangled) UTF-8 text.
  [RESP_TYPES.BLOB_STRING]: Buffer,
  // Maps keep their order and never turn a field named like an Object.prototype member into a trap.
  [RESP_TYPES.MAP]: Map,
} as const;

/** Reconnection backoff: 50 ms doubling, capped at 2 s. */
export function backoffMs(retries: number): number {
  return Math.min(50 * 2 ** retries, 2000);
}

/**
 * Whether `error` is Redis refusing the connection handshake (HELLO/AUTH/SELECT answered with an
 * error), as opposed to Redis not being reachable or still loading its data set.
 */
export function isHandshakeRefusal(error: unknown): boolean {
  return error instanceof ErrorReply && !/^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/.test(error.message);
}

/** A client without offline queue nor per-command timer, reconnecting while `retry(cause)` says so. */
export function newClient(url: string, connectTimeoutMs: number, retry: (cause: unknown) => boolean) {
  return createClient({
    url,
    disableOfflineQueue: true,
    maintNotifications: "disabled",
    commandOptions: { timeout: 0, typeMapping: TYPE_MAPPING },
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries: number, cause: Error) => (retry(cause) ? backoffMs(retries) : false),
    },
  });
}

export type Client = ReturnType<typeof newClient>;

/** Closes `client` gracefully (pending replies arrive first), or drops it when that fails. */
export async function closeClient(client: Client): Promise<void> {
  if (!client.isOpen) return;
  try {
    await client.close();
  } catch {
    client.destroy();
  }
}

/** An availability flag and its listeners, told of each change: what every connection reports. */
export abstract class AvailabilityReporter {
  #available: boolean;
  readonly #listeners = new Set<(available: boolean) => void>();

  constructor(initial: boolean) {
    this.#available = initial;
  }

  /** Whether calls can reach Redis now. */
  isAvailable(): boolean {
    return this.#available;
  }

  /** Calls `listener` on each change of isAvailable(); returns the unsubscribe function. */
  onAvailabilityChange(listener: (available: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  protected setAvailable(available: boolean): void {
    if (available === this.#available) return;
    this.#available = available;
    for (const listener of [...this.#listeners]) listener(available);
  }
}

/** `INFO cluster` says `cluster_enabled:1`. */
export function isClusterInfo(reply: Reply): boolean {
  const text = Buffer.isBuffer(reply) ? reply.toString("utf8") : typeof reply === "string" ? reply : "";
  return /^cluster_enabled:1\s*$/m.test(text);
}

/**
 * One Redis server through one node-redis client: every command on one connection (node-redis
 * pipelines the commands issued in the same tick into one write).
 */
export class StandaloneConnection extends AvailabilityReporter implements RedisConnection {
  readonly mode = "standalone" as const;
  readonly #client: Client;
  #closed = false;

  constructor(client: Client) {
    super(client.isReady);
    this.#client = client;
    const update = (): void => this.setAvailable(!this.#closed && client.isReady);
    client.on("ready", update);
    client.on("end", update);
    client.on("error", update);
    client.on("reconnecting", update);
  }

  get client(): Client {
    return this.#client;
  }

  send(command: RedisCommand, route?: { readonly signal?: AbortSignal }): Promise<Reply> {
    const signal = route?.signal;
    return this.#client.sendCommand(command, signal === undefined ? undefined : { abortSignal: signal });
  }

  async transaction(_key: RedisArg, commands: readonly RedisCommand[]): Promise<Reply[]> {
    if (commands.length === 0) return [];
    // MULTI/EXEC bypasses node-redis's offline check; without it the block would wait for a reconnect.
    if (!this.#client.isReady) throw new OfflineError();
    const multi = this.#client.multi();
    for (const command of commands) multi.addCommand(command as RedisArg[]);
    return (await multi.exec());
  }

  primaries(): Promise<((command: RedisCommand) => Promise<Reply>)[]> {
    return Promise.resolve([(command) => this.send(command)]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.setAvailable(false);
    await closeClient(this.#client);
  }
}

/** Thrown when a command cannot be sent because the connection is down (mapped to UNAVAILABLE). */
export class OfflineError extends Error {
  readonly code = "ECONNREFUSED";
  constructor(message = "the connection to Redis is down") {
    super(message);
    this.name = "OfflineError";
  }
}

export interface ConnectOptions {
  /** Seeds: the first reachable is asked which shape Redis has; all are root nodes of a cluster. */
  readonly urls: readonly string[];
  readonly connectTimeoutMs: number;
  readonly logger?: RedisStoreLogger;
  /** Builds the cluster connection once a node says `cluster_enabled:1`. */
  readonly cluster: (urls: readonly string[]) => Promise<RedisConnection>;
}

/**
 * Connects to the first seed and returns the connection: standalone, or a cluster when the server
 * says it is a cluster node. Waits for the first connection attempt only: when Redis is unreachable
 * it logs that once and returns a connection that reports unavailable and connects in the background
 * (switching to cluster mode then if the server turns out to be a cluster node).
 * @throws UnavailableError-worthy errors (an ErrorReply) when Redis refuses the handshake.
 */
export async function connectRedis(options: ConnectOptions): Promise<RedisConnection> {
  const urls = options.urls.length > 1 ? await reachableFirst(options.urls, options.connectTimeoutMs) : options.urls;
  options = { ...options, urls };
  const url = urls[0] as string;
  const logger = options.logger;
  let everReady = false;
  let loggedSinceReady = false;
  let loggedUnreachable = false;
  // Before the first connection, a handshake refused by Redis (an error reply) is not retried: it is
  // configuration. Network failures are, so that vecrec can start before Redis.
  const client = newClient(url, options.connectTimeoutMs, (cause) => everReady || !isHandshakeRefusal(cause));
  // Without a listener an 'error' event would crash the process.
  client.on("error", (error: unknown) => {
    if (!everReady || loggedSinceReady) return;
    loggedSinceReady = true;
    logger?.warn({ err: error }, "Redis connection error; reconnecting");
  });
  client.on("ready", () => {
    if (!everReady && loggedUnreachable) logger?.info?.({ url: redactUrl(url) }, "Redis connected");
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
  if (typeof outcome === "object" && "refused" in outcome) {
    client.destroy();
    throw outcome.refused;
  }
  const standalone = new StandaloneConnection(client);
  if (outcome === "ready") {
    if (!(await askIsCluster(standalone))) {
      logger?.info?.({ url: redactUrl(url), mode: "standalone" }, "Redis mode: standalone server");
      return standalone;
    }
    await standalone.close();
    return await options.cluster(options.urls);
  }
  // The client keeps retrying (capped backoff); connect() settles when it connects or is closed.
  connecting.catch(() => undefined);
  loggedUnreachable = true;
  logger?.warn(
    { err: outcome.down, url: redactUrl(url) },
    "Redis is unreachable: calls fail with UNAVAILABLE until it is, connecting in the background",
  );
  return new DeferredConnection(standalone, options);
}

/**
 * The seeds with the first one that accepts a connection moved to the front (unchanged when none
 * does): with several seeds, one being down must not keep vecrec from finding the others.
 */
async function reachableFirst(urls: readonly string[], connectTimeoutMs: number): Promise<readonly string[]> {
  for (const [i, url] of urls.entries()) {
    const probe = newClient(url, connectTimeoutMs, () => false);
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      return [url, ...urls.filter((_, j) => j !== i)];
    } catch {
      // next seed
    } finally {
      if (probe.isOpen) probe.destroy();
    }
  }
  return urls;
}

/** Asks the server whether it is a cluster node; a server that refuses INFO is taken as standalone. */
async function askIsCluster(connection: RedisConnection): Promise<boolean> {
  try {
    return isClusterInfo(await connection.send(["INFO", "cluster"]));
  } catch {
    return false;
  }
}

/**
 * A connection made while Redis was unreachable: standalone until the server answers, then asked
 * once whether it is a cluster node, and replaced by a cluster connection when it is.
 */
class DeferredConnection extends AvailabilityReporter implements RedisConnection {
  #current: RedisConnection;
  #mode: "standalone" | "cluster" = "standalone";
  #closed = false;
  #unsubscribe: () => void;

  constructor(standalone: StandaloneConnection, options: ConnectOptions) {
    super(false);
    this.#current = standalone;
    let decided = false;
    this.#unsubscribe = standalone.onAvailabilityChange((available) => {
      if (!available || decided) {
        if (decided) this.setAvailable(available);
        return;
      }
      decided = true;
      void (async () => {
        if (!(await askIsCluster(standalone))) {
          options.logger?.info?.({ mode: "standalone" }, "Redis mode: standalone server");
          this.setAvailable(standalone.isAvailable());
          return;
        }
        this.#unsubscribe();
        await standalone.close();
        if (this.#closed) return;
        try {
          const cluster = await options.cluster(options.urls);
          if (this.#closed) return void (await cluster.close());
          this.#current = cluster;
          this.#mode = "cluster";
          this.#unsubscribe = cluster.onAvailabilityChange((up) => this.setAvailable(up));
          this.setAvailable(cluster.isAvailable());
        } catch (error) {
          options.logger?.warn({ err: error }, "Redis Cluster connection failed; restart vecrec once the cluster is up");
        }
      })();
    });
  }

  get mode(): "standalone" | "cluster" {
    return this.#mode;
  }

  send(command: RedisCommand, route?: { readonly key?: RedisArg; readonly signal?: AbortSignal }): Promise<Reply> {
    if (!this.isAvailable()) return Promise.reject(new OfflineError());
    return this.#current.send(command, route);
  }

  transaction(key: RedisArg, commands: readonly RedisCommand[]): Promise<Reply[]> {
    if (!this.isAvailable()) return Promise.reject(new OfflineError());
    return this.#current.transaction(key, commands);
  }

  primaries(): Promise<((command: RedisCommand) => Promise<Reply>)[]> {
    if (!this.isAvailable()) return Promise.reject(new OfflineError());
    return this.#current.primaries();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.setAvailable(false);
    await this.#current.close();
  }
}
