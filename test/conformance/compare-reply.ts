/**
 * Compares a reply (JSON encoding of recordings/README.md) with a recorded one, honouring the
 * step flags: `unordered` (skip/group or unordered_key, or a map's pairs), `ties_unordered`,
 * `nondeterministic` + `stable_keys`. Distances and doubles compare as numbers within 1e-6 (abs or rel).
 */
import type { Encoded } from "../support/redis-standin/raw-resp-client.js";

export interface StepFlags {
  readonly unordered?: boolean;
  readonly skip?: number;
  readonly group?: number;
  readonly unordered_key?: string;
  readonly ties_unordered?: readonly string[];
  readonly nondeterministic?: boolean;
  readonly stable_keys?: readonly string[];
}

export interface Outcome {
  /** "exact": identical (numbers within tolerance); "relaxed": equal only under a flag's relaxation. */
  readonly kind: "exact" | "relaxed" | "mismatch";
  readonly detail?: string;
}

/** FT.INFO keys the stand-in implements; only these (within `stable_keys`) are compared. */
export const FT_INFO_COMPARED_KEYS = [
  "index_name",
  "index_options",
  "index_definition",
  "attributes",
  "num_docs",
  "hash_indexing_failures",
  "indexing",
  "percent_indexed",
  "Index Errors",
] as const;

const TOL = 1e-6;
type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

function bytesOf(x: unknown): Buffer | undefined {
  if (typeof x === "string") return Buffer.from(x, "utf8");
  if (isObj(x) && typeof x.base64 === "string") return Buffer.from(x.base64, "base64");
  return undefined;
}

const FLOATISH = /^[+-]?(\d+\.\d*|\d*\.\d+|\d+(\.\d*)?e[+-]?\d+|nan|-nan|inf|-inf)$/i;

function num(text: string | number): number {
  if (typeof text === "number") return text;
  const t = text.toLowerCase();
  if (t === "nan" || t === "-nan") return Number.NaN;
  if (t === "inf" || t === "+inf") return Infinity;
  if (t === "-inf") return -Infinity;
  return Number(text);
}

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  const diff = Math.abs(a - b);
  return diff <= TOL || diff <= TOL * Math.max(Math.abs(a), Math.abs(b));
}

