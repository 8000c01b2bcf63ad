/**
 * FT.SEARCH: the query vecrec sends for a Search (KNN or filter-only) and the reading of its reply.
 *
 * What differs on a cluster (recorded on a real 3-primary OSS cluster with the coordinator, see
 * test/conformance/recordings/README.md) and how this file copes:
 * - KNN rows come back in key order unless sorted: vecrec always sends `SORTBY __vecrec_distance`, and
 *   the LIMIT is cut on that order;
 * - under SORTBY the KNN total is min(k, offset + count) instead of min(k, matches): vecrec never
 *   reads the KNN total, it counts the rows (LIMIT 0 n returns min(n, matches) rows on both);
 * - ties come in merge order rather than internal-id order: KNN hits are re-sorted by (distance, id)
 *   and a tie at the k-th row is widened (see search.ts) on both shapes;
 * - RESP3 map keys come in another order: the reply is read by key.
 */
import { compareIds } from "../../../domain/id-order.js";
import { metadataFields, vectorField, type IndexSpec } from "../../../domain/schema.js";
import { encodeElements } from "../../../domain/element-type.js";
import type { SearchHit, SearchQuery, SearchResult } from "../../vector-store.js";
import type { RedisArg } from "../connection.js";
import { toRedisQuery, tagParamValue } from "../filter-query.js";
import { hashToItem } from "../item-codec.js";
import { throwIfTimedOut } from "../redis-errors.js";
import { DISTANCE_FIELD, ID_FIELD, type RedisKeys } from "../redis-keys.js";
import { replyArray, replyMap, replyNumber, replyText, type Reply } from "../reply-parsers.js";

export interface SearchArgs {
  readonly command: RedisArg[];
  /** Metadata fields asked for with RETURN. */
  readonly returned: ReadonlySet<string>;
}

/**
 * The FT.SEARCH command for `query`, or undefined when the filter can match nothing. KNN:
 * `(<filter>)=>[KNN $knn_k @vec $knn_vec [EF_RUNTIME $knn_ef] AS __vecrec_distance]` sorted by the
 * distance, `LIMIT 0 k`. Filter-only: `<filter>` sorted by `__vecrec_id`, `LIMIT offset k`. Every value
 * travels in PARAMS; DIALECT 2.
 */
export function buildSearchArgs(
  keys: RedisKeys,
  spec: IndexSpec,
  query: SearchQuery,
  knnK = query.k,
): SearchArgs | undefined {
  const compiled = toRedisQuery(query.filter, { excludeIds: query.excludeIds });
  if (compiled.matchesNothing) return undefined;
  const vector = vectorField(spec);
  const metadata = metadataFields(spec).map((f) => f.name);
  const returned = new Set(
    query.returnFields === undefined ? metadata : query.returnFields.filter((f) => metadata.includes(f)),
  );
  const params: RedisArg[] = [];
  for (const [name, value] of compiled.params) params.push(name, compiled.tagParams.has(name) ? tagParamValue(value) : value);

  const fields: string[] = [ID_FIELD, ...returned];
  let text: string;
  let sort: string[];
  let limit: string[];
  if (query.vector !== undefined && query.maxDistance !== undefined) {
    // Range search: VECTOR_RANGE with the distance yielded under the name KNN uses, sorted by it and
    // cut to `knnK` rows. The range clause comes first: a negation written before a large range drops
    // the yielded distance from some rows on a real server (see the conformance README).
    // No "knn" anywhere in a range query's text: the 2.10 cluster coordinator takes any query whose
    // text contains it for a KNN query and fails (`KNN K parameter is too large`), even for `$knn_vec`.
    params.push("range_r", String(query.maxDistance), "range_vec", encodeElements(vector.elementType, query.vector));
    const range = `@${vector.name}:[VECTOR_RANGE $range_r $range_vec]=>{$YIELD_DISTANCE_AS: ${DISTANCE_FIELD}}`;
    text = compiled.query === "*" ? range : `${range} (${compiled.query})`;
    fields.push(DISTANCE_FIELD);
    sort = ["SORTBY", DISTANCE_FIELD];
    limit = ["LIMIT", "0", String(knnK)];
  } else if (query.vector !== undefined) {
    let knnOptions = "";
    if (vector.algorithm === "HNSW" && query.efRuntime !== undefined && query.efRuntime > 0) {
      // EF_RUNTIME on a FLAT index is an error ("Invalid option").
      knnOptions = " EF_RUNTIME $knn_ef";
      params.push("knn_ef", String(query.efRuntime));
    }
    params.push("knn_k", String(knnK), "knn_vec", encodeElements(vector.elementType, query.vector));
    const filter = compiled.query === "*" ? "*" : `(${compiled.query})`;
    text = `${filter}=>[KNN $knn_k @${vector.name} $knn_vec${knnOptions} AS ${DISTANCE_FIELD}]`;
    fields.push(DISTANCE_FIELD);
    sort = ["SORTBY", DISTANCE_FIELD];
    limit = ["LIMIT", "0", String(knnK)];
  } else {
    text = compiled.query;
    sort = ["SORTBY", ID_FIELD, "ASC"];
    limit = ["LIMIT", String(Math.max(0, query.offset)), String(query.k)];
  }
  if (query.includeVectors) fields.push(vector.name);
  const command: RedisArg[] = ["FT.SEARCH", keys.ftIndex(spec.name), text];
  if (params.length > 0) command.push("PARAMS", String(params.length), ...params);
  command.push(...sort, "RETURN", String(fields.length), ...fields, ...limit, "DIALECT", "2");
  return { command, returned };
}

