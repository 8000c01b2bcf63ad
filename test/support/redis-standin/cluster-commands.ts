/**
 * The introspection commands of a cluster node, with Redis 7.4.1's shapes and texts: CLUSTER INFO /
 * MYID / MYSHARDID / SLOTS / SHARDS / NODES / KEYSLOT / COUNTKEYSINSLOT / GETKEYSINSLOT, INFO, and the
 * RediSearch coordinator's SEARCH.CLUSTERINFO.
 */
import type { ClusterNode, ClusterTopology } from "./cluster-topology.js";
import { keySlot } from "./hash-slot.js";
import { infoReply } from "./commands/server.js";
import { type Reply, arr, bulk, err, int, map, simple, smap, verbatim } from "./resp.js";

const upper = (b: Buffer | undefined): string => (b?.toString("utf8") ?? "").toUpperCase();

function rangeText(r: { first: number; last: number }): string {
  return r.first === r.last ? String(r.first) : `${r.first}-${r.last}`;
}

/** CLUSTER INFO's text (CRLF line ends). */
export function clusterInfoText(t: ClusterTopology, me: ClusterNode): string {
  let failed = 0;
  for (const r of t.ranges()) if (!r.node.running) failed += r.last - r.first + 1;
  const lines = [
    `cluster_state:${t.healthy ? "ok" : "fail"}`,
    "cluster_slots_assigned:16384",
    `cluster_slots_ok:${16384 - failed}`,
    "cluster_slots_pfail:0",
    `cluster_slots_fail:${failed}`,
    `cluster_known_nodes:${t.nodes.length}`,
    `cluster_size:${t.nodes.length}`,
    `cluster_current_epoch:${t.nodes.length}`,
    `cluster_my_epoch:${me.index + 1}`,
    "cluster_stats_messages_ping_sent:0",
    "cluster_stats_messages_pong_sent:0",
    "cluster_stats_messages_sent:0",
    "cluster_stats_messages_ping_received:0",
    "cluster_stats_messages_pong_received:0",
    "cluster_stats_messages_received:0",
    "total_cluster_links_buffer_limit_exceeded:0",
  ];
  return lines.map((l) => l + "\r\n").join("");
}

/** CLUSTER NODES's text (LF line ends), the receiving node marked `myself`. */
export function clusterNodesText(t: ClusterTopology, me: ClusterNode): string {
  const now = Date.now();
  return t.nodes
    .map((n) => {
      const flags = `${n === me ? "myself," : ""}master${n.running ? "" : ",fail"}`;
      const slots = t.rangesOf(n).map(rangeText).join(" ");
      const pong = n === me ? 0 : now;
      const link = n.running ? "connected" : "disconnected";
      return `${n.id} 127.0.0.1:${n.port}@${t.busPort(n)} ${flags} - 0 ${pong} ${n.index + 1} ${link}${slots ? " " + slots : ""}\n`;
    })
    .join("");
}

function slotArg(text: string | undefined): number | Reply {
  if (text === undefined || !/^-?\d+$/.test(text)) return err("ERR value is not an integer or out of range");
  const slot = Number(text);
  if (slot < 0 || slot >= 16384) return err("ERR Invalid slot");
  return slot;
}

/** CLUSTER <subcommand> on node `me`. */
export function clusterCommand(t: ClusterTopology, me: ClusterNode, argv: readonly Buffer[]): Reply {
  const sub = upper(argv[1]);
  const s = (i: number): string | undefined => argv[i]?.toString("utf8");
  const arity = (n: number): Reply | undefined =>
    argv.length === n ? undefined : err(`ERR wrong number of arguments for 'cluster|${sub.toLowerCase()}' command`);
  switch (sub) {
    case "INFO":
      return verbatim(clusterInfoText(t, me));
    case "MYID":
      return bulk(me.id);
    case "MYSHARDID":
      return bulk(me.shardId);
    case "NODES":
      return verbatim(clusterNodesText(t, me));
    case "SLOTS":
      return arr(t.ranges().map((r) => arr([int(r.first), int(r.last), arr([bulk("127.0.0.1"), int(r.node.port), bulk(r.node.id), map([])])])));
    case "SHARDS":
      return arr(
        t.nodes.map((n) =>
          map([
            [bulk("slots"), arr(t.rangesOf(n).flatMap((r) => [int(r.first), int(r.last)]))],
            [
              bulk("nodes"),
              arr([
                map([
                  [bulk("id"), bulk(n.id)],
                  [bulk("port"), int(n.port)],
                  [bulk("ip"), bulk("127.0.0.1")],
                  [bulk("endpoint"), bulk("127.0.0.1")],
                  [bulk("role"), bulk("master")],
                  [bulk("replication-offset"), int(0)],
                  [bulk("health"), bulk(n.running ? "online" : "failed")],
                ]),
              ]),
            ],
          ]),
        ),
      );
    case "KEYSLOT":
      return arity(3) ?? int(keySlot(argv[2] as Buffer));
    case "COUNTKEYSINSLOT": {
      const bad = arity(3);
      if (bad) return bad;
      const slot = slotArg(s(2));
      if (typeof slot !== "number") return slot;
      return int(me.state.keyspace.keys().filter((k) => keySlot(k) === slot).length);
    }
    case "GETKEYSINSLOT": {
      const bad = arity(4);
      if (bad) return bad;
      const slot = slotArg(s(2));
      if (typeof slot !== "number") return slot;
      const count = Number(s(3));
      if (!/^\d+$/.test(s(3) ?? "")) return err("ERR Invalid slot or number of keys");
      return arr(me.state.keyspace.keys().filter((k) => keySlot(k) === slot).slice(0, count).map((k) => bulk(k)));
    }
    default:
      return err(`ERR unknown subcommand '${s(1) ?? ""}'. Try CLUSTER HELP.`);
  }
}

/** INFO [section] on node `me` (Server, Cluster and Keyspace sections). */
export function infoCommand(me: ClusterNode, argv: readonly Buffer[]): Reply {
  return infoReply("cluster", me.port, me.state.keyspace.size, argv);
}

/** The coordinator's SEARCH.CLUSTERINFO: the partitions it fans out to. */
export function searchClusterInfo(t: ClusterTopology, me: ClusterNode, proto: 2 | 3): Reply {
  const ranges = t.ranges();
  const role = (n: ClusterNode): Reply => simple(n === me ? "master self" : "master ");
  const head: Array<[string, Reply]> = [
    ["num_partitions", int(t.nodes.length)],
    ["cluster_type", simple("redis_oss")],
    ["hash_func", simple("CRC16")],
    ["num_slots", int(16384)],
  ];
  if (proto === 3) {
    const slots = ranges.map((r) =>
      smap([
        ["start", int(r.first)],
        ["end", int(r.last)],
        ["nodes", arr([smap([["id", simple(r.node.id)], ["host", simple("127.0.0.1")], ["port", int(r.node.port)], ["role", role(r.node)]])])],
      ]),
    );
    return smap([...head, ["slots", arr(slots)]]);
  }
  return arr([
    ...head.flatMap(([k, v]) => [simple(k), v]),
    simple("slots"),
    ...ranges.map((r) => arr([int(r.first), int(r.last), arr([simple(r.node.id), simple("127.0.0.1"), int(r.node.port), role(r.node)])])),
  ]);
}
