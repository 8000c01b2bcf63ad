/**
 * Query Engine index definitions for the stand-in: FT.CREATE / FT.ALTER schema parsing with the
 * error texts of Redis 8.0.2, synchronous indexing of hashes by prefix, and the FT.INFO reply.
 */
import type { Keyspace } from "./keyspace.js";
import { type Reply, arr, bulk, dbl, int, simple, smap } from "./resp.js";

export type VectorDataType = "FLOAT32" | "FLOAT64" | "FLOAT16" | "BFLOAT16";
export type Metric = "L2" | "IP" | "COSINE";

export interface VectorParams {
  readonly algorithm: "FLAT" | "HNSW";
  readonly dataType: VectorDataType;
  readonly dim: number;
  readonly metric: Metric;
  readonly m: number;
  readonly efConstruction: number;
  readonly efRuntime: number;
}

export interface FieldDef {
  /** Hash field the value is read from. */
  readonly path: string;
  /** Attribute name used in queries (`AS`), equal to `path` without AS. */
  readonly name: string;
  readonly type: "TEXT" | "TAG" | "NUMERIC" | "VECTOR";
  readonly weight: number;
  readonly separator: string;
  readonly caseSensitive: boolean;
  readonly sortable: boolean;
  /** SORTABLE UNF: sort by the value as is (otherwise TEXT/TAG sort keys are lower-cased). */
  readonly unf: boolean;
  readonly noStem: boolean;
  readonly vector?: VectorParams;
}

/** An error reply whose text is exactly what Redis sends. */
export class RedisReplyError extends Error {}

/** A query feature the stand-in deliberately does not implement (replied as an error naming it). */
export class UnsupportedQueryError extends RedisReplyError {
  constructor(feature: string) {
    super(`stand-in does not support ${feature}`);
  }
}

export interface IndexedDoc {
  readonly docId: number;
}

export class SearchIndex {
  readonly docs = new Map<string, IndexedDoc>();
  failures = 0;
  lastError: { message: string; key: string } | undefined;
  maxDocId = 0;
  /**
   * Keys a background scan (FT.CREATE / FT.ALTER over existing keys, in the stand-in's background
   * mode) has still to index, and how many it started with: FT.INFO reports `indexing` 1 and
   * `percent_indexed` below 1 until it is done, as Redis does.
   */
  pendingScan: string[] = [];
  scanTotal = 0;

  constructor(
    readonly name: string,
    readonly prefixes: readonly string[],
    public fields: FieldDef[],
  ) {}

  covers(key: string): boolean {
    return this.prefixes.length === 0 || this.prefixes.some((p) => key.startsWith(p));
  }

  field(name: string): FieldDef | undefined {
    return this.fields.find((f) => f.name === name);
  }

  vectorBytes(f: FieldDef): number {
    const v = f.vector;
    if (!v) return 0;
    return v.dim * (v.dataType === "FLOAT64" ? 8 : v.dataType === "FLOAT32" ? 4 : 2);
  }

  /** Starts a background scan of `keys` (those under the index's prefixes). */
  startScan(keys: Iterable<string>): void {
    this.pendingScan = [...keys].filter((k) => this.covers(k));
    this.scanTotal = this.pendingScan.length;
  }

  /** Indexes the next `count` keys of the background scan. */
  advanceScan(keyspace: Keyspace, count: number): void {
    for (const key of this.pendingScan.splice(0, count)) this.reindex(keyspace, key);
  }

  /** Re-indexes `key` from the keyspace: drops it when gone, counts a failure when a value is invalid. */
  reindex(keyspace: Keyspace, key: string): void {
    if (!this.covers(key)) return;
    this.docs.delete(key);
    const entry = keyspace.get(key);
    if (!entry || entry.type !== "hash") return;
    for (const f of this.fields) {
      const value = entry.v.get(f.path);
      if (value === undefined) continue;
      if (f.type === "VECTOR") {
        const expected = this.vectorBytes(f);
        if (value.length !== expected) {
          this.fail(key, `Could not add vector with blob size ${value.length} (expected size ${expected})`);
          return;
        }
      } else if (f.type === "NUMERIC") {
        if (parseRedisNumber(value.toString("utf8")) === undefined) {
          this.fail(key, `Invalid numeric value: '${value.toString("utf8")}'`);
          return;
        }
      }
    }
    this.maxDocId += 1;
    this.docs.set(key, { docId: this.maxDocId });
  }

