/**
 * FT.SEARCH for the stand-in: argument parsing with Redis 8.0.2's error texts, a pre-filter evaluated by
 * vecrec's own filter parser and matcher (see filter-engine.ts), exact KNN with Redis's float32
 * distances, SORTBY / LIMIT / RETURN / NOCONTENT / WITHSCORES, and both reply shapes.
 */
import { formatRedisDouble } from "../../../src/domain/vector.js";
import { type CompiledFilter, compileMatcher } from "./filter-engine.js";
import { decodeBlob, vectorDistance } from "./vector-distance.js";
import { byteOffset, findArrow, parseKnnClause, syntaxError } from "./knn-clause.js";
import type { Keyspace } from "./keyspace.js";
import { type Reply, arr, bulk, dbl, int, simple, smap } from "./resp.js";
import { type FieldDef, RedisReplyError, type SearchIndex, parseRedisNumber } from "./search-index.js";

interface SearchOptions {
  noContent: boolean;
  withScores: boolean;
  returnFields: string[] | undefined;
  sortBy: { field: string; asc: boolean } | undefined;
  offset: number;
  num: number;
  params: Map<string, Buffer>;
  dialect: number;
}

const upper = (s: string | undefined): string => (s ?? "").toUpperCase();

/**
 * `PARAMS n name value ...` at position `i` (FT.SEARCH and FT.AGGREGATE): adds the pairs to `params`
 * and returns the position after them. Throws RedisReplyError with Redis's texts.
 */
export function parseParamsArg(s: readonly string[], raw: readonly Buffer[], i: number, params: Map<string, Buffer>): number {
  const countText = s[i + 1];
  const n = Number(countText);
  if (countText === undefined || !/^\d+$/.test(countText) || n === 0 || n % 2 !== 0) {
    throw new RedisReplyError("Parameters must be specified in PARAM VALUE pairs");
  }
  for (let p = 0; p < n; p += 2) {
    const name = s[i + 2 + p];
    const value = raw[i + 3 + p];
    if (name === undefined || value === undefined) {
      throw new RedisReplyError("Bad arguments for PARAMS: Expected an argument, but none provided");
    }
    if (params.has(name)) throw new RedisReplyError(`Duplicate parameter \`${name}\``);
    params.set(name, value);
  }
  return i + 2 + n;
}

/** `DIALECT d` at position `i`: the dialect (1..4). Throws RedisReplyError with Redis's texts. */
export function parseDialectArg(s: readonly string[], i: number): number {
  const d = s[i + 1];
  if (d === undefined) throw new RedisReplyError("Need an argument for DIALECT");
  if (!/^\d+$/.test(d) || Number(d) < 1 || Number(d) > 4) {
    throw new RedisReplyError("DIALECT requires a non negative integer >=1 and <= 4");
  }
  return Number(d);
}

