/**
 * The FT.SEARCH pre-filter, parsed and evaluated by vecrec's own filter parser and matcher (src/domain/filter-parser.ts, filter-eval.ts) applied to the hash.
 */
import type { FieldValues } from "../../../src/domain/item.js";
import type { FieldSpec, IndexSpec } from "../../../src/domain/schema.js";
import { parseVecrecFilter, type ParsedFilter } from "./vecrec-filter.js";
import { type SearchIndex, parseRedisNumber } from "./search-index.js";

export interface CompiledFilter {
  /** The filter is `*` (no pre-filter). */
  readonly isAll: boolean;
  matches(hash: Map<string, Buffer>): boolean;
}

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
  const parsed: ParsedFilter = parseVecrecFilter(text, params, specOf(idx));
  if (parsed.kind === "stopwords-only") {
    return underKnn ? { isAll: true, matches: () => true } : { isAll: false, matches: () => false };
  }
  return { isAll: false, matches: (hash) => parsed.matcher(fieldValuesOf(idx, hash)) };
}