  private fail(key: string, message: string): void {
    this.failures += 1;
    this.lastError = { message, key };
  }
}

/** Parses a number the way the Query Engine reads NUMERIC values and bounds (`inf`, `-inf`, `+inf`). */
export function parseRedisNumber(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === "inf" || t === "+inf" || t === "infinity" || t === "+infinity") return Infinity;
  if (t === "-inf" || t === "-infinity") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

const upper = (b: string | undefined): string => (b ?? "").toUpperCase();

/**
 * Parses the field list of FT.CREATE (after SCHEMA) or FT.ALTER (after SCHEMA ADD).
 * Throws RedisReplyError with Redis's text.
 */
export function parseSchema(args: readonly string[], existing: readonly FieldDef[] = []): FieldDef[] {
  const fields: FieldDef[] = [];
  let i = 0;
  if (args.length === 0) throw new RedisReplyError("Fields arguments are missing");
  while (i < args.length) {
    const path = args[i] as string;
    i += 1;
    let name = path;
    if (upper(args[i]) === "AS" && i + 1 < args.length) {
      name = args[i + 1] as string;
      i += 2;
    }
    const typeTok = upper(args[i]);
    i += 1;
    const base = { path, name, weight: 1, separator: ",", caseSensitive: false, sortable: false, unf: false, noStem: false };
    let unf = false;
    let field: FieldDef;
    if (typeTok === "TEXT") {
      let weight = 1;
      let noStem = false;
      let sortable = false;
      for (;;) {
        const t = upper(args[i]);
        if (t === "WEIGHT") {
          const w = Number(args[i + 1]);
          if (!Number.isFinite(w)) throw new RedisReplyError("Bad arguments for WEIGHT: Could not convert argument to expected type");
          weight = w;
          i += 2;
        } else if (t === "NOSTEM") {
          noStem = true;
          i += 1;
        } else if (t === "SORTABLE") {
          sortable = true;
          i += 1;
        } else if (t === "UNF") {
          unf = true;
          i += 1;
        } else if (t === "NOINDEX" || t === "INDEXEMPTY" || t === "INDEXMISSING" || t === "WITHSUFFIXTRIE") {
          i += 1;
        } else break;
      }
      field = { ...base, type: "TEXT", weight, noStem, sortable, unf };
    } else if (typeTok === "TAG") {
      let separator = ",";
      let caseSensitive = false;
      let sortable = false;
      for (;;) {
        const t = upper(args[i]);
        if (t === "SEPARATOR") {
          separator = (args[i + 1] ?? ",").slice(0, 1);
          i += 2;
        } else if (t === "CASESENSITIVE") {
          caseSensitive = true;
          i += 1;
        } else if (t === "SORTABLE") {
          sortable = true;
          i += 1;
        } else if (t === "UNF") {
          unf = true;
          i += 1;
        } else if (t === "NOINDEX" || t === "INDEXEMPTY" || t === "INDEXMISSING" || t === "WITHSUFFIXTRIE") {
          i += 1;
        } else break;
      }
      field = { ...base, type: "TAG", separator, caseSensitive, sortable, unf };
    } else if (typeTok === "NUMERIC") {
      let sortable = false;
      for (;;) {
        const t = upper(args[i]);
        if (t === "SORTABLE") {
          sortable = true;
          i += 1;
        } else if (t === "UNF" || t === "NOINDEX" || t === "INDEXMISSING") {
          i += 1;
        } else break;
      }
      field = { ...base, type: "NUMERIC", sortable };
    } else if (typeTok === "VECTOR") {
      const parsed = parseVector(args, i);
      i = parsed.next;
      field = { ...base, type: "VECTOR", vector: parsed.params };
    } else {
      throw new RedisReplyError(`Invalid field type for field \`${path}\``);
    }
    if ([...existing, ...fields].some((f) => f.name === field.name)) {
      throw new RedisReplyError(`Duplicate field in schema - ${field.name}`);
    }
    fields.push(field);
  }
  return fields;
}