/** Deep equality with numeric tolerance on float-looking strings and doubles; returns a mismatch path or undefined. */
export function diff(e: unknown, a: unknown, path = "$"): string | undefined {
  const show = (x: unknown): string => JSON.stringify(x)?.slice(0, 200) ?? String(x);
  const bad = (): string => `${path}: expected ${show(e)}, got ${show(a)}`;
  if (e === null) return a === null ? undefined : bad();
  if (typeof e === "number") return a === e ? undefined : bad();
  const eb = bytesOf(e);
  if (eb) {
    const ab = bytesOf(a);
    if (!ab) return bad();
    if (eb.equals(ab)) return undefined;
    const et = eb.toString("utf8");
    const at = ab.toString("utf8");
    if (FLOATISH.test(et) && FLOATISH.test(at) && close(num(et), num(at))) return undefined;
    return bad();
  }
  if (Array.isArray(e)) {
    if (!Array.isArray(a)) return bad();
    if (a.length !== e.length) return `${path}: expected ${e.length} elements, got ${a.length}: ${show(a)}`;
    for (let i = 0; i < e.length; i++) {
      const d = diff(e[i], a[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (!isObj(e) || !isObj(a)) return bad();
  if ("status" in e) return a.status === e.status && !("error" in a) ? undefined : bad();
  if ("error" in e) return a.error === e.error ? undefined : bad();
  if ("double" in e) {
    if (!("double" in a)) return bad();
    return close(num(e.double as number | string), num(a.double as number | string)) ? undefined : bad();
  }
  if ("map" in e) {
    if (!Array.isArray(a.map)) return bad();
    const ep = e.map as Array<[unknown, unknown]>;
    const ap = a.map as Array<[unknown, unknown]>;
    if (ep.length !== ap.length) return `${path}: expected map of ${ep.length} pairs, got ${ap.length}: ${show(a)}`;
    for (let i = 0; i < ep.length; i++) {
      const [ek, ev] = ep[i] as [unknown, unknown];
      const [ak, av] = ap[i] as [unknown, unknown];
      const dk = diff(ek, ak, `${path}{#${i} key}`);
      if (dk) return dk;
      const dv = diff(ev, av, `${path}.${keyName(ek)}`);
      if (dv) return dv;
    }
    return undefined;
  }
  if ("set" in e) {
    if (!Array.isArray(a.set)) return bad();
    return diff(e.set, a.set, `${path}~`);
  }
  return JSON.stringify(e) === JSON.stringify(a) ? undefined : bad();
}

function keyName(k: unknown): string {
  if (typeof k === "string") return k;
  if (isObj(k) && typeof k.status === "string") return k.status;
  return JSON.stringify(k);
}

/** Multiset equality of `e` and `a` (lists of items compared with `diff`). */
function multisetDiff(e: readonly unknown[], a: readonly unknown[], path: string): string | undefined {
  if (e.length !== a.length) return `${path}: expected ${e.length} items, got ${a.length}: ${JSON.stringify(a).slice(0, 300)}`;
  const used = new Set<number>();
  for (let i = 0; i < e.length; i++) {
    const j = a.findIndex((x, idx) => !used.has(idx) && diff(e[i], x) === undefined);
    if (j < 0) return `${path}: no match for expected item ${JSON.stringify(e[i]).slice(0, 300)} among ${JSON.stringify(a).slice(0, 300)}`;
    used.add(j);
  }
  return undefined;
}

function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

function mapGet(m: unknown, key: string): unknown {
  if (!isObj(m) || !Array.isArray(m.map)) return undefined;
  const pair = (m.map as Array<[unknown, unknown]>).find(([k]) => keyName(k) === key);
  return pair?.[1];
}

/** Rows of an FT.SEARCH reply in either protocol, with the row's value of `key` (as text). */
function searchRows(reply: unknown, key: string): { rows: unknown[]; values: Array<string | undefined>; rebuild: (rows: unknown[]) => unknown } | undefined {
  if (isObj(reply) && Array.isArray(reply.map)) {
    const results = mapGet(reply, "results");
    if (!Array.isArray(results)) return undefined;
    const values = results.map((r) => {
      const v = mapGet(mapGet(r, "extra_attributes"), key);
      return typeof v === "string" ? v : undefined;
    });
    return {
      rows: results,
      values,
      rebuild: (rows) => ({
        map: (reply.map as Array<[unknown, unknown]>).map(([k, v]) => [k, keyName(k) === "results" ? rows : v]),
      }),
    };
  }
  if (Array.isArray(reply) && typeof reply[0] === "number") {
    const flat = reply as unknown[];
    const rest = flat.slice(1);
    // FT.AGGREGATE rows are bare field lists; FT.SEARCH rows start with the key.
    const group = Array.isArray(rest[0]) ? 1 : Array.isArray(rest[1]) ? 2 : Array.isArray(rest[2]) ? 3 : 1;
    const rows = chunk(rest, group);
    const values = rows.map((r) => {
      const fields: unknown = r[r.length - 1];
      if (!Array.isArray(fields)) return undefined;
      for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === key && typeof fields[i + 1] === "string") return fields[i + 1] as string;
      return undefined;
    });
    return { rows, values, rebuild: (rs) => [flat[0], ...rs.flat()] };
  }
  return undefined;
}

/**
 * Compares `actual` with `expected` under `flags`. `cmdName` picks the FT.INFO / HELLO subset rules.
 */
export function compareReply(cmdName: string, recorded: unknown, actual: Encoded, flags: StepFlags): Outcome {
  let expected = recorded;
  let leadingRelaxed = false;
  if (cmdName === "FT.AGGREGATE" && Array.isArray(recorded) && typeof recorded[0] === "number" && Array.isArray(actual)) {
    // The leading number of a RESP2 FT.AGGREGATE reply is not a row count (README): compare it loosely.
    leadingRelaxed = recorded[0] !== actual[0];
    expected = [actual[0], ...(recorded as unknown[]).slice(1)];
  }
  const exact = diff(expected, actual);
  if (exact === undefined) return { kind: leadingRelaxed ? "relaxed" : "exact" };
  const relaxed = relaxedDiff(cmdName, expected, actual, flags);
  if (relaxed === undefined) return { kind: "relaxed" };
  return { kind: "mismatch", detail: relaxed ?? exact };
}

function relaxedDiff(cmdName: string, expected: unknown, actual: unknown, flags: StepFlags): string | undefined | null {
  if (flags.nondeterministic && flags.stable_keys) {
    const keys = cmdName === "FT.INFO" ? FT_INFO_COMPARED_KEYS.filter((k) => flags.stable_keys?.includes(k)) : flags.stable_keys;
    const ePairs = pairsOf(expected);
    const aPairs = pairsOf(actual);
    if (!ePairs || !aPairs) return diff(expected, actual);
    const eKeys = ePairs.map(([k]) => keyName(k));
    const aKeys = aPairs.map(([k]) => keyName(k));
    if (JSON.stringify(eKeys) !== JSON.stringify(aKeys)) return `keys differ: expected ${eKeys.join(",")}, got ${aKeys.join(",")}`;
    for (const k of keys) {
      const ev = ePairs.find(([x]) => keyName(x) === k)?.[1];
      const av = aPairs.find(([x]) => keyName(x) === k)?.[1];
      const d = diff(ev, av, `$.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  if (flags.nondeterministic && cmdName === "FT.AGGREGATE") {
    // The order of the values inside a REDUCE TOLIST list is not a contract.
    return diff(sortInnerLists(expected), sortInnerLists(actual));
  }
  if (flags.nondeterministic && cmdName === "FT.SEARCH") {
    // Which rows come back is unspecified: compare the total and the number of rows only.
    const e = searchRows(expected, flags.ties_unordered?.[0] ?? "");
    const a = searchRows(actual, flags.ties_unordered?.[0] ?? "");
    if (!e || !a) return diff(expected, actual);
    const et = isObj(expected) ? mapGet(expected, "total_results") : (expected as unknown[])[0];
    const at = isObj(actual) ? mapGet(actual, "total_results") : (actual as unknown[])[0];
    if (et !== at) return `total: expected ${String(et)}, got ${String(at)}`;
    if (e.rows.length !== a.rows.length) return `rows: expected ${e.rows.length}, got ${a.rows.length}`;
    for (let i = 0; i < e.values.length; i++) {
      const ev = e.values[i];
      const av = a.values[i];
      if (ev !== undefined && (av === undefined || !close(num(ev), num(av)))) return `row ${i} ${String(ev)} vs ${String(av)}`;
    }
    return undefined;
  }
  if (flags.ties_unordered && flags.ties_unordered.length > 0) {
    const key = flags.ties_unordered[0] as string;
    const e = searchRows(expected, key);
    const a = searchRows(actual, key);
    if (!e || !a || e.rows.length !== a.rows.length) return diff(expected, actual);
    // Put the actual rows of each run of equal expected values in the expected order when they match.
    const reordered = [...a.rows];
    let i = 0;
    while (i < e.rows.length) {
      let j = i + 1;
      while (j < e.rows.length && e.values[j] === e.values[i]) j += 1;
      const d = multisetDiff(e.rows.slice(i, j), a.rows.slice(i, j), `$.rows[${i}..${j - 1}]`);
      if (d) return d;
      for (let x = i; x < j; x++) reordered[x] = e.rows[x];
      i = j;
    }
    return diff(expected, a.rebuild(reordered));
  }
  if (flags.unordered) {
    if (flags.unordered_key !== undefined && isObj(expected) && isObj(actual)) {
      const ep = pairsOf(expected);
      const ap = pairsOf(actual);
      if (!ep || !ap || ep.length !== ap.length) return diff(expected, actual);
      for (let i = 0; i < ep.length; i++) {
        const [ek, ev] = ep[i] as [unknown, unknown];
        const [ak, av] = ap[i] as [unknown, unknown];
        const dk = diff(ek, ak);
        if (dk) return dk;
        const name = keyName(ek);
        const d =
          name === flags.unordered_key && Array.isArray(ev) && Array.isArray(av)
            ? multisetDiff(ev, av, `$.${name}`)
            : diff(ev, av, `$.${name}`);
        if (d) return d;
      }
      return undefined;
    }
    if (isObj(expected) && Array.isArray(expected.map) && isObj(actual) && Array.isArray(actual.map)) {
      return multisetDiff(expected.map, actual.map, "$map");
    }
    const skip = flags.skip ?? 0;
    const group = flags.group ?? 1;
    const eItems = isObj(expected) && Array.isArray(expected.set) ? (expected.set as unknown[]) : Array.isArray(expected) ? expected : undefined;
    const aItems = isObj(actual) && Array.isArray(actual.set) ? (actual.set as unknown[]) : Array.isArray(actual) ? actual : undefined;
    if (!eItems || !aItems) return diff(expected, actual);
    if (isObj(expected) !== isObj(actual)) return diff(expected, actual);
    const head = diff(eItems.slice(0, skip), aItems.slice(0, skip), "$head");
    if (head) return head;
    return multisetDiff(chunk(eItems.slice(skip), group), chunk(aItems.slice(skip), group), "$groups");
  }
  return null;
}

/** A copy of `x` with every array made only of strings sorted (TOLIST lists). */
function sortInnerLists(x: unknown): unknown {
  if (Array.isArray(x)) {
    const items = x.map(sortInnerLists);
    return items.length > 0 && items.every((i) => typeof i === "string") ? [...(items)].sort() : items;
  }
  if (isObj(x) && Array.isArray(x.map)) {
    return { map: (x.map as Array<[unknown, unknown]>).map(([k, v]) => [k, sortInnerLists(v)]) };
  }
  return x;
}

function pairsOf(x: unknown): Array<[unknown, unknown]> | undefined {
  if (isObj(x) && Array.isArray(x.map)) return x.map as Array<[unknown, unknown]>;
  if (Array.isArray(x) && x.length % 2 === 0) return chunk(x, 2) as Array<[unknown, unknown]>;
  return undefined;
}
