/**
 * The RediSearch 2.10 OSS coordinator of a stand-in cluster node: index administration forwarded to
 * every primary (FT.CREATE / FT.ALTER / FT.DROPINDEX / FT.ALIAS*: the first error is the reply, with
 * 2.10's texts), FT.INFO summed over the shards in the coordinator's layout, `_FT.INFO` (the node's
 * own view), and the fan-out of FT.SEARCH / FT.AGGREGATE / FT.CURSOR (coordinator-search.ts,
 * coordinator-aggregate.ts). None of them can run inside MULTI (`Cannot perform ...: Cannot block`).
 */
import { type Connection, executeLocal } from "./commands.js";
import { coordinatorAggregate, cursorCommand } from "./coordinator-aggregate.js";
import { coordinatorSearch } from "./coordinator-search.js";
import type { ClusterNode, ClusterTopology } from "./cluster-topology.js";
import { OK, type Reply, bulk, dbl, err, int, simple, smap } from "./resp.js";
import { type SearchIndex, infoReply } from "./search-index.js";

/** The FT.* commands the coordinator fans out (FT._LIST stays local). */
export const COORDINATED = new Set([
  "FT.CREATE", "FT.ALTER", "FT.DROPINDEX", "FT.ALIASADD", "FT.ALIASUPDATE", "FT.ALIASDEL",
  "FT.SEARCH", "FT.AGGREGATE", "FT.INFO", "FT.CURSOR",
]);

const MIN_ARGS: Record<string, number> = {
  "FT.CREATE": 3, "FT.ALTER": 5, "FT.DROPINDEX": 2, "FT.ALIASADD": 3, "FT.ALIASUPDATE": 3, "FT.ALIASDEL": 2,
  "FT.SEARCH": 3, "FT.AGGREGATE": 3,
};

const textOf = (r: Reply | undefined): string => (r?.t === "bulk" ? r.v.toString("utf8") : r?.t === "simple" ? r.v : "");
const numOf = (r: Reply | undefined): number =>
  r?.t === "int" || r?.t === "double" ? r.v : r?.t === "bulk" ? Number(r.v.toString("utf8")) : 0;

function get(reply: Reply, key: string): Reply | undefined {
  return reply.t === "map" ? reply.v.find(([k]) => textOf(k) === key)?.[1] : undefined;
}

/** A map without `key` (7.4.1's index_definition has no `indexes_all`). */
function without(reply: Reply | undefined, key: string): Reply {
  if (reply?.t !== "map") return reply ?? smap([]);
  return { t: "map", v: reply.v.filter(([k]) => textOf(k) !== key) };
}

/** `_FT.INFO`: one shard's standalone-layout FT.INFO (Redis 7.4.1 + RediSearch 2.10). */
export function shardInfo(idx: SearchIndex, proto: 2 | 3): Reply {
  const info = infoReply(idx, proto);
  if (info.t !== "map") return info;
  return { t: "map", v: info.v.map(([k, v]) => [k, textOf(k) === "index_definition" ? without(v, "indexes_all") : v] as const) };
}

