/**
 * The connection to Redis, whatever its shape: one server (or a primary with replicas, or a proxy in
 * front of a sharded database) or an OSS Cluster. The rest of the Redis store only sees
 * `RedisConnection`: commands routed by key, single-slot transactions, the primaries (for SCAN), and
 * availability. Which shape is used is found out, not configured: the first server reached is asked
 * `INFO cluster`, and `cluster_enabled:1` switches to node-redis's cluster client (cluster-connection.ts).
 *
 * Connection policy (both shapes): every command is bounded by the caller's AbortSignal and by a
 * server-side maximum (command-bound.ts; node-redis's own timeout stops at the socket), and a command
 * whose signal has aborted is not sent at all, so a call that ends stops sending. No offline queue:
 * while Redis is unreachable (at startup too) every call fails at once and the client (re)connects in
 * the background.
 *
 * Availability is what a probe saw, not what the socket says: an open socket to a frozen Redis, or to
 * one that restarted and answers LOADING while it reads its data set, is not available. The standalone
 * connection PINGs every `probeIntervalMs` (and at once on every reconnect) and is available only while
 * the last PING answered PONG within `probeTimeoutMs` (a PING late only because it waited behind this
 * connection's own long pipeline, while replies kept coming, does not count as a failure); while it is
 * not, calls fail at once with UNAVAILABLE and send nothing (the cluster connection probes the same
 * way, cluster-connection.ts, but does not hold calls back: those for healthy shards still run).
 */
import { ErrorReply, RESP_TYPES, createClient } from "redis";
import { CommandBound } from "./command-bound.js";
import { replyMap, replyText, type Reply } from "./reply-parsers.js";

export type RedisArg = string | Buffer;
export type RedisCommand = readonly RedisArg[];

/**
 * Where and how one command goes: `key` routes it on a cluster; `signal` bounds it (see the header);
 * `text` asks for bulk strings as JS strings instead of Buffers (TEXT_TYPE_MAPPING), for replies that
 * hold no binary value (a Search that returns no vectors): one string per value instead of a Buffer
 * view and its decoding (measured: ~15 µs less client CPU per k=10 FT.SEARCH at 16 calls at once).
 */
export interface Route {
  readonly key?: RedisArg;
  readonly signal?: AbortSignal;
  readonly text?: boolean;
}

/** A command that touches one key (or several of one slot): `key` routes it on a cluster. */
export interface KeyedCommand {
  readonly key: RedisArg;
  readonly command: RedisCommand;
}

/** Every promise settled: its value, or the Error it rejected with (a non-Error reason wrapped). */
export function settleEach<T>(promises: readonly Promise<T>[]): Promise<(T | Error)[]> {
  return Promise.all(promises.map((p) => p.catch(asError)));
}

/** A rejection reason as settleEach reports it: the Error itself, or one wrapping what was thrown. */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

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
  send(command: RedisCommand, route?: Route): Promise<Reply>;
  /**
   * Sends many single-key commands at once (a pipeline: one write per node, no transaction), each
   * routed by its `key`, and waits until every one has answered: each command's reply in order, or, for
   * a command that failed, the Error it failed with (no reply is an Error instance otherwise). One bound
   * (command-bound.ts) covers the whole pipeline: it rejects once `signal` aborts or the longest wait
   * passes. Nothing is sent once `signal` aborted.
   */
  pipeline(commands: readonly KeyedCommand[], signal?: AbortSignal): Promise<Reply[]>;
  /** MULTI/EXEC of `commands`, all on `key`'s slot; returns EXEC's replies. Not sent once `signal` aborted. */
  transaction(key: RedisArg, commands: readonly RedisCommand[], signal?: AbortSignal): Promise<Reply[]>;
  /**
   * Sends `command` once to each node holding one of `keys` (a cluster: one per primary owning a slot
   * of them, routed by one of its keys; a standalone server: once), on the connection that node's keyed
   * commands use, so it comes after this connection's earlier commands there (WAITAOF, WAIT).
   */
  sendToNodesOf(keys: readonly RedisArg[], command: RedisCommand, signal?: AbortSignal): Promise<Reply[]>;
  /**
   * A sender per primary, for the commands that see one node's keys only (SCAN), each bounded by the
   * `signal` given with the command as `send` is. One entry on a standalone server.
   */
  primaries(): Promise<((command: RedisCommand, signal?: AbortSignal) => Promise<Reply>)[]>;
  /** Whether calls can reach Redis now. */
  isAvailable(): boolean;
  /** Told of every change of isAvailable(); every outage (a reconnect included) goes through false. */
  onAvailabilityChange(listener: (available: boolean) => void): () => void;
  close(): Promise<void>;
}

