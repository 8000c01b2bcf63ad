/**
 * The FT.SEARCH pre-filter: Redis's field/parameter/range checks (with its error texts), then vecrec's
 * own filter parser and matcher (src/domain/filter-parser.ts, filter-eval.ts) applied to the hash.
 */
import type { FieldValues } from "../../../src/domain/item.js";
import type { FieldSpec, IndexSpec } from "../../../src/domain/schema.js";
import { byteOffset } from "./knn-clause.js";
import { parseVecrecFilter, type ParsedFilter } from "./vecrec-filter.js";
import { RedisReplyError, type SearchIndex, UnsupportedQueryError, parseRedisNumber } from "./search-index.js";

export interface CompiledFilter {
  /** The filter is `*` (no pre-filter). */
  readonly isAll: boolean;
  matches(hash: Map<string, Buffer>): boolean;
}

/** Formats like C's `%f`. */
const fixed6 = (x: number): string => (Number.isFinite(x) ? x.toFixed(6) : x > 0 ? "inf" : "-inf");

/** The IndexSpec vecrec's matcher understands, built from the index's schema. */
export function specOf(idx: SearchIndex): IndexSpec {
  const fields: FieldSpec[] = idx.fields.map((f): FieldSpec => {
    switch (f.type) {
      case "TEXT":
        return { name: f.name, type: "text", weight: f.weight };
      case "TAG":
        return { name: f.name, type: "tag", separator: f.separator, caseSensitive: f.caseSensitive };
      case "NUMERIC":
        return { name: f.name, type: "numeric" };
      case "VECTOR": {
        const v = f.vector;
        return {
          name: f.name,
          type: "vector",
          dimension: v?.dim ?? 1,
          algorithm: v?.algorithm ?? "FLAT",
          metric: v?.metric ?? "L2",
          elementType: "FLOAT32",
          ...(v?.algorithm === "HNSW" ? { hnsw: { m: v.m, efConstruction: v.efConstruction, efRuntime: v.efRuntime } } : {}),
        };
      }
    }
  });
  return { name: idx.name, fields };
}

/** The hash's indexed values as vecrec FieldValues (tags split on the separator and trimmed). */
export function fieldValuesOf(idx: SearchIndex, hash: Map<string, Buffer>): FieldValues {
  const out: Record<string, FieldValues[string]> = {};
  for (const f of idx.fields) {
    const raw = hash.get(f.path);
    if (raw === undefined) continue;
    const text = raw.toString("utf8");
    if (f.type === "TEXT") out[f.name] = { type: "text", value: text };
    else if (f.type === "TAG") {
      out[f.name] = {
        type: "tag",
        values: text
          .split(f.separator)
          .map((t) => t.trim())
          .filter((t) => t.length > 0),
      };
    } else if (f.type === "NUMERIC") {
      const n = parseRedisNumber(text);
      if (n !== undefined) out[f.name] = { type: "numeric", value: n };
    }
  }
  return out;
}

/**
 * Walks the query text the way Redis's lexer sees it and raises the errors Redis raises before
 * evaluation: missing parameters, unknown fields, a field of the wrong type, bad range bounds.
 */
function precheck(text: string, params: ReadonlyMap<string, Buffer>, idx: SearchIndex): void {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i += 1;
      continue;
    }
    if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (quoted) continue;
    if (c === "$") {
      const m = /^[A-Za-z0-9_]+/.exec(text.slice(i + 1));
      if (m && !params.has(m[0])) throw new RedisReplyError(`No such parameter \`${m[0]}\``);
      continue;
    }
    if (c !== "@") continue;
    const m = /^([A-Za-z0-9_]+)\s*:\s*/.exec(text.slice(i + 1));
    if (!m) continue;
    const name = m[1] as string;
    const opener = text[i + 1 + m[0].length];
    const at = byteOffset(text, i);
    const f = idx.field(name);
    if (!f) throw new RedisReplyError(`Unknown field at offset ${at} near ${name}`);
    if (opener === "{" && f.type !== "TAG") throw new RedisReplyError(`Expected a TAG field at offset ${at} near ${name}`);
    if (opener === "[") {
      const close = text.indexOf("]", i);
      const body = text.slice(i + 2 + m[0].length, close < 0 ? text.length : close).trim();
      if (/^VECTOR_RANGE\b/i.test(body)) throw new UnsupportedQueryError("VECTOR_RANGE");
      if (f.type !== "NUMERIC") throw new RedisReplyError(`Expected a NUMERIC field at offset ${at} near ${name}`);
      const parts = body.split(/\s+/);
      if (parts.length === 2) {
        const bound = (tok: string, which: "lower" | "upper"): number | undefined => {
          let t = tok;
          if (t.startsWith("(")) t = t.slice(1);
          if (t.startsWith("$")) {
            const v = params.get(t.slice(1));
            if (v === undefined) return undefined;
            t = v.toString("utf8");
            if (t.startsWith("(")) t = t.slice(1);
          }
          const n = parseRedisNumber(t);
          if (n === undefined) throw new RedisReplyError(`Bad ${which} range: ${t}`);
          return n;
        };
        const lo = bound(parts[0] as string, "lower");
        const hi = bound(parts[1] as string, "upper");
        if (lo !== undefined && hi !== undefined && lo > hi) {
          throw new RedisReplyError(`Invalid numeric range (min > max): @${name}:[${fixed6(lo)} ${fixed6(hi)}]`);
        }
      }
    }
  }
}

/**
 * Compiles the pre-filter text of FT.SEARCH. `underKnn`: a filter of stop words only then acts as `*`
 * (Redis 8.0.2), while alone it matches nothing. Throws RedisReplyError with Redis's texts.
 */
export function compileFilter(
  text: string,
  params: ReadonlyMap<string, Buffer>,
  idx: SearchIndex,
  underKnn: boolean,
): CompiledFilter {
  if (/^\s*\(?\s*\*\s*\)?\s*$/.test(text)) return { isAll: true, matches: () => true };
  if (text.trim() === "" || text.trim() === "@") return { isAll: false, matches: () => false };
  precheck(text, params, idx);
  const parsed: ParsedFilter = parseVecrecFilter(text, params, specOf(idx));
  if (parsed.kind === "stopwords-only") {
    return underKnn ? { isAll: true, matches: () => true } : { isAll: false, matches: () => false };
  }
  return { isAll: false, matches: (hash) => parsed.matcher(fieldValuesOf(idx, hash)) };
}