function parseVector(args: readonly string[], start: number): { params: VectorParams; next: number } {
  let i = start;
  const algoTok = args[i];
  if (algoTok === undefined) {
    throw new RedisReplyError("Bad arguments for vector similarity algorithm: Expected an argument, but none provided");
  }
  const algorithm = upper(algoTok);
  if (algorithm !== "FLAT" && algorithm !== "HNSW") {
    throw new RedisReplyError("Bad arguments for vector similarity algorithm: Unknown argument");
  }
  i += 1;
  const countTok = args[i];
  if (countTok === undefined) {
    throw new RedisReplyError("Bad arguments for vector similarity number of parameters: Expected an argument, but none provided");
  }
  if (!/^\d+$/.test(countTok)) {
    throw new RedisReplyError("Bad arguments for vector similarity number of parameters: Could not convert argument to expected type");
  }
  const count = Number(countTok);
  i += 1;
  if (count % 2 !== 0) {
    throw new RedisReplyError(
      `Bad number of arguments for vector similarity index: got ${count} but expected even number as algorithm parameters (should be submitted as named arguments)`,
    );
  }
  const available = args.length - i;
  if (count > available) throw new RedisReplyError(`Expected ${count} parameters but got ${available}`);
  let dataType: VectorDataType | undefined;
  let dim: number | undefined;
  let metric: Metric | undefined;
  let m = 16;
  let efConstruction = 200;
  let efRuntime = 10;
  const bad = (attr: string, what: string): RedisReplyError =>
    new RedisReplyError(`Bad arguments for vector similarity ${algorithm} index \`${attr}\`: ${what}`);
  const intArg = (attr: string, value: string, min: number): number => {
    if (!/^-?\d+$/.test(value)) throw bad(attr, "Could not convert argument to expected type");
    const n = Number(value);
    if (n < min) throw bad(attr, "Value is outside acceptable bounds");
    return n;
  };
  for (let p = 0; p < count; p += 2) {
    const key = upper(args[i + p]);
    const value = args[i + p + 1] as string;
    switch (key) {
      case "TYPE": {
        const t = upper(value);
        // FLOAT16/BFLOAT16 since search 2.10 (accepted in any case); INT8/UINT8 are unknown there.
        if (t !== "FLOAT32" && t !== "FLOAT64" && t !== "FLOAT16" && t !== "BFLOAT16") throw bad("TYPE", "Unknown argument");
        dataType = t;
        break;
      }
      case "DIM":
        dim = intArg("DIM", value, 1);
        break;
      case "DISTANCE_METRIC": {
        const t = upper(value);
        if (t !== "L2" && t !== "IP" && t !== "COSINE") throw bad("DISTANCE_METRIC", "Unknown argument");
        metric = t;
        break;
      }
      case "INITIAL_CAP":
        intArg("INITIAL_CAP", value, 0);
        break;
      case "BLOCK_SIZE":
        if (algorithm !== "FLAT") throw new RedisReplyError(`Bad arguments for algorithm ${algorithm}: ${args[i + p] ?? ""}`);
        intArg("BLOCK_SIZE", value, 1);
        break;
      case "M":
      case "EF_CONSTRUCTION":
      case "EF_RUNTIME":
      case "EPSILON":
        if (algorithm !== "HNSW") throw new RedisReplyError(`Bad arguments for algorithm ${algorithm}: ${args[i + p] ?? ""}`);
        if (key === "M") m = intArg("M", value, 1);
        else if (key === "EF_CONSTRUCTION") efConstruction = intArg("EF_CONSTRUCTION", value, 1);
        else if (key === "EF_RUNTIME") efRuntime = intArg("EF_RUNTIME", value, 1);
        break;
      default:
        throw new RedisReplyError(`Bad arguments for algorithm ${algorithm}: ${args[i + p] ?? ""}`);
    }
  }
  const missing = (what: string): RedisReplyError =>
    new RedisReplyError(`Missing mandatory parameter: cannot create ${algorithm} index without specifying ${what} argument`);
  if (dataType === undefined) throw missing("TYPE");
  if (dim === undefined) throw missing("DIM");
  if (metric === undefined) throw missing("DISTANCE_METRIC");
  return { params: { algorithm, dataType, dim, metric, m, efConstruction, efRuntime }, next: i + count };
}

