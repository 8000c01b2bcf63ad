/**
 * A stand-in Redis OSS Cluster (Redis 7.4.1 + RediSearch 2.10 with its OSS coordinator, as recorded in
 * test/conformance/recordings/*-cluster*): several stand-in servers on 127.0.0.1, each a primary with
 * its own keyspace and its own per-shard indexes, slots split evenly. Each node redirects keys it does
 * not own (MOVED / ASK / CROSSSLOT), answers CLUSTER SLOTS & co, and coordinates FT.* over all nodes
 * (see cluster-node.ts and coordinator.ts). Nodes can be stopped (the others report cluster_state:fail
 * and answer CLUSTERDOWN) and slots moved between nodes (MOVED, or ASK half-way).
 */
import { StandInState } from "./commands.js";
import { type ClusterNode, ClusterTopology, nodeHexId } from "./cluster-topology.js";
import { clusterInterceptor } from "./cluster-node.js";
import { keySlot } from "./hash-slot.js";
import { type RedisStandIn, startRedisStandIn } from "./index.js";

export interface RedisStandInCluster {
  /** redis://127.0.0.1:<port of node 0> (a seed) */
  readonly url: string;
  /** Every node's URL. */
  readonly urls: readonly string[];
  /** Every node, in slot order (node i owns the i-th slot range). `busPort` is what CLUSTER NODES reports. */
  readonly nodes: readonly { readonly port: number; readonly url: string; readonly id: string; readonly shardId: string; readonly busPort: number }[];
  /** Every command received by any node: node index + argv decoded as UTF-8. */
  readonly commandLog: { node: number; argv: string[] }[];
  /**
   * Stops node i (closes its listener and connections, keeps its data); the other nodes report
   * cluster_state:fail and answer CLUSTERDOWN like a real cluster with cluster-require-full-coverage
   * yes, until it is started again.
   */
  stopNode(i: number): Promise<void>;
  /** Starts node i again on the same port with its data. */
  startNode(i: number): Promise<void>;
  /** Node i stops answering, connections left open (faults.ts); thawNode(i) resumes it. */
  freezeNode(i: number): void;
  thawNode(i: number): void;
  /**
   * Moves slots [first,last] with their keys from node `from` to node `to`, like a resharding: with
   * `{ask: true}` leaves it half-way (source answers ASK for keys it no longer holds, target accepts
   * them after ASKING) until `finishMigration()`; otherwise the move is complete and the source
   * answers MOVED. Index documents move with their keys (each node indexes only its own keys).
   */
  migrateSlots(from: number, to: number, first: number, last: number, options?: { ask?: boolean }): Promise<void>;
  finishMigration(): Promise<void>;
  close(): Promise<void>;
}

export interface RedisStandInClusterOptions {
  /** Number of primaries (default 3). */
  readonly nodes?: number;
  /** Background indexing on every node (see RedisStandInOptions.scanKeysPerCommand). */
  readonly scanKeysPerCommand?: number;
  /** Called with every command a node receives; the commands it returns run first on that node. */
  readonly beforeCommand?: (node: number, argv: readonly string[]) => readonly (readonly string[])[] | undefined;
  /** Commands every node refuses with NOPERM, as an ACL would (StandInState.deniedCommands). */
  readonly deniedCommands?: readonly string[];
}

/** Moves `key` (any type) from one node's keyspace to another's; the indexes follow. */
function moveKey(from: StandInState, to: StandInState, key: string): void {
  const e = from.keyspace.get(key);
  if (!e) return;
  const ks = to.keyspace;
  ks.delete(key);
  if (e.type === "string") ks.setString(key, e.v);
  else if (e.type === "hash") for (const [f, v] of e.v) ks.hashForWrite(key).set(f, v);
  else if (e.type === "zset") for (const [m, s] of e.v) ks.zsetForWrite(key).set(m, s);
  else for (const m of e.v) ks.setForWrite(key).add(m);
  if (e.type !== "string") ks.changed(key);
  from.keyspace.delete(key);
}

