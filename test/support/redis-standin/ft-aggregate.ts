/**
 * FT.AGGREGATE for the stand-in: the query (pre-filter and KNN, shared with FT.SEARCH), then LOAD,
 * APPLY (arithmetic on numbers and @properties), GROUPBY with REDUCE COUNT / COUNT_DISTINCT / SUM / MIN /
 * MAX / AVG / TOLIST, SORTBY (several keys, MAX), LIMIT; both reply shapes. Error texts are Redis 8.0.2's.
 */
import { formatRedisDouble } from "../../../src/domain/vector.js";
import { matchQuery, parseDialectArg, parseParamsArg } from "./ft-search.js";
import type { Keyspace } from "./keyspace.js";
import { type Reply, arr, bulk, int, simple, smap } from "./resp.js";
import { RedisReplyError, type SearchIndex } from "./search-index.js";

type Value = string | number | string[];
type AggRow = Map<string, Value>;

type Stage =
  | { readonly kind: "load"; readonly fields: readonly string[] }
  | { readonly kind: "apply"; readonly expr: string; readonly as: string }
  | { readonly kind: "groupby"; readonly keys: readonly string[]; readonly reducers: readonly Reducer[] }
  | { readonly kind: "sortby"; readonly keys: ReadonlyArray<{ name: string; asc: boolean }>; readonly max?: number }
  | { readonly kind: "limit"; readonly offset: number; readonly num: number };

interface Reducer {
  readonly fn: string;
  readonly args: readonly string[];
  readonly as: string;
}

const upper = (s: string | undefined): string => (s ?? "").toUpperCase();

function parseArgs(s: readonly string[], raw: readonly Buffer[]): { stages: Stage[]; params: Map<string, Buffer>; dialect: number } {
  const stages: Stage[] = [];
  const params = new Map<string, Buffer>();
  let dialect = 1;
  let i = 0;
  const unknown = (at: number): RedisReplyError =>
    new RedisReplyError(`Unknown argument \`${s[at] ?? ""}\` at position ${at + 1} for <main>`);
  const count = (at: number, what: string): number => {
    const t = s[at];
    if (t === undefined || !/^\d+$/.test(t)) throw new RedisReplyError(`Bad arguments for ${what}: Could not convert argument to expected type`);
    return Number(t);
  };
  while (i < s.length) {
    const t = upper(s[i]);
    switch (t) {
      case "LOAD": {
        if (s[i + 1] === "*") {
          stages.push({ kind: "load", fields: ["*"] });
          i += 2;
          break;
        }
        const n = count(i + 1, "LOAD");
        stages.push({ kind: "load", fields: s.slice(i + 2, i + 2 + n).map((f) => f.replace(/^@/, "")) });
        i += 2 + n;
        break;
      }
      case "APPLY": {
        const expr = s[i + 1] ?? "";
        if (upper(s[i + 2]) !== "AS" || s[i + 3] === undefined) throw new RedisReplyError("Bad arguments for APPLY: AS is required");
        stages.push({ kind: "apply", expr, as: s[i + 3] ?? "" });
        i += 4;
        break;
      }
      case "GROUPBY": {
        const n = count(i + 1, "GROUPBY");
        const keys = s.slice(i + 2, i + 2 + n).map((k) => {
          if (!k.startsWith("@")) throw new RedisReplyError(`Bad arguments for GROUPBY: Unknown property \`${k}\`. Did you mean \`@${k}\`?`);
          return k.slice(1);
        });
        i += 2 + n;
        const reducers: Reducer[] = [];
        while (upper(s[i]) === "REDUCE") {
          const fn = upper(s[i + 1]);
          const nargs = count(i + 2, "REDUCE");
          const args = s.slice(i + 3, i + 3 + nargs);
          i += 3 + nargs;
          let as = `__generated_alias${fn.toLowerCase()}${args.map((a) => a.replace(/^@/, "")).join(",")}`;
          if (upper(s[i]) === "AS" && s[i + 1] !== undefined) {
            as = s[i + 1] as string;
            i += 2;
          }
          reducers.push({ fn, args, as });
        }
        stages.push({ kind: "groupby", keys, reducers });
        break;
      }
      case "SORTBY": {
        const n = count(i + 1, "SORTBY");
        const toks = s.slice(i + 2, i + 2 + n);
        const keys: Array<{ name: string; asc: boolean }> = [];
        for (const tok of toks) {
          const u = upper(tok);
          if ((u === "ASC" || u === "DESC") && keys.length > 0) (keys[keys.length - 1] as { asc: boolean }).asc = u === "ASC";
          else keys.push({ name: tok.replace(/^@/, ""), asc: true });
        }
        i += 2 + n;
        let max: number | undefined;
        if (upper(s[i]) === "MAX") {
          max = count(i + 1, "MAX");
          i += 2;
        }
        stages.push(max === undefined ? { kind: "sortby", keys } : { kind: "sortby", keys, max });
        break;
      }
      case "LIMIT": {
        const a = s[i + 1];
        const b = s[i + 2];
        if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) {
          throw new RedisReplyError("LIMIT needs two numeric arguments");
        }
        stages.push({ kind: "limit", offset: Number(a), num: Number(b) });
        i += 3;
        break;
      }
      case "PARAMS":
        i = parseParamsArg(s, raw, i, params);
        break;
      case "DIALECT":
        dialect = parseDialectArg(s, i);
        i += 2;
        break;
      case "TIMEOUT":
        i += 2;
        break;
      case "VERBATIM":
        i += 1;
        break;
      default:
        throw unknown(i);
    }
  }
  return { stages, params, dialect };
}