function parseOptions(args: readonly Buffer[]): SearchOptions {
  // args: everything after the query; Redis counts positions from the query (position 0).
  const s = args.map((a) => a.toString("utf8"));
  const o: SearchOptions = {
    noContent: false,
    withScores: false,
    returnFields: undefined,
    sortBy: undefined,
    offset: 0,
    num: 10,
    params: new Map(),
    dialect: 1,
  };
  let i = 0;
  while (i < s.length) {
    const t = upper(s[i]);
    switch (t) {
      case "NOCONTENT":
        o.noContent = true;
        i += 1;
        break;
      case "WITHSCORES":
        o.withScores = true;
        i += 1;
        break;
      case "VERBATIM":
      case "NOSTOPWORDS":
      case "INORDER":
      case "EXPLAINSCORE":
      case "WITHPAYLOADS":
      case "WITHSORTKEYS":
        i += 1;
        break;
      case "LANGUAGE":
      case "SCORER":
      case "TIMEOUT":
      case "SLOP":
      case "EXPANDER":
      case "PAYLOAD":
        i += 2;
        break;
      case "RETURN": {
        const countText = s[i + 1];
        if (countText === undefined) throw new RedisReplyError("Bad arguments for RETURN: Expected an argument, but none provided");
        if (!/^\d+$/.test(countText)) throw new RedisReplyError("Bad arguments for RETURN: Could not convert argument to expected type");
        const n = Number(countText);
        if (i + 2 + n > s.length) throw new RedisReplyError("Bad arguments for RETURN: Expected an argument, but none provided");
        o.returnFields = s.slice(i + 2, i + 2 + n);
        i += 2 + n;
        break;
      }
      case "SORTBY": {
        const field = s[i + 1];
        if (field === undefined) throw new RedisReplyError("Bad arguments for SORTBY: Expected an argument, but none provided");
        let asc = true;
        i += 2;
        const dir = upper(s[i]);
        if (dir === "ASC" || dir === "DESC") {
          asc = dir === "ASC";
          i += 1;
        }
        o.sortBy = { field: field.replace(/^@/, ""), asc };
        break;
      }
      case "LIMIT": {
        const a = s[i + 1];
        const b = s[i + 2];
        if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) {
          throw new RedisReplyError("LIMIT needs two numeric arguments");
        }
        o.offset = Number(a);
        o.num = Number(b);
        if (o.num > 1_000_000) throw new RedisReplyError("LIMIT exceeds maximum of 1000000");
        i += 3;
        break;
      }
      case "PARAMS":
        i = parseParamsArg(s, args, i, o.params);
        break;
      case "DIALECT":
        o.dialect = parseDialectArg(s, i);
        i += 2;
        break;
      default:
        throw new RedisReplyError(`Unknown argument \`${s[i] ?? ""}\` at position ${i + 1} for <main>`);
    }
  }
  return o;
}

function paramValue(params: ReadonlyMap<string, Buffer>, name: string): Buffer {
  const v = params.get(name);
  if (v === undefined) throw new RedisReplyError(`No such parameter \`${name}\``);
  return v;
}

export interface Row {
  readonly key: string;
  readonly docId: number;
  readonly hash: Map<string, Buffer>;
  dist?: number;
  /** Distances yielded by a VECTOR_RANGE clause (`$YIELD_DISTANCE_AS`), by name. */
  readonly yielded: Map<string, number>;
}

function sortValue(row: Row, f: FieldDef | undefined, distName: string | undefined, name: string): number | string | undefined {
  if (distName !== undefined && f === undefined) return row.dist;
  if (row.yielded.has(name)) return row.yielded.get(name);
  if (!f) return undefined;
  const raw = row.hash.get(f.path);
  if (raw === undefined) return undefined;
  const text = raw.toString("utf8");
  if (f.type === "NUMERIC") return parseRedisNumber(text);
  return (f.type === "TAG" || f.type === "TEXT") && !f.unf ? text.toLowerCase() : text;
}

export function compareValues(a: number | string | undefined, b: number | string | undefined): number {
  // Missing values sort last; NaN distances sort after every number.
  if (a === undefined || b === undefined) return a === undefined ? (b === undefined ? 0 : 1) : -1;
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
    return a - b;
  }
  // Redis compares sort keys as bytes (strcmp), i.e. UTF-8 order.
  return Buffer.compare(Buffer.from(String(a), "utf8"), Buffer.from(String(b), "utf8"));
}

export interface QueryMatch {
  /** Matching documents (KNN: the k nearest, closest first; otherwise in document-id order). */
  readonly rows: Row[];
  /** Name of the KNN distance field, when the query has a KNN clause. */
  readonly distName: string | undefined;
  readonly filter: CompiledFilter;
  readonly knn: boolean;
}

/**
 * Evaluates a query string (pre-filter and optional `=>[KNN ...]`) over `idx`, shared by FT.SEARCH and
 * FT.AGGREGATE. Throws RedisReplyError with Redis's texts.
 */