/** Starts a cluster of `nodes` (default 3) stand-in primaries on 127.0.0.1. */
export async function startRedisStandInCluster(options?: RedisStandInClusterOptions): Promise<RedisStandInCluster> {
  const count = options?.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 255) throw new Error("stand-in cluster: 1 to 255 nodes");
  const topology = new ClusterTopology();
  topology.assignEvenly(count);
  const seed = String(process.pid) + ":" + String(Date.now());
  const commandLog: { node: number; argv: string[] }[] = [];
  const servers: Array<RedisStandIn | undefined> = [];

  const start = async (node: ClusterNode): Promise<void> => {
    const server = await startRedisStandIn({
      port: node.port,
      state: node.state,
      beforeCommand: (argv) => {
        commandLog.push({ node: node.index, argv: [...argv] });
        // Time passes on every shard: their background scans move on too.
        for (const other of topology.nodes) if (other !== node) other.state.advanceScans();
        return options?.beforeCommand?.(node.index, argv);
      },
    });
    node.port = server.port;
    node.running = true;
    servers[node.index] = server;
  };

  for (let i = 0; i < count; i++) {
    const state = new StandInState();
    state.scanKeysPerCommand = options?.scanKeysPerCommand;
    state.deniedCommands = new Set(options?.deniedCommands?.map((name) => name.toUpperCase()));
    const node: ClusterNode = {
      index: i,
      port: 0,
      id: nodeHexId("node", i, seed),
      shardId: nodeHexId("shard", i, seed),
      state,
      running: false,
      cursors: new Map(),
    };
    state.interceptor = clusterInterceptor(topology, node);
    topology.nodes.push(node);
  }
  try {
    for (const node of topology.nodes) await start(node);
  } catch (e) {
    for (const s of servers) await s?.close();
    throw e;
  }

  const nodeAt = (i: number): ClusterNode => {
    const node = topology.nodes[i];
    if (!node) throw new Error(`stand-in cluster: no node ${i}`);
    return node;
  };
  const stop = async (i: number): Promise<void> => {
    const node = nodeAt(i);
    const server = servers[i];
    servers[i] = undefined;
    node.running = false;
    await server?.close();
  };
  const nodes = topology.nodes.map((n) => ({
    get port() {
      return n.port;
    },
    get url() {
      return `redis://127.0.0.1:${n.port}`;
    },
    id: n.id,
    shardId: n.shardId,
    get busPort() {
      return topology.busPort(n);
    },
  }));

  return {
    url: `redis://127.0.0.1:${topology.nodes[0]?.port ?? 0}`,
    urls: nodes.map((n) => n.url),
    nodes,
    commandLog,
    stopNode: stop,
    startNode: async (i) => {
      const node = nodeAt(i);
      if (!node.running) await start(node);
    },
    freezeNode: (i) => servers[i]?.freeze(),
    thawNode: (i) => servers[i]?.thaw(),
    migrateSlots: (from, to, first, last, migrateOptions) => {
      const source = nodeAt(from);
      const target = nodeAt(to);
      if (topology.migration) return Promise.reject(new Error("stand-in cluster: a migration is already in progress"));
      if (!(first >= 0 && last < 16384 && first <= last)) return Promise.reject(new Error("stand-in cluster: bad slot range"));
      for (let s = first; s <= last; s++) {
        if (topology.owners[s] !== from) return Promise.reject(new Error(`stand-in cluster: slot ${s} is not on node ${from}`));
      }
      for (const key of source.state.keyspace.keys()) {
        const slot = keySlot(key);
        if (slot >= first && slot <= last) moveKey(source.state, target.state, key);
      }
      if (migrateOptions?.ask) topology.migration = { from, to, first, last };
      else topology.owners.fill(to, first, last + 1);
      return Promise.resolve();
    },
    finishMigration: () => {
      const m = topology.migration;
      if (m) {
        topology.owners.fill(m.to, m.first, m.last + 1);
        topology.migration = undefined;
      }
      return Promise.resolve();
    },
    close: async () => {
      for (let i = 0; i < count; i++) await stop(i);
    },
  };
}