/** The probe and the bound on every command (see the header). */
export interface ConnectionLimits {
  /** A probe must answer within this for Redis to count as available; default 1000 ms. */
  readonly probeTimeoutMs: number;
  /** How often the probe runs; default 500 ms (so a frozen Redis is seen within 1.5 s). */
  readonly probeIntervalMs: number;
  /** The longest any command waits for its reply, whatever the caller's deadline; default 10 000 ms. */
  readonly commandTimeoutMs: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = { probeTimeoutMs: 1000, probeIntervalMs: 500, commandTimeoutMs: 10_000 };

/**
 * Resolves with `promise`'s value, or rejects with `onTimeout()` after `ms`: for probes, which must
 * answer quickly whatever the command bound is.
 *
 * Time this process itself did not run is not held against Redis: when the timer fires more than `ms / 2`
 * late (a long synchronous task or a GC pause here kept the event loop from reading the socket), it waits
 * `ms` once more before judging; and the rejection waits for one I/O phase, so that an answer already in
 * the socket when the timer fires still counts. Without this, a stall of this process of a second made a
 * healthy Redis look frozen, and every call failed UNAVAILABLE until the next probe.
 */
export function withinMs<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let due = performance.now() + ms;
    let waitedAgain = false;
    let settled = false;
    const judge = (): void => {
      const late = performance.now() - due;
      if (late > ms / 2 && !waitedAgain) {
        waitedAgain = true;
        due = performance.now() + ms;
        timer = setTimeout(judge, ms);
        return;
      }
      setImmediate(() => {
        if (!settled) reject(onTimeout());
      });
    };
    let timer = setTimeout(judge, ms);
    promise.then(
      (value) => {
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        settled = true;
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** What a failed probe means, in words for the log and for the UNAVAILABLE of the calls it stops. */
export function probeFailure(error: unknown, probeTimeoutMs: number): string {
  if (error instanceof ProbeTimeoutError) return `Redis did not answer PING within ${probeTimeoutMs} ms (frozen or overloaded)`;
  if (error instanceof ErrorReply && /^LOADING\b/.test(error.message)) return "Redis is loading its data set (LOADING)";
  if (error instanceof ErrorReply) return `Redis answered PING with an error: ${error.message}`;
  return `Redis is unreachable: ${error instanceof Error ? error.message : String(error)}`;
}

export class ProbeTimeoutError extends Error {
  constructor() {
    super("probe timed out");
    this.name = "ProbeTimeoutError";
  }
}

export const TYPE_MAPPING = {
  // Vectors are binary: bulk strings must arrive as bytes, not as (mangled) UTF-8 text.
  [RESP_TYPES.BLOB_STRING]: Buffer,
  // Maps keep their order and never turn a field named like an Object.prototype member into a trap.
  [RESP_TYPES.MAP]: Map,
} as const;

/** TYPE_MAPPING with bulk strings as JS strings (UTF-8), for Route.text. */
export const TEXT_TYPE_MAPPING = { ...TYPE_MAPPING, [RESP_TYPES.BLOB_STRING]: String } as const;

/** The command options of a Route.text command (node-redis merges them over the client's). */
const TEXT_COMMAND_OPTIONS = { typeMapping: TEXT_TYPE_MAPPING };

/** node-redis command options for `route`: text replies when it asks for them, else the client's own. */
export function routeOptions(route: Route | undefined): typeof TEXT_COMMAND_OPTIONS | undefined {
  return route?.text === true ? TEXT_COMMAND_OPTIONS : undefined;
}

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

/**
 * Credentials and TLS material given apart from the URL (README "Security"): a password kept out of
 * the process arguments, and the CA / client certificate of a `rediss://` connection.
 */
export interface RedisSecurity {
  readonly password?: string | undefined;
  /** PEM: the CA to verify the server's certificate with (instead of Node's default roots). */
  readonly tlsCa?: Buffer | undefined;
  /** PEM: a client certificate and its key, for servers that require one (`tls-auth-clients yes`). */
  readonly tlsCert?: Buffer | undefined;
  readonly tlsKey?: Buffer | undefined;
}

/** The node-redis client (or cluster node) options of `security`, for a connection to `url`. */
export function securityOptions(url: string, security: RedisSecurity | undefined) {
  const tls = url.startsWith("rediss:");
  return {
    ...(security?.password === undefined ? {} : { password: security.password }),
    socket: tls
      ? {
          tls: true as const,
          ...(security?.tlsCa === undefined ? {} : { ca: security.tlsCa }),
          ...(security?.tlsCert === undefined ? {} : { cert: security.tlsCert, key: security.tlsKey }),
        }
      : {},
  };
}

/** A client without offline queue nor per-command timer, reconnecting while `retry(cause)` says so. */
export function newClient(url: string, connectTimeoutMs: number, retry: (cause: unknown) => boolean, security?: RedisSecurity) {
  const secured = securityOptions(url, security);
  return createClient({
    url,
    ...(secured.password === undefined ? {} : { password: secured.password }),
    disableOfflineQueue: true,
    maintNotifications: "disabled",
    commandOptions: { timeout: 0, typeMapping: TYPE_MAPPING },
    socket: {
      ...secured.socket,
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

/** Whether a HELLO reply (RESP3 map, or RESP2 flat array) says `mode` cluster. */
export function isClusterHello(reply: Reply): boolean {
  const mode = replyMap(reply).get("mode");
  return mode !== undefined && replyText(mode) === "cluster";
}

/**
 * One Redis server through one node-redis client: every command on one connection (node-redis
 * pipelines the commands issued in the same tick into one write). Available while the last PING
 * (every probeIntervalMs, and at once when the client becomes ready) answered within probeTimeoutMs.
 */
export class StandaloneConnection extends AvailabilityReporter implements RedisConnection {
  readonly mode = "standalone" as const;
  readonly #client: Client;
  readonly #limits: ConnectionLimits;
  readonly #bound: CommandBound;
  readonly #logger: RedisStoreLogger | undefined;
  readonly #timer: NodeJS.Timeout;
  #closed = false;
  #probing: Promise<void> | undefined;
  /** Why the connection is not available (the text of the calls' UNAVAILABLE). */
  #reason = "the connection to Redis is not checked yet";
  #loggedDown = false;

  constructor(client: Client, limits: ConnectionLimits = DEFAULT_LIMITS, logger?: RedisStoreLogger) {
    super(false);
    this.#client = client;
    this.#limits = limits;
    this.#logger = logger;
    this.#bound = new CommandBound(limits.commandTimeoutMs);
    const lost = (): void => this.#report(false, "the connection to Redis is down");
    client.on("ready", () => void this.probe());
    client.on("end", lost);
    client.on("error", lost);
    client.on("reconnecting", lost);
    this.#timer = setInterval(() => void this.probe(), limits.probeIntervalMs);
    this.#timer.unref();
  }

  get client(): Client {
    return this.#client;
  }

  /** PINGs Redis now (unless a probe is running: then waits for that one) and reports the outcome. */
  probe(): Promise<void> {
    this.#probing ??= this.#probeOnce().finally(() => (this.#probing = undefined));
    return this.#probing;
  }

  async #probeOnce(): Promise<void> {
    if (this.#closed) return;
    if (!this.#client.isReady) return this.#report(false, "the connection to Redis is down");
    try {
      await withinMs(this.#client.sendCommand(["PING"]), this.#limits.probeTimeoutMs, () => new ProbeTimeoutError());
      this.#report(true, "");
    } catch (error) {
      // The PING waits behind this connection's own pipeline: when replies kept arriving meanwhile,
      // Redis is answering (a long batch is ahead of the PING), not frozen.
      const answering = Date.now() - this.#bound.lastAnswerAt < this.#limits.probeTimeoutMs;
      if (error instanceof ProbeTimeoutError && answering && this.#client.isReady) return this.#report(true, "");
      this.#report(false, probeFailure(error, this.#limits.probeTimeoutMs));
    }
  }

  #report(up: boolean, reason: string): void {
    if (this.#closed) return;
    if (!up) this.#reason = reason;
    const was = this.isAvailable();
    this.setAvailable(up && this.#client.isReady);
    if (was === this.isAvailable()) return;
    if (!up) {
      // Connection losses are logged by connectRedis; the probe's own findings here.
      if (this.#client.isReady) {
        this.#logger?.warn({ reason }, "Redis is not answering: calls fail with UNAVAILABLE");
        this.#loggedDown = true;
      }
    } else if (this.#loggedDown) {
      this.#loggedDown = false;
      this.#logger?.info?.({}, "Redis answers again");
    }
  }

  /** Sends without the availability check: for the startup questions (INFO is answered while LOADING). */
  sendUnchecked(command: RedisCommand): Promise<Reply> {
    return this.#bound.run(() => this.#client.sendCommand(command));
  }

  send(command: RedisCommand, route?: Route): Promise<Reply> {
    if (!this.isAvailable()) return Promise.reject(new OfflineError(this.#reason));
    // The call's signal is followed by the bound (one listener per signal), not by node-redis, whose
    // abortSignal option adds a listener per command: 1,000 of them on one Upsert's signal.
    return this.#bound.run(() => this.#client.sendCommand(command, routeOptions(route)), route?.signal);
  }

  pipeline(commands: readonly KeyedCommand[], signal?: AbortSignal): Promise<Reply[]> {
    if (!this.isAvailable()) return Promise.reject(new OfflineError(this.#reason));
    const client = this.#client;
    const bound = this.#bound;
    // Each reply (an error reply too) counts as Redis answering, as each command did when sent alone:
    // the probe's PING waits behind the whole pipeline, and must not call a busy Redis frozen.
    // One handler pair per command (a reply, or its error as a value: settleEach's contract), not three
    // promises: a pipeline holds up to 1,000 of them.
    const answered = (reply: Reply): Reply => {
      bound.answered();
      return reply;
    };
    const failed = (error: unknown): Error => {
      if (error instanceof ErrorReply) bound.answered();
      return asError(error);
    };
    return bound.run(() => {
      const replies = new Array<Promise<Reply>>(commands.length);
      for (let i = 0; i < commands.length; i++) replies[i] = client.sendCommand<Reply>(commands[i]!.command).then(answered, failed);
      return Promise.all(replies);
    }, signal);
  }

  async transaction(_key: RedisArg, commands: readonly RedisCommand[], signal?: AbortSignal): Promise<Reply[]> {
    if (commands.length === 0) return [];
    // MULTI/EXEC bypasses node-redis's offline check; without it the block would wait for a reconnect.
    if (!this.isAvailable() || !this.#client.isReady) throw new OfflineError(this.#reason);
    return await this.#bound.run(() => {
      const multi = this.#client.multi();
      for (const command of commands) multi.addCommand(command as RedisArg[]);
      return multi.exec();
    }, signal);
  }

  primaries(): Promise<((command: RedisCommand, signal?: AbortSignal) => Promise<Reply>)[]> {
    return Promise.resolve([(command, signal) => this.send(command, { signal })]);
  }

  async sendToNodesOf(keys: readonly RedisArg[], command: RedisCommand, signal?: AbortSignal): Promise<Reply[]> {
    return keys.length === 0 ? [] : [await this.send(command, { signal })];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
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
