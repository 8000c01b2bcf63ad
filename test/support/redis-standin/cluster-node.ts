/**
 * What makes a stand-in server a cluster node: an interceptor (StandInState.interceptor) that routes
 * every keyed command like Redis 7.4.1's getNodeByQuery (CROSSSLOT before CLUSTERDOWN, ASK during a
 * migration, MOVED), checks MULTI commands when queued and all queued keys at EXEC, answers the
 * cluster's own commands, and hands the FT.* commands to the coordinator. Everything else is the
 * standalone stand-in, on this node's own keyspace.
 */
import type { Connection } from "./commands.js";
import { clusterCommand, infoCommand, searchClusterInfo } from "./cluster-commands.js";
import type { ClusterNode, ClusterTopology } from "./cluster-topology.js";
import { commandKeys } from "./command-keys.js";
import { COORDINATED, coordinate, shardInfo } from "./coordinator.js";
import { keySlot } from "./hash-slot.js";
import { WrongTypeError } from "./keyspace.js";
import { NULL, OK, type Reply, arr, bulk, err, map, set, simple } from "./resp.js";

type Interceptor = (conn: Connection, argv: Buffer[], next: () => Reply) => Reply;

/** Commands this layer answers itself (queued by it inside MULTI). */
const OWN = new Set([
  "CLUSTER", "INFO", "READONLY", "READWRITE", "ASKING", "SEARCH.CLUSTERINFO", "_FT.INFO", "MGET", "MSET", "SINTER",
  ...COORDINATED,
]);
const TRANSACTION_CONTROL = new Set(["EXEC", "DISCARD", "MULTI", "WATCH", "QUIT"]);

const upper = (b: Buffer | undefined): string => (b?.toString("utf8") ?? "").toUpperCase();

function unknownCommand(argv: readonly Buffer[]): Reply {
  const args = argv
    .slice(1)
    .map((a) => `'${a.toString("utf8")}' `)
    .join("");
  return err(`ERR unknown command '${argv[0]?.toString("utf8") ?? ""}', with args beginning with: ${args}`);
}

/** MGET / MSET / SINTER on the node's own keyspace (the router made sure the keys share a slot). */
function multiKey(me: ClusterNode, cmd: string, argv: readonly Buffer[]): Reply {
  const ks = me.state.keyspace;
  const keys = argv.slice(1).map((a) => a.toString("utf8"));
  switch (cmd) {
    case "MGET":
      if (keys.length === 0) return err("ERR wrong number of arguments for 'mget' command");
      return arr(keys.map((k) => {
        const e = ks.get(k);
        return e?.type === "string" ? bulk(e.v) : NULL;
      }));
    case "MSET":
      if (keys.length === 0 || keys.length % 2 !== 0) return err("ERR wrong number of arguments for 'mset' command");
      for (let i = 1; i < argv.length; i += 2) ks.setString(argv[i]?.toString("utf8") ?? "", Buffer.from(argv[i + 1] as Buffer));
      return OK;
    default: {
      if (keys.length === 0) return err("ERR wrong number of arguments for 'sinter' command");
      const sets = keys.map((k) => ks.getTyped(k, "set")?.v ?? new Set<string>());
      const [head, ...others] = sets;
      return set([...(head ?? [])].filter((m) => others.every((o) => o.has(m))).map((m) => bulk(m)));
    }
  }
}

/** HELLO's reply with `mode` cluster and the cluster's server version. */
function helloCluster(reply: Reply): Reply {
  if (reply.t !== "map") return reply;
  return map(reply.v.map(([k, v]) => {
    const key = k.t === "bulk" ? k.v.toString("utf8") : "";
    if (key === "mode") return [k, bulk("cluster")] as const;
    if (key === "version") return [k, bulk("7.4.1")] as const;
    return [k, v] as const;
  }));
}

