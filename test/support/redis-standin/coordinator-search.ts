/**
 * FT.SEARCH through the RediSearch 2.10 OSS coordinator: every shard runs the query on its own index
 * (LIMIT rewritten to `0 offset+count`, raised to k for KNN), and the coordinator merges the rows the
 * way its reducer does (coord/src/module.c, searchResultReducer), quirks included:
 *
 * - Without SORTBY rows are ordered by score, then by key: KNN rows all score 0, so they come in key
 *   order, and LIMIT cuts that order.
 * - KNN with SORTBY on the distance keeps min(k, offset+count) rows and reports that as the total.
 * - KNN without SORTBY on the distance first keeps the k best rows by distance, but reads the distance
 *   from the row's sort key when that key is numeric (SORTBY n keeps the k smallest n), and reports
 *   the number of rows kept as the total.
 * - A plain query reports the sum of the shards' totals.
 * - A shard's error is the reply.
 */
import type { StandInState } from "./commands.js";
import { ftSearch, matchQuery, parseDialectArg, parseParamsArg, type Row } from "./ft-search.js";
import { findArrow, parseKnnClause } from "./knn-clause.js";
import { type Reply, arr, bulk, dbl, err, int, map, simple, smap } from "./resp.js";
import { type FieldDef, RedisReplyError, type SearchIndex, parseRedisNumber } from "./search-index.js";

const upper = (s: string | undefined): string => (s ?? "").toUpperCase();

interface Request {
  offset: number;
  limit: number;
  limitAt: number | undefined;
  sortKey: string | undefined;
  asc: boolean;
  withScores: boolean;
  noContent: boolean;
  params: Map<string, Buffer>;
  dialect: number;
}

/** The coordinator's own reading of the arguments (the shards validate them). */
function parseRequest(s: readonly string[], raw: readonly Buffer[]): Request {
  const r: Request = { offset: 0, limit: 10, limitAt: undefined, sortKey: undefined, asc: true, withScores: false, noContent: false, params: new Map(), dialect: 1 };
  for (let i = 0; i < s.length; ) {
    const t = upper(s[i]);
    if (t === "NOCONTENT" || t === "WITHSCORES" || t === "VERBATIM" || t === "NOSTOPWORDS" || t === "INORDER" || t === "WITHSORTKEYS" || t === "EXPLAINSCORE" || t === "WITHPAYLOADS") {
      if (t === "NOCONTENT") r.noContent = true;
      if (t === "WITHSCORES") r.withScores = true;
      i += 1;
    } else if (t === "RETURN") {
      const n = Number(s[i + 1]);
      if (!(n > 0)) r.noContent = true;
      i += 2 + (Number.isFinite(n) ? n : 0);
    } else if (t === "SORTBY") {
      r.sortKey ??= s[i + 1];
      const dir = upper(s[i + 2]);
      if (dir === "DESC") r.asc = false;
      i += dir === "ASC" || dir === "DESC" ? 3 : 2;
    } else if (t === "LIMIT") {
      r.limitAt = i;
      r.offset = Number(s[i + 1]);
      r.limit = Number(s[i + 2]);
      i += 3;
    } else if (t === "PARAMS") {
      i = parseParamsArg(s, raw, i, r.params);
    } else if (t === "DIALECT") {
      r.dialect = parseDialectArg(s, i);
      i += 2;
    } else {
      i += t === "LANGUAGE" || t === "SCORER" || t === "TIMEOUT" || t === "SLOP" || t === "EXPANDER" || t === "PAYLOAD" ? 2 : 1;
    }
  }
  return r;
}

/** The KNN clause the coordinator treats specially: its k and the name of its distance field. */
function knnOf(query: string, r: Request): { k: number; field: string; vectorField: string } | undefined {
  if (r.dialect < 2 || !/knn/i.test(query)) return undefined;
  const arrow = findArrow(query);
  if (arrow < 0) return undefined;
  try {
    const clause = parseKnnClause(query, arrow);
    const kText = clause.k.isParam ? r.params.get(clause.k.value)?.toString("utf8") : clause.k.value;
    if (kText === undefined || !/^\d+$/.test(kText)) return undefined;
    return { k: Number(kText), field: clause.as ?? `__${clause.field}_score`, vectorField: clause.field };
  } catch {
    return undefined;
  }
}