/**
 * Parses `FT.CREATE` arguments after the index name.
 * Throws RedisReplyError with Redis's text.
 */
export function parseCreate(args: readonly string[]): { prefixes: string[]; fields: FieldDef[]; skipInitialScan: boolean } {
  let i = 0;
  const prefixes: string[] = [];
  let skipInitialScan = false;
  while (i < args.length) {
    const t = upper(args[i]);
    if (t === "ON") {
      const kind = upper(args[i + 1]);
      if (kind !== "HASH") throw new RedisReplyError(`Invalid rule type: ${args[i + 1] ?? ""}`);
      i += 2;
    } else if (t === "PREFIX") {
      const n = Number(args[i + 1]);
      if (!Number.isInteger(n) || n < 0) throw new RedisReplyError("Bad arguments for PREFIX: Could not convert argument to expected type");
      for (let p = 0; p < n; p++) {
        const v = args[i + 2 + p];
        if (v !== undefined) prefixes.push(v);
      }
      i += 2 + n;
    } else if (t === "SCHEMA") {
      return { prefixes, fields: parseSchema(args.slice(i + 1)), skipInitialScan };
    } else if (t === "LANGUAGE" || t === "LANGUAGE_FIELD" || t === "SCORE" || t === "SCORE_FIELD" || t === "PAYLOAD_FIELD" || t === "FILTER") {
      i += 2;
    } else if (t === "SKIPINITIALSCAN") {
      // Existing hashes are not indexed; those written from now on are (checked on Redis 7.4.1 +
      // RediSearch 2.10.32, standalone and through the cluster's coordinator).
      skipInitialScan = true;
      i += 1;
    } else if (t === "MAXTEXTFIELDS" || t === "NOOFFSETS" || t === "NOHL" || t === "NOFIELDS" || t === "NOFREQS") {
      i += 1;
    } else {
      throw new RedisReplyError(`Unknown argument \`${args[i] ?? ""}\``);
    }
  }
  throw new RedisReplyError("No schema found");
}

const NA = simple("N/A");

function fieldErrors(): Reply {
  return smap([
    ["indexing failures", int(0)],
    ["last indexing error", NA],
    ["last indexing error key", bulk("N/A")],
  ]);
}