/** The interceptor of node `me`. */
export function clusterInterceptor(t: ClusterTopology, me: ClusterNode): Interceptor {
  const asking = new WeakSet<Connection>();
  const inExec = new WeakSet<Connection>();

  /** getNodeByQuery: undefined when this node serves `keys`, else the redirection or error. */
  const route = (keys: readonly Buffer[], isAsking: boolean): Reply | undefined => {
    const slot = keySlot(keys[0] as Buffer);
    for (const k of keys) if (keySlot(k) !== slot) return err("CROSSSLOT Keys in request don't hash to the same slot");
    if (!t.healthy) return err("CLUSTERDOWN The cluster is down");
    const owner = t.ownerOf(slot);
    const migration = t.migrationOf(slot);
    const missing = keys.filter((k) => !me.state.keyspace.has(k.toString("utf8"))).length;
    if (owner === me) {
      if (migration?.from === me.index && missing > 0) {
        if (missing < keys.length) return err("TRYAGAIN Multiple keys request during rehashing of slot");
        return err(`ASK ${slot} 127.0.0.1:${t.nodes[migration.to]?.port ?? 0}`);
      }
      return undefined;
    }
    if (migration?.to === me.index && isAsking) {
      if (keys.length > 1 && missing > 0) return err("TRYAGAIN Multiple keys request during rehashing of slot");
      return undefined;
    }
    return err(`MOVED ${slot} 127.0.0.1:${owner.port}`);
  };

  const own = (conn: Connection, cmd: string, argv: Buffer[]): Reply => {
    try {
      switch (cmd) {
        case "CLUSTER":
          return clusterCommand(t, me, argv);
        case "INFO":
          return infoCommand(me, argv);
        case "READONLY":
        case "READWRITE":
          return OK;
        case "ASKING":
          asking.add(conn);
          return OK;
        case "SEARCH.CLUSTERINFO":
          return searchClusterInfo(t, me, conn.proto);
        case "_FT.INFO": {
          if (argv.length < 2) return err("ERR wrong number of arguments for '_FT.INFO' command");
          const idx = me.state.resolveIndex(argv[1]?.toString("utf8") ?? "");
          return idx ? shardInfo(idx, conn.proto) : err("Unknown index name");
        }
        case "MGET":
        case "MSET":
        case "SINTER":
          return multiKey(me, cmd, argv);
        default:
          return coordinate(t, me, conn, cmd, argv, inExec.has(conn));
      }
    } catch (e) {
      if (e instanceof WrongTypeError) return err(e.message);
      throw e;
    }
  };

  return (conn, argv, next) => {
    const cmd = upper(argv[0]);
    const wasAsking = asking.has(conn);
    // ASKING lasts for one command (for the whole transaction inside MULTI).
    if (conn.multi === undefined && cmd !== "ASKING") asking.delete(conn);
    const running = inExec.has(conn);

    if (cmd === "EXEC" && conn.multi !== undefined && !running) {
      // Redis routes EXEC with the keys of every queued command: one slot, served here.
      const keys = conn.multi.queue.flatMap((q) => commandKeys(upper(q[0]), q) ?? []);
      const redirect = keys.length > 0 ? route(keys, wasAsking) : undefined;
      if (redirect) {
        conn.multi = undefined;
        me.state.unwatch(conn);
        return redirect;
      }
      inExec.add(conn);
      try {
        return next();
      } finally {
        inExec.delete(conn);
        asking.delete(conn);
      }
    }
    if (cmd === "FT.CONFIG") {
      // The coordinator build has no FT.CONFIG.
      if (conn.multi) conn.multi.dirty = true;
      return unknownCommand(argv);
    }
    const keys = running ? undefined : commandKeys(cmd, argv);
    if (keys !== undefined && keys.length > 0) {
      const redirect = route(keys, wasAsking);
      if (redirect) {
        if (conn.multi) conn.multi.dirty = true;
        return redirect;
      }
    }
    if (conn.multi !== undefined && !TRANSACTION_CONTROL.has(cmd)) {
      if (!OWN.has(cmd)) return next();
      conn.multi.queue.push(argv);
      return simple("QUEUED");
    }
    if (OWN.has(cmd)) return own(conn, cmd, argv);
    if (cmd === "HELLO") return helloCluster(next());
    if (cmd === "SELECT" && argv.length === 2 && argv[1]?.toString("utf8") !== "0") {
      return err("ERR SELECT is not allowed in cluster mode");
    }
    if (cmd === "CONFIG" && upper(argv[1]) === "GET" && /^search-/i.test(argv[2]?.toString("utf8") ?? "")) {
      // 7.4.1 has no search-* configuration parameters.
      return map([]);
    }
    return next();
  };
}
