/**
 * Finding out which shape of Redis vecrec talks to: the first reachable seed is connected to as a
 * standalone server and asked `INFO cluster`; `cluster_enabled:1` switches to the cluster connection
 * (cluster-connection.ts). When Redis is down at start, the answer is deferred until it is up.
 */
import { redactUrl } from "./connection-url.js";
import {
  AvailabilityReporter,
  OfflineError,
  StandaloneConnection,
  isClusterHello,
  isClusterInfo,
  isHandshakeRefusal,
  newClient,
  type ConnectionLimits,
  type KeyedCommand,
  type RedisArg,
  type RedisCommand,
  type RedisConnection,
  type RedisSecurity,
  type RedisStoreLogger,
  type Route,
} from "./connection.js";
import type { Reply } from "./reply-parsers.js";

export interface ConnectOptions {
  /** Seeds: the first reachable is asked which shape Redis has; all are root nodes of a cluster. */
  readonly urls: readonly string[];
  readonly connectTimeoutMs: number;
  /** Password and TLS material given apart from the URLs. */
  readonly security?: RedisSecurity | undefined;
  readonly logger?: RedisStoreLogger;
  /** The probe and the command bound; DEFAULT_LIMITS when unset. */
  readonly limits?: ConnectionLimits;
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
  const urls = options.urls.length > 1 ? await reachableFirst(options.urls, options.connectTimeoutMs, options.security) : options.urls;
  options = { ...options, urls };
  const url = urls[0] as string;
  const logger = options.logger;
  let everReady = false;
  let loggedSinceReady = false;
  let loggedUnreachable = false;
  let loggedRefusal = false;
  // Before the first connection, a handshake refused by Redis (an error reply) is not retried: it is
  // configuration, and the start fails. Network failures are, so that vecrec can start before Redis;
  // once it has (serving, Redis unreachable), a refusal when Redis comes up is retried too (it may be
  // fixed on Redis's side: a password, an ACL) and logged once, instead of stopping for good in silence.
  const client = newClient(url, options.connectTimeoutMs, (cause) => everReady || loggedUnreachable || !isHandshakeRefusal(cause), options.security);
  // Without a listener an 'error' event would crash the process.
  client.on("error", (error: unknown) => {
    if (!everReady && loggedUnreachable && isHandshakeRefusal(error)) {
      if (!loggedRefusal) {
        loggedRefusal = true;
        logger?.warn(
          { err: error, url: redactUrl(url) },
          "Redis refuses vecrec's connection (password, user or ACL?): calls fail with UNAVAILABLE, retrying",
        );
      }
      return;
    }
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
  const standalone = new StandaloneConnection(client, options.limits, logger);
  if (outcome === "ready") {
    // The first probe before answering, so that health is right from the start (LOADING, frozen).
    await standalone.probe();
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
async function reachableFirst(urls: readonly string[], connectTimeoutMs: number, security: RedisSecurity | undefined): Promise<readonly string[]> {
  for (const [i, url] of urls.entries()) {
    const probe = newClient(url, connectTimeoutMs, () => false, security);
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

/**
 * Asks the server whether it is a cluster node: INFO cluster, or, where INFO is refused (it is in the
 * @dangerous ACL category: a user with `+@all -@dangerous`), HELLO's `mode` (HELLO is in @connection).
 * A server that answers neither is taken as standalone.
 */
async function askIsCluster(connection: StandaloneConnection): Promise<boolean> {
  try {
    return isClusterInfo(await connection.sendUnchecked(["INFO", "cluster"]));
  } catch {
    try {
      return isClusterHello(await connection.sendUnchecked(["HELLO"]));
    } catch {
      return false;
    }
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

  send(command: RedisCommand, route?: Route): Promise<Reply> {
    if (!this.isAvailable()) return Promise.reject(new OfflineError());
    return this.#current.send(command, route);
  }

  pipeline(commands: readonly KeyedCommand[], signal?: AbortSignal): Promise<Reply[]> {
    if (!this.isAvailable()) return Promise.reject(new OfflineError());
    return this.#current.pipeline(commands, signal);
  }

  transaction(key: RedisArg, commands: readonly RedisCommand[], signal?: AbortSignal): Promise<Reply[]> {
    if (!this.isAvailable()) return Promise.reject(new OfflineError());
    return this.#current.transaction(key, commands, signal);
  }

  primaries(): Promise<((command: RedisCommand, signal?: AbortSignal) => Promise<Reply>)[]> {
    if (!this.isAvailable()) return Promise.reject(new OfflineError());
    return this.#current.primaries();
  }

  sendToNodesOf(keys: readonly RedisArg[], command: RedisCommand, signal?: AbortSignal): Promise<Reply[]> {
    if (!this.isAvailable()) return Promise.reject(new OfflineError());
    return this.#current.sendToNodesOf(keys, command, signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.setAvailable(false);
    await this.#current.close();
  }
}