// --- APPLY expressions: numbers, @properties, + - * / %, parentheses ---

interface Tok {
  readonly kind: "num" | "prop" | "op" | "(" | ")";
  readonly text: string;
  readonly offset: number;
}

function tokenizeExpr(expr: string): Tok[] {
  const toks: Tok[] = [];
  const re = /\s*(?:(\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+)|@([A-Za-z0-9_]+)|([-+*/%^])|([()]))/giy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < expr.length) {
    re.lastIndex = pos;
    m = re.exec(expr);
    if (!m) {
      if (expr.slice(pos).trim() === "") break;
      throw new RedisReplyError(`Syntax error at offset ${pos} near '${expr.slice(pos).trim().split(/\s/)[0] ?? ""}'`);
    }
    const offset = m.index + (m[0].length - m[0].trimStart().length);
    if (m[1] !== undefined) toks.push({ kind: "num", text: m[1], offset });
    else if (m[2] !== undefined) toks.push({ kind: "prop", text: m[2], offset });
    else if (m[3] !== undefined) toks.push({ kind: "op", text: m[3], offset });
    else toks.push({ kind: m[4] === "(" ? "(" : ")", text: m[4] ?? "", offset });
    pos = re.lastIndex;
  }
  return toks;
}

type Expr = { n: number } | { p: string } | { op: string; l: Expr; r: Expr } | { neg: Expr };

function parseExpr(expr: string): Expr {
  const toks = tokenizeExpr(expr);
  let i = 0;
  let lastValued = "";
  const fail = (): RedisReplyError => {
    const t = toks[i] ?? toks[toks.length - 1];
    return new RedisReplyError(`Syntax error at offset ${t ? t.offset : 0} near '${lastValued}'`);
  };
  const primary = (): Expr => {
    const t = toks[i];
    if (!t) throw fail();
    i += 1;
    if (t.kind === "num") {
      lastValued = t.text;
      return { n: Number(t.text) };
    }
    if (t.kind === "prop") {
      lastValued = t.text;
      return { p: t.text };
    }
    if (t.kind === "op" && t.text === "-") return { neg: primary() };
    if (t.kind === "(") {
      const e = sum();
      if (toks[i]?.kind !== ")") throw fail();
      i += 1;
      return e;
    }
    i -= 1;
    throw fail();
  };
  const product = (): Expr => {
    let l = primary();
    while (toks[i]?.kind === "op" && "*/%^".includes(toks[i]?.text ?? "")) {
      const op = (toks[i] as Tok).text;
      i += 1;
      l = { op, l, r: primary() };
    }
    return l;
  };
  const sum = (): Expr => {
    let l = product();
    while (toks[i]?.kind === "op" && "+-".includes(toks[i]?.text ?? "")) {
      const op = (toks[i] as Tok).text;
      i += 1;
      l = { op, l, r: product() };
    }
    return l;
  };
  const e = sum();
  if (i < toks.length) throw fail();
  return e;
}