interface SortKey {
  /** The key as a shard sends it: `#<number>` or `$<text>`. */
  readonly text: string;
  readonly num: number | undefined;
}

interface Hit {
  readonly key: string;
  readonly score: number;
  readonly fields: Reply | undefined;
  readonly sortKey: SortKey | undefined;
  readonly dist: number | undefined;
}

function sortKeyOf(row: Row | undefined, name: string, distName: string | undefined, idx: SearchIndex): SortKey | undefined {
  if (!row) return undefined;
  const numeric = (n: number): SortKey => ({ text: `#${n}`, num: n });
  if (name === distName) return row.dist === undefined ? undefined : numeric(row.dist);
  const y = row.yielded.get(name);
  if (y !== undefined) return numeric(y);
  const f: FieldDef | undefined = idx.field(name);
  const raw = row.hash.get(f ? f.path : name)?.toString("utf8");
  if (raw === undefined) return undefined;
  if (f?.type === "NUMERIC") {
    const n = parseRedisNumber(raw);
    return n === undefined ? undefined : numeric(n);
  }
  const folded = f && !f.unf && !(f.type === "TAG" && f.caseSensitive) ? raw.toLowerCase() : raw;
  return { text: `$${folded}`, num: undefined };
}

/** memcmp order of the UTF-8 bytes, the longer string last on a common prefix. */
const cmpStrings = (a: string, b: string): number => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

/** The coordinator's cmp_results: negative when `a` ranks before `b`. */
function cmpResults(a: Hit, b: Hit, r: Request): number {
  if (r.sortKey !== undefined) {
    let cmp = 0;
    if (a.sortKey || b.sortKey) {
      if (a.sortKey?.num !== undefined && b.sortKey?.num !== undefined) {
        const diff = b.sortKey.num - a.sortKey.num;
        cmp = diff < 0 ? -1 : diff > 0 ? 1 : 0;
      } else if (a.sortKey && b.sortKey) {
        cmp = cmpStrings(b.sortKey.text, a.sortKey.text);
      } else {
        // A row without a sort key ranks last, ascending or descending.
        return b.sortKey ? 1 : -1;
      }
    }
    if (cmp === 0) cmp = cmpStrings(b.key, a.key);
    return r.asc ? -cmp : cmp;
  }
  if (a.score < b.score) return 1;
  if (a.score > b.score) return -1;
  return cmpStrings(a.key, b.key);
}