export function matchQuery(
  keyspace: Keyspace,
  idx: SearchIndex,
  queryBuf: Buffer,
  params: ReadonlyMap<string, Buffer>,
  dialect: number,
): QueryMatch {
  const query = queryBuf.toString("utf8");
  const arrow = findArrow(query);
  let filterText = query;
  let knn: ReturnType<typeof parseKnnClause> | undefined;
  if (arrow >= 0) {
    if (dialect === 1 || query.slice(0, arrow).trim() === "") throw syntaxError(byteOffset(query, arrow), ">[");
    knn = parseKnnClause(query, arrow);
    filterText = query.slice(0, arrow);
  }

  let vecField: FieldDef | undefined;
  let k = 0;
  let queryVector: Float32Array | Float64Array | undefined;
  const distName = knn ? (knn.as ?? `__${knn.field}_score`) : undefined;
  if (knn) {
    vecField = idx.field(knn.field);
    if (!vecField) throw new RedisReplyError(`Unknown field at offset ${knn.fieldOffset} near ${knn.field}`);
    if (vecField.type !== "VECTOR" || !vecField.vector) {
      throw new RedisReplyError(`Expected a VECTOR field at offset ${knn.fieldOffset} near ${knn.field}`);
    }
    if (knn.k.isParam) {
      const v = paramValue(params, knn.k.value).toString("utf8");
      if (!/^\d+$/.test(v)) throw new RedisReplyError(`Invalid numeric value (${v}) for parameter \`${knn.k.value}\``);
      k = Number(v);
    } else {
      k = Number(knn.k.value);
    }
    if (knn.efRuntime) {
      if (vecField.vector.algorithm !== "HNSW") throw new RedisReplyError("Error parsing vector similarity parameters: Invalid option");
      if (knn.efRuntime.isParam) paramValue(params, knn.efRuntime.value);
    }
    const filterIsAll = /^\s*\(?\s*\*\s*\)?\s*$/.test(filterText);
    if (knn.hybridPolicy !== undefined || knn.batchSize !== undefined) {
      if (filterIsAll) {
        throw new RedisReplyError("Error parsing vector similarity parameters: hybrid query attributes were sent for a non-hybrid query");
      }
      const p = upper(knn.hybridPolicy);
      if (knn.hybridPolicy !== undefined && p !== "ADHOC_BF" && p !== "BATCHES") {
        throw new RedisReplyError("Error parsing vector similarity parameters: invalid hybrid policy was given");
      }
    }
    if (idx.field(distName as string)) throw new RedisReplyError(`Property \`${distName as string}\` already exists in schema`);
  }

  const filter = compileMatcher(filterText, params, idx, knn !== undefined);

  if (knn && vecField?.vector) {
    const blob = paramValue(params, knn.vectorParam);
    const expected = idx.vectorBytes(vecField);
    if (blob.length !== expected) {
      throw new RedisReplyError(
        `Error parsing vector similarity query: query vector blob size (${blob.length}) does not match index's expected size (${expected}).`,
      );
    }
    queryVector = decodeBlob(blob, vecField.vector.dataType);
  }


  // Candidates in document-id order (how Redis walks its index).
  let rows: Row[] = [];
  // idx.docs iterates in document-id order: reindexing deletes a key before adding it back.
  for (const [key, doc] of idx.docs) {
    const entry = keyspace.get(key);
    if (!entry || entry.type !== "hash") continue;
    if (!filter.matches(entry.v)) continue;
    const yielded = new Map<string, number>();
    if (filter.yields) {
      const d = filter.yields.distance(entry.v);
      if (d !== undefined) yielded.set(filter.yields.name, d);
    }
    rows.push({ key, docId: doc.docId, hash: entry.v, yielded });
  }

  if (knn && vecField?.vector && queryVector) {
    const v = vecField.vector;
    const scored: Row[] = [];
    for (const row of rows) {
      const raw = row.hash.get(vecField.path);
      if (raw === undefined) continue;
      const d = vectorDistance(v.metric, v.dataType, decodeBlob(raw, v.dataType), queryVector);
      // A filtered (hybrid) KNN never returns a NaN distance; an unfiltered one lists it last.
      if (Number.isNaN(d) && !filter.isAll) continue;
      row.dist = d;
      scored.push(row);
    }
    scored.sort((a, b) => compareValues(a.dist, b.dist) || a.docId - b.docId);
    rows = scored.slice(0, k);
  }
  return { rows, distName, filter, knn: knn !== undefined };

}