/** The coordinator's FT.INFO: counters summed over the shards, its own key order. */
function coordinatorInfo(indexes: readonly SearchIndex[], proto: 2 | 3): Reply {
  const infos = indexes.map((idx) => shardInfo(idx, proto));
  const first = infos[0] as Reply;
  const sum = (key: string, sub?: string): number =>
    infos.reduce((acc, i) => acc + numOf(sub === undefined ? get(i, key) : get(get(i, key) ?? smap([]), sub)), 0);
  const sumInt = (key: string): [string, Reply] => [key, int(sum(key))];
  const sumDbl = (key: string): [string, Reply] => [key, dbl(sum(key))];
  const errors = infos.map((i) => get(i, "Index Errors") ?? smap([]));
  const withError = errors.find((e) => textOf(get(e, "last indexing error")) !== "N/A") ?? errors[0] ?? smap([]);
  const scanning = infos.filter((i) => numOf(get(i, "indexing")) > 0).length;
  return smap([
    ["index_name", get(first, "index_name") ?? simple("")],
    ["index_options", get(first, "index_options") ?? smap([])],
    ["index_definition", get(first, "index_definition") ?? smap([])],
    ["attributes", get(first, "attributes") ?? smap([])],
    [
      "gc_stats",
      smap([
        ["bytes_collected", int(0)],
        ["total_ms_run", int(0)],
        ["total_cycles", int(0)],
        ["average_cycle_time_ms", dbl(0)],
        ["last_run_time_ms", int(0)],
        ["gc_numeric_trees_missed", int(0)],
        ["gc_blocks_denied", int(0)],
      ]),
    ],
    [
      "cursor_stats",
      smap(["global_idle", "global_total", "index_capacity", "index_total"].map((k) => [k, int(sum("cursor_stats", k))] as const)),
    ],
    ["dialect_stats", smap(["dialect_1", "dialect_2", "dialect_3", "dialect_4"].map((k) => [k, int(sum("dialect_stats", k))] as const))],
    sumInt("num_docs"),
    ["max_doc_id", int(Math.max(...infos.map((i) => numOf(get(i, "max_doc_id")))))],
    sumInt("num_terms"),
    sumInt("num_records"),
    sumDbl("inverted_sz_mb"),
    sumInt("total_inverted_index_blocks"),
    ...["vector_index_sz_mb", "offset_vectors_sz_mb", "doc_table_size_mb", "sortable_values_size_mb", "key_table_size_mb"].map(sumDbl),
    ...["tag_overhead_sz_mb", "text_overhead_sz_mb", "total_index_memory_sz_mb", "geoshapes_sz_mb"].map(sumDbl),
    ...["records_per_doc_avg", "bytes_per_record_avg", "offsets_per_term_avg", "offset_bits_per_record_avg"].map(sumDbl),
    ["indexing", int(scanning)],
    ["percent_indexed", dbl(sum("percent_indexed") / infos.length)],
    sumInt("hash_indexing_failures"),
    sumInt("number_of_uses"),
    ["cleaning", int(0)],
    [
      "Index Errors",
      smap([
        ["indexing failures", int(errors.reduce((acc, e) => acc + numOf(get(e, "indexing failures")), 0))],
        ["last indexing error", get(withError, "last indexing error") ?? simple("N/A")],
        ["last indexing error key", get(withError, "last indexing error key") ?? bulk("N/A")],
        ["background indexing status", simple("OK")],
      ]),
    ],
    ["field statistics", get(first, "field statistics") ?? smap([])],
  ]);
}

/** 2.10's texts where the stand-in's shard (8.0.2 texts) words an error otherwise. */
function shardError(cmd: string, text: string): string {
  if (/: no such index$/.test(text)) {
    if (cmd === "FT.DROPINDEX") return "Unknown Index name";
    if (cmd === "FT.ALIASADD" || cmd === "FT.ALIASUPDATE") return "Unknown index name (or name is an alias itself)";
    return "Unknown index name";
  }
  return text;
}

/**
 * Runs coordinated command `cmd` (upper case, in COORDINATED) received by node `me` on `conn`.
 * `inExec`: it runs inside EXEC, where the coordinator cannot block.
 */
export function coordinate(t: ClusterTopology, me: ClusterNode, conn: Connection, cmd: string, argv: Buffer[], inExec: boolean): Reply {
  const min = MIN_ARGS[cmd];
  if ((min !== undefined && argv.length < min) || (cmd === "FT.INFO" && argv.length !== 2)) {
    return err(`ERR wrong number of arguments for '${cmd === "FT.CREATE" ? "_FT.CREATE" : cmd}' command`);
  }
  if (!t.healthy) return err("CLUSTERDOWN The cluster is down");
  if (inExec) return err(`Cannot perform \`${argv[0]?.toString("utf8") ?? cmd}\`: Cannot block`);
  const shards = t.nodes.map((n) => n.state);
  const proto = conn.proto;
  switch (cmd) {
    case "FT.SEARCH":
      return coordinatorSearch(shards, argv, proto);
    case "FT.AGGREGATE":
      return coordinatorAggregate(shards, me, argv, proto);
    case "FT.CURSOR":
      return cursorCommand(me, argv, proto);
    case "FT.INFO": {
      const name = argv[1]?.toString("utf8") ?? "";
      const indexes: SearchIndex[] = [];
      for (const shard of shards) {
        const idx = shard.resolveIndex(name);
        if (!idx) return err("Unknown index name");
        indexes.push(idx);
      }
      return coordinatorInfo(indexes, proto);
    }
    default: {
      // Index administration: every primary runs it; the first error is the reply.
      let first: Reply | undefined;
      for (const node of t.nodes) {
        const internal: Connection = { proto, id: 0, name: "coordinator", multi: undefined, watch: undefined, closing: false };
        const reply = executeLocal(node.state, internal, argv);
        if (reply.t === "error" && first === undefined) first = err(shardError(cmd, reply.v));
      }
      return first ?? OK;
    }
  }
}