/** FT.SEARCH `argv` sent to a node, answered by fanning out to `shards` (every node's state). */
export function coordinatorSearch(shards: readonly StandInState[], argv: readonly Buffer[], proto: 2 | 3): Reply {
  const name = argv[1]?.toString("utf8") ?? "";
  const queryBuf = argv[2] as Buffer;
  const query = queryBuf.toString("utf8");
  const rest = argv.slice(3);
  const s = rest.map((b) => b.toString("utf8"));
  let r: Request;
  try {
    r = parseRequest(s, rest);
  } catch (e) {
    if (e instanceof RedisReplyError) return err(e.message);
    throw e;
  }
  const knn = knnOf(query, r);
  // Seen on the real 2.10 coordinator: a VECTOR_RANGE query whose text holds "knn" anywhere (even in a
  // parameter name, `$knn_vec`) is taken for a KNN query and refused.
  if (knn === undefined && r.dialect >= 2 && /knn/i.test(query) && /VECTOR_RANGE/i.test(query)) {
    return err("KNN K parameter is too large, max supported K value is 288230376151711744");
  }
  const shouldSort = knn !== undefined && r.sortKey !== knn.field;
  let requested = r.offset + r.limit;
  if (knn) requested = shouldSort ? Math.max(knn.k, requested) : Math.min(knn.k, requested);

  // What each shard is sent: LIMIT 0 <requested> (when a non-zero LIMIT was given), and WITHSCORES
  // right after the query when there is no SORTBY (the score is then the sort key).
  const shardArgs = [...rest];
  if (r.limitAt !== undefined && r.limit > 0) {
    shardArgs[r.limitAt + 1] = Buffer.from("0");
    shardArgs[r.limitAt + 2] = Buffer.from(String(requested));
  }
  if (r.sortKey === undefined) shardArgs.unshift(Buffer.from("WITHSCORES"));
  const hasScore = r.sortKey === undefined || r.withScores;
  const includeFields = !r.noContent;
  const hits: Hit[] = [];
  let sumOfTotals = 0;
  for (const shard of shards) {
    const idx = shard.resolveIndex(name);
    if (!idx) return err(`No such index ${name}`);
    let reply: Reply;
    let rows: Map<string, Row>;
    let distName: string | undefined;
    try {
      reply = ftSearch(shard.keyspace, idx, queryBuf, shardArgs, 2);
      const m = matchQuery(shard.keyspace, idx, queryBuf, r.params, r.dialect);
      rows = new Map(m.rows.map((row) => [row.key, row]));
      distName = m.distName;
    } catch (e) {
      if (!(e instanceof RedisReplyError)) throw e;
      // RediSearch 2.10 matches nothing on a filter field that is not in the schema (8.0 fails).
      const unknown = /^Unknown field at offset \d+ near (.*)$/.exec(e.message);
      if (unknown === null || unknown[1] === knn?.vectorField) return err(e.message);
      continue;
    }
    if (reply.t !== "array") return reply;
    const flat = reply.v;
    sumOfTotals += flat[0]?.t === "int" ? flat[0].v : 0;
    const step = 1 + (hasScore ? 1 : 0) + (includeFields ? 1 : 0);
    for (let i = 1; i + step - 1 < flat.length; i += step) {
      const keyReply = flat[i];
      const scoreReply = hasScore ? flat[i + 1] : undefined;
      if (keyReply?.t !== "bulk") continue;
      const key = keyReply.v.toString("utf8");
      const row = rows.get(key);
      const sortKey = r.sortKey === undefined ? undefined : sortKeyOf(row, r.sortKey.replace(/^@/, ""), distName, idx);
      const score = scoreReply?.t === "bulk" ? Number(scoreReply.v.toString("utf8")) : 0;
      hits.push({ key, score, fields: includeFields ? flat[i + step - 1] : undefined, sortKey, dist: row?.dist });
    }
  }

  let pool = hits;
  if (knn && shouldSort) {
    // The KNN heap: the k best by distance (or by a numeric sort key, which the reducer reads instead).
    const knnScore = (h: Hit): number => (h.sortKey?.num !== undefined ? h.sortKey.num : (h.dist ?? Number.NaN));
    pool = [...hits]
      .sort((a, b) => {
        const x = knnScore(a);
        const y = knnScore(b);
        return x < y ? -1 : x > y ? 1 : cmpStrings(a.key, b.key);
      })
      .slice(0, knn.k);
  }
  const kept = [...pool].sort((a, b) => cmpResults(a, b, r)).slice(0, requested);
  const total = knn ? kept.length : sumOfTotals;
  const page = kept.slice(r.offset, r.offset + r.limit);

  if (proto === 2) {
    const out: Reply[] = [int(total)];
    for (const h of page) {
      out.push(bulk(h.key));
      if (r.withScores) out.push(dbl(h.score));
      if (includeFields) out.push(h.fields ?? arr([]));
    }
    return arr(out);
  }
  const results = page.map((h) => {
    const pairs: Array<[string, Reply]> = [["id", bulk(h.key)]];
    if (r.withScores) pairs.push(["score", dbl(h.score)]);
    if (includeFields) {
      const flat = h.fields?.t === "array" ? h.fields.v : [];
      const fieldPairs: Array<readonly [Reply, Reply]> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) fieldPairs.push([flat[i] as Reply, flat[i + 1] as Reply]);
      pairs.push(["extra_attributes", map(fieldPairs)]);
    }
    pairs.push(["values", arr([])]);
    return smap(pairs);
  });
  return smap([
    ["attributes", arr([])],
    ["warning", arr([])],
    ["total_results", int(total)],
    ["format", simple("STRING")],
    ["results", arr(results)],
  ]);
}