/**
 * Turns an FT.SEARCH reply into hits (and the number of rows Redis sent). KNN hits are re-sorted by
 * (distance, id): Redis breaks equal distances by internal document id. Rows without fields (a key
 * deleted while the query ran) are dropped.
 */
export function readSearchReply(
  keys: RedisKeys,
  spec: IndexSpec,
  query: SearchQuery,
  returned: ReadonlySet<string>,
  reply: Reply,
): { result: SearchResult; rows: number } {
  const parsed = parseSearchReply(reply);
  // A query cut at the server's TIMEOUT comes back with the rows found so far: for KNN not the nearest.
  throwIfTimedOut(parsed.warnings);
  const prefix = keys.itemPrefix(spec.name);
  const knn = query.vector !== undefined;
  const hits: SearchHit[] = [];
  for (const row of parsed.rows) {
    if (row.fields.size === 0) continue;
    const idValue = row.fields.get(ID_FIELD);
    const id = idValue !== undefined ? replyText(idValue) : row.key.startsWith(prefix) ? row.key.slice(prefix.length) : row.key;
    const distanceValue = row.fields.get(DISTANCE_FIELD);
    const distance = knn && distanceValue !== undefined ? replyNumber(distanceValue) : 0;
    const item = hashToItem(spec, id, row.fields, { includeVector: query.includeVectors, onlyFields: returned });
    hits.push({ id, distance, item });
  }
  if (knn) hits.sort(compareHits);
  // KNN: the rows are counted, not the reply's total (a cluster reports min(k, offset + count) there).
  return { result: { hits, totalMatches: knn ? hits.length : parsed.total }, rows: parsed.rows.length };
}

export function sameDistance(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function compareHits(a: SearchHit, b: SearchHit): number {
  const an = Number.isNaN(a.distance);
  const bn = Number.isNaN(b.distance);
  if (an !== bn) return an ? 1 : -1; // NaN (zero vectors under COSINE) last, like Redis
  if (!an && a.distance !== b.distance) return a.distance - b.distance;
  // The order Redis gives filter-only pages (SORTBY on the id: UTF-8 bytes), so both kinds agree.
  return compareIds(a.id, b.id);
}


export interface SearchRow {
  /** The Redis key of the document. */
  readonly key: string;
  /** Returned fields (field name -> raw value), empty with NOCONTENT. */
  readonly fields: ReadonlyMap<string, Reply>;
}

export interface SearchReply {
  readonly total: number;
  readonly rows: readonly SearchRow[];
  /**
   * The RESP3 `warning` list when it is not empty, e.g. `Timeout limit was reached` when the server's
   * query timeout cut the results short under ON_TIMEOUT RETURN (RESP2 replies carry no warnings).
   */
  readonly warnings?: readonly string[];
}

/**
 * Reads an FT.SEARCH reply: RESP3 `{attributes, format, results: [{id, extra_attributes, values}],
 * total_results, warning}` or RESP2 `[total, key, [field, value, ...], ...]`.
 */
export function parseSearchReply(reply: Reply): SearchReply {
  if (Array.isArray(reply)) return parseSearchReplyResp2(reply);
  const top = replyMap(reply);
  const total = replyNumber(top.get("total_results") ?? 0);
  const results = replyArray(top.get("results") ?? []);
  const warning = top.get("warning");
  const warnings = warning === undefined || warning === null ? [] : replyArray(warning).map(replyText);
  const rows = results.map((result): SearchRow => {
    const row = replyMap(result);
    const attributes = row.get("extra_attributes");
    return {
      key: replyText(row.get("id")),
      fields: attributes === undefined ? new Map() : replyMap(attributes),
    };
  });
  return warnings.length > 0 ? { total, rows, warnings } : { total, rows };
}

function parseSearchReplyResp2(reply: Reply[]): SearchReply {
  const total = replyNumber(reply[0] ?? 0);
  const rows: SearchRow[] = [];
  for (let i = 1; i < reply.length; i++) {
    const key = replyText(reply[i]);
    const next = reply[i + 1];
    if (Array.isArray(next)) {
      rows.push({ key, fields: replyMap(next) });
      i++;
    } else {
      rows.push({ key, fields: new Map() });
    }
  }
  return { total, rows };
}

