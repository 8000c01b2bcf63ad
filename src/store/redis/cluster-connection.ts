/**
 * A Redis OSS Cluster through node-redis's cluster client (`createCluster`): keyed commands go to the
 * primary owning the key's slot (MOVED and ASK are followed by the client, which then refreshes its
 * slot map), keyless ones (FT.*) to any primary, whose Query Engine coordinator fans them out to
 * every shard and merges the replies. Credentials and TLS come from the first seed URL and apply to
 * every node the client discovers.
 *
 * Availability: a probe asks one node `CLUSTER INFO` and PINGs every primary every `probeIntervalMs`
 * (and at once after a node connection fails or recovers); the cluster is available while every
 * primary's connection is ready, every PING answered within `probeTimeoutMs` (not frozen, not LOADING
 * after a restart) and the cluster says `cluster_state:ok`. While a shard is down, the calls that need
 * it fail at once (no offline queue) and `cluster_state` turns to `fail` once the other nodes notice.
 * Every command is bounded like on a standalone server (command-bound.ts).
 */
import { createCluster } from "redis";
import { CommandBound } from "./command-bound.js";
import { redactUrl } from "./connection-url.js";
import { keySlot } from "./key-slot.js";
import {
  AvailabilityReporter,
  DEFAULT_LIMITS,
  OfflineError,
  ProbeTimeoutError,
  probeFailure,
  withinMs,
  type ConnectionLimits,
  TEXT_TYPE_MAPPING,
  TYPE_MAPPING,
  backoffMs,
  type KeyedCommand,
  settleEach,
  type RedisArg,
  type RedisCommand,
  type RedisConnection,
  type RedisSecurity,
  type RedisStoreLogger,
  type Route,
  routeOptions,
  securityOptions,
} from "./connection.js";
import { replyText, type Reply } from "./reply-parsers.js";

export interface ClusterConnectionOptions {
  readonly urls: readonly string[];
  readonly connectTimeoutMs: number;
  /** Password and TLS material given apart from the URLs: applied to every node. */
  readonly security?: RedisSecurity | undefined;
  readonly logger?: RedisStoreLogger;
  /** The probe (its interval: how often cluster health is probed) and the command bound; DEFAULT_LIMITS when unset. */
  readonly limits?: ConnectionLimits;
}

/** Settings every node connection shares, read from the seed URL and `security` (node-redis applies a root URL to that root only). Exported for its test. */
export function nodeDefaults(url: string, connectTimeoutMs: number, security: RedisSecurity | undefined) {
  const parsed = new URL(url);
  const secured = securityOptions(url, security);
  const username = parsed.username === "" ? undefined : decodeURIComponent(parsed.username);
  const password = parsed.password === "" ? secured.password : decodeURIComponent(parsed.password);
  const tls = parsed.protocol === "rediss:";
  return {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    disableOfflineQueue: true,
    maintNotifications: "disabled" as const,
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries: number) => backoffMs(retries),
      ...(tls ? { ...secured.socket, servername: parsed.hostname } : {}),
    },
  };
}

function newCluster(options: ClusterConnectionOptions) {
  return createCluster({
    rootNodes: options.urls.map((url) => ({ url })),
    defaults: nodeDefaults(options.urls[0] as string, options.connectTimeoutMs, options.security),
    useReplicas: false,
    maxCommandRedirections: 16,
    commandOptions: COMMAND_OPTIONS,
  });
}

/**
 * The cluster client's options for every command. The nodes' own clients do not carry them (the cluster
 * client applies them per command), so #keylessClient's commands name them too.
 */
const COMMAND_OPTIONS = { timeout: 0, typeMapping: TYPE_MAPPING };
/** COMMAND_OPTIONS for a route asking for text replies (routeOptions). */
const TEXT_OPTIONS = { timeout: 0, typeMapping: TEXT_TYPE_MAPPING };

type Cluster = ReturnType<typeof newCluster>;
type NodeClient = NonNullable<Cluster["masters"][number]["client"]>;

/** Connects to the cluster (retrying in the background when no seed answers) and returns the connection. */
export async function connectCluster(options: ClusterConnectionOptions): Promise<RedisConnection> {
  const connection = new ClusterConnection(newCluster(options), options);
  await connection.start();
  return connection;
}

