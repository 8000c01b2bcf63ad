/**
 * FT.AGGREGATE through the RediSearch 2.10 OSS coordinator, and its cursors. The pipeline runs over the
 * union of the shards' indexed documents (the shards' part of a distributed plan followed by the
 * coordinator's reducers gives the standalone answer on all the data), with the coordinator's own
 * marks: a LOADed field comes before the KNN distance in each row, `total_results` without GROUPBY is
 * the sum of the shards' totals (each shard's KNN counting min(k, its documents)), and a WITHCURSOR
 * result lives only on the node that created it (FT.CURSOR elsewhere: `Cursor not found`).
 */
import { randomInt } from "node:crypto";
import type { StandInState } from "./commands.js";
import type { AggregateCursor, ClusterNode } from "./cluster-topology.js";
import { ftAggregate } from "./ft-aggregate.js";
import { matchQuery, parseDialectArg, parseParamsArg } from "./ft-search.js";
import { Keyspace } from "./keyspace.js";
import { findArrow, parseKnnClause } from "./knn-clause.js";
import { OK, type Reply, arr, err, int, map, simple, smap } from "./resp.js";
import { RedisReplyError, SearchIndex } from "./search-index.js";

const upper = (b: Buffer | string | undefined): string => (b === undefined ? "" : b.toString()).toUpperCase();
type Pairs = ReadonlyArray<readonly [Reply, Reply]>;

/** One index over every shard's indexed documents, in node order. */
function unionOf(shards: readonly StandInState[], name: string): { ks: Keyspace; idx: SearchIndex; parts: Array<{ ks: Keyspace; idx: SearchIndex }> } | undefined {
  const parts: Array<{ ks: Keyspace; idx: SearchIndex }> = [];
  for (const shard of shards) {
    const idx = shard.resolveIndex(name);
    if (!idx) return undefined;
    parts.push({ ks: shard.keyspace, idx });
  }
  const first = parts[0]?.idx as SearchIndex;
  const ks = new Keyspace();
  const idx = new SearchIndex(first.name, first.prefixes, first.fields);
  for (const part of parts) {
    for (const key of part.idx.docs.keys()) {
      const entry = part.ks.get(key);
      if (entry?.type !== "hash") continue;
      const h = ks.hashForWrite(key);
      for (const [f, v] of entry.v) h.set(f, v);
      idx.maxDocId += 1;
      idx.docs.set(key, { docId: idx.maxDocId });
    }
  }
  return { ks, idx, parts };
}

const textOf = (r: Reply | undefined): string => (r?.t === "bulk" ? r.v.toString("utf8") : r?.t === "simple" ? r.v : "");

function field(reply: Reply, key: string): Reply | undefined {
  return reply.t === "map" ? reply.v.find(([k]) => textOf(k) === key)?.[1] : undefined;
}

/** The reply of one page of rows, in the client's protocol. */
function pageReply(rows: readonly Pairs[], total: number, proto: 2 | 3): Reply {
  if (proto === 2) return arr([int(total), ...rows.map((pairs) => arr(pairs.flatMap(([k, v]) => [k, v])))]);
  return smap([
    ["attributes", arr([])],
    ["format", simple("STRING")],
    ["results", arr(rows.map((pairs) => smap([["extra_attributes", map(pairs)], ["values", arr([])]])))],
    ["total_results", int(total)],
    ["warning", arr([])],
  ]);
}