function exprProps(e: Expr): string[] {
  if ("p" in e) return [e.p];
  if ("neg" in e) return exprProps(e.neg);
  if ("op" in e) return [...exprProps(e.l), ...exprProps(e.r)];
  return [];
}

const asNumber = (v: Value | undefined): number => {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const n = Number(v);
    return Number.isNaN(n) ? Number.NaN : n;
  }
  return Number.NaN;
};

function evalExpr(e: Expr, get: (name: string) => Value | undefined): number {
  if ("n" in e) return e.n;
  if ("p" in e) return asNumber(get(e.p));
  if ("neg" in e) return -evalExpr(e.neg, get);
  const l = evalExpr(e.l, get);
  const r = evalExpr(e.r, get);
  switch (e.op) {
    case "+":
      return l + r;
    case "-":
      return l - r;
    case "*":
      return l * r;
    case "/":
      return l / r;
    case "%":
      return l % r;
    default:
      return l ** r;
  }
}

function compareAgg(a: Value | undefined, b: Value | undefined): number {
  if (a === undefined || b === undefined) return a === undefined ? (b === undefined ? 0 : 1) : -1;
  const na = typeof a === "number" ? a : undefined;
  const nb = typeof b === "number" ? b : undefined;
  if (na !== undefined && nb !== undefined) return na - nb;
  return Buffer.compare(Buffer.from(String(a), "utf8"), Buffer.from(String(b), "utf8"));
}

function reduce(r: Reducer, rows: readonly AggRow[], get: (row: AggRow, name: string) => Value | undefined): Value {
  const prop = (r.args[0] ?? "").replace(/^@/, "");
  const values = rows.map((row) => get(row, prop)).filter((v): v is Value => v !== undefined);
  switch (r.fn) {
    case "COUNT":
      return rows.length;
    case "COUNT_DISTINCT":
      return new Set(values.map(String)).size;
    case "SUM":
      return values.reduce<number>((s, v) => s + asNumber(v), 0);
    case "MIN":
      return values.length === 0 ? Infinity : Math.min(...values.map(asNumber));
    case "MAX":
      return values.length === 0 ? -Infinity : Math.max(...values.map(asNumber));
    case "AVG":
      return values.length === 0 ? Number.NaN : values.reduce<number>((s, v) => s + asNumber(v), 0) / values.length;
    case "TOLIST":
      return [...new Set(values.map(String))];
    default:
      throw new RedisReplyError(`Bad arguments for REDUCE: Unknown reducer \`${r.fn}\``);
  }
}

function valueReply(v: Value): Reply {
  if (Array.isArray(v)) return arr(v.map((x) => bulk(x)));
  return bulk(typeof v === "number" ? formatRedisDouble(v) : v);
}

/**
 * Runs FT.AGGREGATE `query` with `rest` (the arguments after it) against `idx`.
 * Throws RedisReplyError with Redis's texts.
 */