class ClusterConnection extends AvailabilityReporter implements RedisConnection {
  readonly mode = "cluster" as const;
  readonly #cluster: Cluster;
  readonly #options: ClusterConnectionOptions;
  #connected = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #probing = false;
  #loggedDown = false;
  /** Where #keylessClient starts looking next. */
  #nextKeyless = 0;
  readonly #limits: ConnectionLimits;
  readonly #bound: CommandBound;

  constructor(cluster: Cluster, options: ClusterConnectionOptions) {
    super(false);
    this.#cluster = cluster;
    this.#options = options;
    this.#limits = options.limits ?? DEFAULT_LIMITS;
    this.#bound = new CommandBound(this.#limits.commandTimeoutMs);
    // Without a listener an 'error' event would crash the process; the probe reports the state.
    cluster.on("error", () => undefined);
    const soon = (): void => void this.#probe();
    cluster.on("node-error", () => undefined);
    cluster.on("node-disconnect", soon);
    cluster.on("node-ready", soon);
    cluster.on("node-reconnecting", () => this.setAvailable(false));
  }

  async start(): Promise<void> {
    const logger = this.#options.logger;
    try {
      await this.#cluster.connect();
      this.#connected = true;
      logger?.info?.(
        { mode: "cluster", primaries: this.#cluster.masters.length, seeds: this.#options.urls.map(redactUrl) },
        `Redis mode: cluster with ${this.#cluster.masters.length} primaries`,
      );
    } catch (error) {
      logger?.warn(
        { err: error, seeds: this.#options.urls.map(redactUrl) },
        "Redis Cluster is unreachable: calls fail with UNAVAILABLE until it is, connecting in the background",
      );
      this.#loggedDown = true;
    }
    await this.#probe();
    this.#timer = setInterval(() => void this.#probe(), this.#limits.probeIntervalMs);
    this.#timer.unref();
  }

  /** Connects when not yet connected, then checks every primary's connection and `cluster_state`. */
  async #probe(): Promise<void> {
    if (this.#probing || this.#closed) return;
    this.#probing = true;
    try {
      if (!this.#connected) {
        await this.#cluster.connect();
        this.#connected = true;
        this.#options.logger?.info?.(
          { mode: "cluster", primaries: this.#cluster.masters.length },
          `Redis mode: cluster with ${this.#cluster.masters.length} primaries`,
        );
      }
      const masters = this.#cluster.masters;
      const allReady = masters.length > 0 && masters.every((m) => m.client?.isReady === true);
      let ok = false;
      if (allReady) {
        const within = <T>(promise: Promise<T>): Promise<T> =>
          withinMs(promise, this.#limits.probeTimeoutMs, () => new ProbeTimeoutError());
        const [info] = await Promise.all([
          within(this.#cluster.sendCommand(undefined, true, ["CLUSTER", "INFO"])),
          // A primary restarted (LOADING) or frozen behind an open socket answers no PING in time.
          ...masters.map((m) => (m.client === undefined ? Promise.resolve() : within(m.client.sendCommand(["PING"])))),
        ]);
        ok = /^cluster_state:ok\s*$/m.test(replyText(info));
      }
      this.#report(ok);
    } catch (error) {
      this.#report(false, probeFailure(error, this.#limits.probeTimeoutMs));
    } finally {
      this.#probing = false;
    }
  }

  #report(up: boolean, reason?: string): void {
    if (this.#closed) return;
    const was = this.isAvailable();
    this.setAvailable(up);
    if (was === up) return;
    if (!up) {
      this.#loggedDown = true;
      this.#options.logger?.warn(
        { mode: "cluster", ...(reason === undefined ? {} : { reason }) },
        "Redis Cluster is down or degraded (a primary unreachable, not answering, or cluster_state:fail)",
      );
    } else if (this.#loggedDown) {
      this.#options.logger?.info?.({ mode: "cluster" }, "Redis Cluster is available again");
    }
  }

  send(command: RedisCommand, route?: Route): Promise<Reply> {
    if (!this.#connected) return Promise.reject(new OfflineError());
    // The call's signal is followed by the bound (one listener per signal), not by node-redis (a
    // listener per command).
    const keyless = route?.key === undefined ? this.#keylessClient() : undefined;
    if (keyless !== undefined) {
      const options = route?.text === true ? TEXT_OPTIONS : COMMAND_OPTIONS;
      return this.#bound.run(() => keyless.sendCommand(command as RedisArg[], options), route?.signal);
    }
    return this.#bound.run(() => this.#cluster.sendCommand(route?.key, false, command as RedisArg[], routeOptions(route)), route?.signal);
  }

  /**
   * The client of a ready primary for a command without a key (FT.SEARCH, FT.CREATE, FT.INFO, ...: any
   * node's coordinator serves them), the primaries in turn; undefined when none is ready (the cluster
   * client then picks, and reports, as before). node-redis's cluster client would pick a node too, but
   * through its request-policy machinery (these commands' policy is default-keyless: a routing plan, a
   * reducer and an async step per command), which cost ~20-40 µs of client CPU per FT.SEARCH at 16 at
   * once (scratch clcost.mts: 145-201 µs through the cluster client, 117-146 µs round-robin over the
   * primaries' own clients, 4 rounds).
   */
  #keylessClient(): NodeClient | undefined {
    const masters = this.#cluster.masters;
    for (let i = 0; i < masters.length; i++) {
      const at = (this.#nextKeyless + i) % masters.length;
      const client = masters[at]?.client;
      if (client?.isReady === true) {
        this.#nextKeyless = at + 1;
        return client;
      }
    }
    return undefined;
  }

  pipeline(commands: readonly KeyedCommand[], signal?: AbortSignal): Promise<Reply[]> {
    if (!this.#connected) return Promise.reject(new OfflineError());
    const cluster = this.#cluster;
    return this.#bound.run(
      () => settleEach(commands.map(({ key, command }) => cluster.sendCommand<Reply>(key, false, command as RedisArg[]))),
      signal,
    );
  }

  async transaction(key: RedisArg, commands: readonly RedisCommand[], signal?: AbortSignal): Promise<Reply[]> {
    if (commands.length === 0) return [];
    if (!this.#connected) throw new OfflineError();
    return await this.#bound.run(() => {
      const multi = this.#cluster.multi(key);
      for (const command of commands) multi.addCommand(key, false, command as RedisArg[]);
      return multi.exec();
    }, signal);
  }

  async sendToNodesOf(keys: readonly RedisArg[], command: RedisCommand, signal?: AbortSignal): Promise<Reply[]> {
    if (!this.#connected) throw new OfflineError();
    // The primaries owning the keys, by the slot map node-redis routes keyed commands with, each
    // reached through the client those commands went through (cluster.sendCommand would apply the
    // command's request policy instead: WAITAOF's is all_shards, every primary).
    const masters = new Map<string, Cluster["masters"][number]>();
    const slots = this.#cluster.slots;
    for (const key of keys) {
      const master = slots[keySlot(key)]?.master;
      if (master === undefined) throw new OfflineError("no Redis Cluster primary is known for a written key's slot");
      masters.set(master.address, master);
    }
    return await Promise.all(
      [...masters.values()].map(async (master) => {
        const client = await this.#cluster.nodeClient(master);
        if (!client.isReady) throw new OfflineError("a Redis Cluster primary is unreachable");
        return await this.#bound.run(() => client.sendCommand(command as RedisArg[]), signal);
      }),
    );
  }

  async primaries(): Promise<((command: RedisCommand, signal?: AbortSignal) => Promise<Reply>)[]> {
    if (!this.#connected) throw new OfflineError();
    const clients = await Promise.all(this.#cluster.masters.map((master) => this.#cluster.nodeClient(master)));
    return clients.map((client) => (command: RedisCommand, signal?: AbortSignal) => {
      if (!client.isReady) return Promise.reject(new OfflineError("a Redis Cluster primary is unreachable"));
      return this.#bound.run(() => client.sendCommand(command), signal);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.setAvailable(false);
    try {
      if (this.#connected) await this.#cluster.close();
      else this.#cluster.destroy();
    } catch {
      this.#cluster.destroy();
    }
  }
}