/** FT.AGGREGATE `argv` received by node `me`. */
export function coordinatorAggregate(shards: readonly StandInState[], me: ClusterNode, argv: readonly Buffer[], proto: 2 | 3): Reply {
  const name = argv[1]?.toString("utf8") ?? "";
  const queryBuf = argv[2] as Buffer;
  const query = queryBuf.toString("utf8");
  const union = unionOf(shards, name);
  if (!union) return err(`No such index ${name}`);

  // WITHCURSOR [COUNT n] [MAXIDLE ms] is the coordinator's business; the rest is the pipeline.
  const args: Buffer[] = [];
  let withCursor = false;
  let count = 1000;
  const rest = argv.slice(3);
  for (let i = 0; i < rest.length; i++) {
    if (upper(rest[i]) !== "WITHCURSOR") {
      args.push(rest[i] as Buffer);
      continue;
    }
    withCursor = true;
    while (upper(rest[i + 1]) === "COUNT" || upper(rest[i + 1]) === "MAXIDLE") {
      if (upper(rest[i + 1]) === "COUNT") count = Number(rest[i + 2]?.toString("utf8"));
      i += 2;
    }
  }
  const s = args.map((b) => b.toString("utf8"));
  let reply: Reply;
  let shardTotal = 0;
  const params = new Map<string, Buffer>();
  let dialect = 1;
  try {
    reply = ftAggregate(union.ks, union.idx, queryBuf, args, 3);
    for (let i = 0; i < s.length; i++) {
      if (upper(s[i]) === "PARAMS") parseParamsArg(s, args, i, params);
      if (upper(s[i]) === "DIALECT") dialect = parseDialectArg(s, i);
    }
    for (const part of union.parts) shardTotal += matchQuery(part.ks, part.idx, queryBuf, params, dialect).rows.length;
  } catch (e) {
    if (e instanceof RedisReplyError) return err(e.message);
    throw e;
  }
  const results = field(reply, "results");
  let rows: Pairs[] = (results?.t === "array" ? results.v : []).map((r) => {
    const attrs = field(r, "extra_attributes");
    return attrs?.t === "map" ? attrs.v : [];
  });
  // A SORTBY without MAX, with no LIMIT, keeps the first 10 rows (RediSearch's DEFAULT_LIMIT).
  const sortAt = s.findLastIndex((t) => upper(t) === "SORTBY");
  if (sortAt >= 0 && !s.some((t) => upper(t) === "LIMIT")) {
    const afterKeys = sortAt + 2 + Number(s[sortAt + 1]);
    if (upper(s[afterKeys]) !== "MAX") rows = rows.slice(0, 10);
  }
  const grouped = s.some((t) => upper(t) === "GROUPBY");
  const totalReply = field(reply, "total_results");
  const total = grouped ? (totalReply?.t === "int" ? totalReply.v : rows.length) : shardTotal;

  // The coordinator's rows list the LOADed fields before the KNN distance.
  const arrow = findArrow(query);
  const loadAt = s.findIndex((t) => upper(t) === "LOAD");
  if (arrow >= 0 && loadAt >= 0 && dialect >= 2) {
    const clause = parseKnnClause(query, arrow);
    const distName = clause.as ?? `__${clause.field}_score`;
    const loaded = new Set(s.slice(loadAt + 2, loadAt + 2 + Number(s[loadAt + 1])).map((f) => f.replace(/^@/, "")));
    rows = rows.map((pairs) => {
      const d = pairs.findIndex(([k]) => textOf(k) === distName);
      if (d < 0) return pairs;
      const others = pairs.filter((_, i) => i !== d);
      let lastLoaded = -1;
      others.forEach(([k], i) => {
        if (loaded.has(textOf(k))) lastLoaded = i;
      });
      if (lastLoaded < 0) return pairs;
      return [...others.slice(0, lastLoaded + 1), pairs[d] as readonly [Reply, Reply], ...others.slice(lastLoaded + 1)];
    });
  }

  if (!withCursor) return pageReply(rows, total, proto);
  const page = rows.slice(0, count);
  const left = rows.slice(count);
  let id = 0;
  if (left.length > 0) {
    id = randomInt(1, 2 ** 31);
    const cursor: AggregateCursor = { index: name, rows: left, count };
    me.cursors.set(id, cursor);
  }
  return arr([pageReply(page, total, proto), int(id)]);
}

/** FT.CURSOR READ / DEL on node `me` (its own cursors only). */
export function cursorCommand(me: ClusterNode, argv: readonly Buffer[], proto: 2 | 3): Reply {
  if (argv.length < 4) return err("ERR wrong number of arguments for 'FT.CURSOR' command");
  const sub = upper(argv[1]);
  const id = Number(argv[3]?.toString("utf8"));
  const cursor = me.cursors.get(id);
  if (sub === "DEL") {
    if (!cursor) return err("Cursor does not exist");
    me.cursors.delete(id);
    return OK;
  }
  if (sub === "GC") return int(0);
  if (sub !== "READ") return err(`Unknown subcommand ${argv[1]?.toString("utf8") ?? ""}`);
  if (!cursor) return err("Cursor not found");
  let count = cursor.count;
  if (upper(argv[4]) === "COUNT") count = Number(argv[5]?.toString("utf8"));
  const page = cursor.rows.splice(0, count);
  if (cursor.rows.length === 0) me.cursors.delete(id);
  return arr([pageReply(page, 0, proto), int(cursor.rows.length === 0 ? 0 : id)]);
}