export function ftAggregate(keyspace: Keyspace, idx: SearchIndex, queryBuf: Buffer, rest: readonly Buffer[], proto: 2 | 3): Reply {
  const { stages, params, dialect } = parseArgs(
    rest.map((b) => b.toString("utf8")),
    rest,
  );
  const match = matchQuery(keyspace, idx, queryBuf, params, dialect);
  const hashes = new Map<AggRow, Map<string, Buffer>>();
  let rows: AggRow[] = match.rows.map((r) => {
    const row: AggRow = new Map();
    if (match.distName !== undefined && r.dist !== undefined) row.set(match.distName, r.dist);
    for (const [name, d] of r.yielded) row.set(name, d);
    hashes.set(row, r.hash);
    return row;
  });
  const known = new Set<string>([...(match.distName ? [match.distName] : []), ...(match.filter.yields ? [match.filter.yields.name] : [])]);
  let grouped = false;
  const inSchemaOrPipeline = (name: string): boolean => known.has(name) || (!grouped && idx.field(name) !== undefined);
  const get = (row: AggRow, name: string): Value | undefined => {
    const v = row.get(name);
    if (v !== undefined) return v;
    const hash = hashes.get(row);
    const f = idx.field(name);
    const raw = hash?.get(f ? f.path : name);
    return raw?.toString("utf8");
  };
  let total = -1;
  for (const stage of stages) {
    switch (stage.kind) {
      case "load":
        for (const row of rows) {
          const hash = hashes.get(row);
          if (!hash) continue;
          if (stage.fields[0] === "*") {
            for (const [name, value] of hash) row.set(name, value.toString("utf8"));
          } else {
            for (const name of stage.fields) {
              const f = idx.field(name);
              const raw = hash.get(f ? f.path : name);
              if (raw !== undefined) row.set(name, raw.toString("utf8"));
            }
          }
        }
        for (const name of stage.fields) known.add(name);
        break;
      case "apply": {
        const e = parseExpr(stage.expr);
        for (const p of exprProps(e)) {
          if (!inSchemaOrPipeline(p)) throw new RedisReplyError(`Property \`${p}\` not loaded nor in pipeline`);
        }
        for (const row of rows) row.set(stage.as, evalExpr(e, (name) => get(row, name)));
        known.add(stage.as);
        break;
      }
      case "groupby": {
        for (const k of stage.keys) if (!inSchemaOrPipeline(k)) throw new RedisReplyError(`No such property \`${k}\``);
        for (const r of stage.reducers) {
          const p = (r.args[0] ?? "").replace(/^@/, "");
          if (r.args.length > 0 && !inSchemaOrPipeline(p)) throw new RedisReplyError(`No such property \`${p}\``);
        }
        const groups = new Map<string, { key: Value[]; rows: AggRow[] }>();
        for (const row of rows) {
          const key = stage.keys.map((k) => get(row, k) ?? "");
          const id = JSON.stringify(key);
          const g = groups.get(id) ?? { key, rows: [] };
          g.rows.push(row);
          groups.set(id, g);
        }
        rows = [...groups.values()].map((g) => {
          const out: AggRow = new Map();
          stage.keys.forEach((k, n) => out.set(k, g.key[n] as Value));
          for (const r of stage.reducers) out.set(r.as, reduce(r, g.rows, get));
          return out;
        });
        grouped = true;
        known.clear();
        for (const k of stage.keys) known.add(k);
        for (const r of stage.reducers) known.add(r.as);
        break;
      }
      case "sortby": {
        for (const k of stage.keys) {
          if (!inSchemaOrPipeline(k.name)) throw new RedisReplyError(`Property \`${k.name}\` not loaded nor in pipeline`);
        }
        const keyed = rows.map((row, n) => ({ row, n }));
        keyed.sort((a, b) => {
          for (const k of stage.keys) {
            const va = get(a.row, k.name);
            const vb = get(b.row, k.name);
            if (va === undefined || vb === undefined) {
              const c = compareAgg(va, vb);
              if (c !== 0) return c;
              continue;
            }
            const c = compareAgg(typeof va === "string" && !Number.isNaN(Number(va)) && typeof vb === "number" ? Number(va) : va, vb);
            if (c !== 0) return k.asc ? c : -c;
          }
          return a.n - b.n;
        });
        rows = keyed.map((x) => x.row);
        if (stage.max !== undefined) rows = rows.slice(0, stage.max);
        break;
      }
      case "limit":
        total = rows.length;
        rows = rows.slice(stage.offset, stage.offset + stage.num);
        break;
    }
  }
  if (total < 0) total = rows.length;
  const rendered = rows.map((row) => [...row.entries()].map(([k, v]) => [k, valueReply(v)] as const));
  if (proto === 2) {
    return arr([int(total), ...rendered.map((pairs) => arr(pairs.flatMap(([k, v]) => [bulk(k), v])))]);
  }
  return smap([
    ["attributes", arr([])],
    ["format", simple("STRING")],
    [
      "results",
      arr(
        rendered.map((pairs) =>
          smap([
            ["extra_attributes", { t: "map", v: pairs.map(([k, v]) => [bulk(k), v] as const) }],
            ["values", arr([])],
          ]),
        ),
      ),
    ],
    ["total_results", int(total)],
    ["warning", arr([])],
  ]);
}