/** The FT.INFO reply for `idx`, keys in Redis 8.0.2 order; statistics not modelled are zeros. */
export function infoReply(idx: SearchIndex, proto: 2 | 3): Reply {
  const attributes = idx.fields.map((f) => {
    const pairs: Array<[string, Reply]> = [
      ["identifier", simple(f.path)],
      ["attribute", simple(f.name)],
      ["type", simple(f.type)],
    ];
    const flags: Reply[] = [];
    if (f.type === "TEXT") {
      pairs.push(["WEIGHT", dbl(f.weight)]);
      if (f.noStem) flags.push(simple("NOSTEM"));
    } else if (f.type === "TAG") {
      pairs.push(["SEPARATOR", simple(f.separator)]);
      if (f.caseSensitive) flags.push(simple("CASESENSITIVE"));
    } else if (f.type === "VECTOR" && f.vector) {
      const v = f.vector;
      pairs.push(
        ["algorithm", simple(v.algorithm)],
        ["data_type", simple(v.dataType)],
        ["dim", int(v.dim)],
        ["distance_metric", simple(v.metric)],
      );
      if (v.algorithm === "HNSW") pairs.push(["M", int(v.m)], ["ef_construction", int(v.efConstruction)]);
    }
    if (f.sortable) flags.push(simple("SORTABLE"));
    if (f.unf) flags.push(simple("UNF"));
    if (proto === 3) return smap([...pairs, ["flags", arr(flags)]]);
    // RESP2 has no `flags` key: the flags follow the pairs as bare words.
    return arr([...pairs.flatMap(([k, v]) => [simple(k), v]), ...flags]);
  });
  const zero = dbl(0);
  const nan = dbl(Number.NaN);
  const failures = idx.failures;
  return smap([
    ["index_name", simple(idx.name)],
    ["index_options", arr([])],
    [
      "index_definition",
      smap([
        ["key_type", simple("HASH")],
        ["prefixes", arr(idx.prefixes.map((p) => simple(p)))],
        ["default_score", dbl(1)],
        ["indexes_all", simple(idx.prefixes.length === 0 ? "true" : "false")],
      ]),
    ],
    ["attributes", arr(attributes)],
    ["num_docs", int(idx.docs.size)],
    ["max_doc_id", int(idx.maxDocId)],
    ["num_terms", int(0)],
    ["num_records", int(0)],
    ["inverted_sz_mb", zero],
    ["vector_index_sz_mb", zero],
    ["total_inverted_index_blocks", int(0)],
    ["offset_vectors_sz_mb", zero],
    ["doc_table_size_mb", zero],
    ["sortable_values_size_mb", zero],
    ["key_table_size_mb", zero],
    ["tag_overhead_sz_mb", zero],
    ["text_overhead_sz_mb", zero],
    ["total_index_memory_sz_mb", zero],
    ["geoshapes_sz_mb", zero],
    ["records_per_doc_avg", nan],
    ["bytes_per_record_avg", nan],
    ["offsets_per_term_avg", nan],
    ["offset_bits_per_record_avg", nan],
    ["hash_indexing_failures", int(failures)],
    ["total_indexing_time", zero],
    ["indexing", int(idx.pendingScan.length > 0 ? 1 : 0)],
    ["percent_indexed", dbl(idx.pendingScan.length > 0 ? 1 - idx.pendingScan.length / idx.scanTotal : 1)],
    ["number_of_uses", int(0)],
    ["cleaning", int(0)],
    [
      "gc_stats",
      smap([
        ["bytes_collected", zero],
        ["total_ms_run", zero],
        ["total_cycles", zero],
        ["average_cycle_time_ms", nan],
        ["last_run_time_ms", zero],
        ["gc_numeric_trees_missed", zero],
        ["gc_blocks_denied", zero],
      ]),
    ],
    [
      "cursor_stats",
      smap([
        ["global_idle", int(0)],
        ["global_total", int(0)],
        ["index_capacity", int(128)],
        ["index_total", int(0)],
      ]),
    ],
    [
      "dialect_stats",
      smap([
        ["dialect_1", int(0)],
        ["dialect_2", int(0)],
        ["dialect_3", int(0)],
        ["dialect_4", int(0)],
      ]),
    ],
    [
      "Index Errors",
      smap([
        ["indexing failures", int(failures)],
        ["last indexing error", idx.lastError ? simple(idx.lastError.message) : NA],
        ["last indexing error key", bulk(idx.lastError ? idx.lastError.key : "N/A")],
        ["background indexing status", simple("OK")],
      ]),
    ],
    [
      "field statistics",
      arr(
        idx.fields.map((f) =>
          smap([
            ["identifier", simple(f.path)],
            ["attribute", simple(f.name)],
            ["Index Errors", fieldErrors()],
          ]),
        ),
      ),
    ],
  ]);
}