/**
 * Runs FT.SEARCH `query` (bytes) with `rest` (the arguments after it) against `idx`.
 * Throws RedisReplyError with Redis's texts.
 */
export function ftSearch(keyspace: Keyspace, idx: SearchIndex, queryBuf: Buffer, rest: readonly Buffer[], proto: 2 | 3): Reply {
  const o = parseOptions(rest);
  const { rows: matched, distName, filter, knn } = matchQuery(keyspace, idx, queryBuf, o.params, o.dialect);
  let rows = matched;
  const total = rows.length;

  if (o.sortBy) {
    const known =
      o.sortBy.field === distName || idx.field(o.sortBy.field) !== undefined || o.sortBy.field === filter.yields?.name;
    if (!known) throw new RedisReplyError(`Property \`${o.sortBy.field}\` not loaded nor in schema`);
  }

  if (o.sortBy) {
    const { field, asc } = o.sortBy;
    const f = field === distName ? undefined : idx.field(field);
    const dn = field === distName ? distName : undefined;
    const keyed = rows.map((r, i) => ({ r, i, v: sortValue(r, f, dn, field) }));
    keyed.sort((a, b) => {
      if (a.v === undefined || b.v === undefined) return compareValues(a.v, b.v) || a.i - b.i;
      const c = compareValues(a.v, b.v);
      return (asc ? c : -c) || a.i - b.i;
    });
    rows = keyed.map((x) => x.r);
  }

  const page = rows.slice(o.offset, o.offset + o.num);
  const includeFields = !o.noContent && !(o.returnFields !== undefined && o.returnFields.length === 0);
  const results = page.map((row) => {
    const fields: Array<[string, Buffer]> = [];
    if (includeFields) {
      // Computed values come first (the KNN distance, then a yielded range distance), then hash fields.
      const computed: Array<[string, number]> = [];
      if (distName !== undefined && row.dist !== undefined) computed.push([distName, row.dist]);
      for (const [name, d] of row.yielded) if (name !== distName) computed.push([name, d]);
      const wanted = (name: string): boolean => o.returnFields === undefined || o.returnFields.includes(name);
      for (const [name, d] of computed) if (wanted(name)) fields.push([name, Buffer.from(formatRedisDouble(d))]);
      if (o.returnFields === undefined) {
        for (const [name, value] of row.hash) fields.push([name, value]);
      } else {
        for (const name of o.returnFields) {
          if (computed.some(([c]) => c === name)) continue;
          const f = idx.field(name);
          const value = row.hash.get(f ? f.path : name);
          if (value !== undefined) fields.push([name, value]);
        }
      }
    }
    const score = knn ? 0 : 1;
    return { key: row.key, score, fields };
  });

  if (proto === 2) {
    const out: Reply[] = [int(total)];
    for (const r of results) {
      out.push(bulk(r.key));
      if (o.withScores) out.push(bulk(String(r.score)));
      if (includeFields) out.push(arr(r.fields.flatMap(([n, v]) => [bulk(n), bulk(v)])));
    }
    return arr(out);
  }
  return smap([
    ["attributes", arr([])],
    ["format", simple("STRING")],
    [
      "results",
      arr(
        results.map((r) => {
          const pairs: Array<[string, Reply]> = [["id", bulk(r.key)]];
          if (o.withScores) pairs.push(["score", dbl(r.score)]);
          if (includeFields) {
            pairs.push(["extra_attributes", { t: "map", v: r.fields.map(([n, v]) => [bulk(n), bulk(v)] as const) }]);
          }
          pairs.push(["values", arr([])]);
          return smap(pairs);
        }),
      ),
    ],
    ["total_results", int(total)],
    ["warning", arr([])],
  ]);
}
