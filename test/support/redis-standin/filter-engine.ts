/**
 * The FT.SEARCH pre-filter, parsed and evaluated by vecrec's own filter parser and matcher (src/domain/filter/, in Redis's dialect: vecrec-filter.ts) applied to the hash.
 */
import type { FieldValues } from "../../../src/domain/item.js";
import type { FieldSpec, IndexSpec } from "../../../src/domain/schema.js";
import { parseVecrecFilter, type ParsedFilter } from "./vecrec-filter.js";
import { syntaxError, byteOffset } from "./knn-clause.js";
import { RedisReplyError, type SearchIndex, parseRedisNumber } from "./search-index.js";
import { decodeBlob, vectorDistance } from "./vector-distance.js";

export interface CompiledFilter {
  /** The filter is `*` (no pre-filter). */
  readonly isAll: boolean;
  matches(hash: Map<string, Buffer>): boolean;
  /** A VECTOR_RANGE clause's `$YIELD_DISTANCE_AS`: the distance of a document inside the range. */
  readonly yields?: { readonly name: string; distance(hash: Map<string, Buffer>): number | undefined };
}

const RANGE_RE =
  /@([A-Za-z0-9_]+)\s*:\s*\[\s*VECTOR_RANGE\s+([^\s\]]+)\s+\$([A-Za-z0-9_]+)\s*\](?:\s*=>\s*\{([^}]*)\})?/i;

interface RangeClause {
  readonly inRange: (hash: Map<string, Buffer>) => number | undefined;
  readonly yieldAs: string | undefined;
  readonly rest: string;
  readonly op: "and" | "or";
}

/**
 * Takes one `@vec:[VECTOR_RANGE r $B]=>{$YIELD_DISTANCE_AS: d}` clause out of `text`, with Redis's
 * errors; the rest of the query is combined with it by AND (juxtaposition) or OR (`|` beside it).
 */
function extractRange(text: string, params: ReadonlyMap<string, Buffer>, idx: SearchIndex): RangeClause | undefined {
  const m = RANGE_RE.exec(text);
  if (!m) return undefined;
  const [whole, name = "", radiusTok = "", blobParam = "", attrs] = m;
  const at = byteOffset(text, m.index);
  const f = idx.field(name);
  if (!f) throw new RedisReplyError(`Unknown field at offset ${at} near ${name}`);
  if (f.type !== "VECTOR" || !f.vector) throw new RedisReplyError(`Expected a VECTOR field at offset ${at} near ${name}`);
  const v = f.vector;
  const radiusIndex = text.indexOf(radiusTok, m.index + whole.toUpperCase().indexOf("VECTOR_RANGE") + "VECTOR_RANGE".length);
  let radiusText = radiusTok;
  if (radiusTok.startsWith("$")) {
    const p = params.get(radiusTok.slice(1));
    if (p === undefined) throw new RedisReplyError(`No such parameter \`${radiusTok.slice(1)}\``);
    radiusText = p.toString("utf8");
  }
  const radius = parseRedisNumber(radiusText);
  if (radius === undefined) throw syntaxError(byteOffset(text, radiusIndex), radiusTok);
  if (radius < 0) {
    throw new RedisReplyError(`Error parsing vector similarity query: negative radius (${radiusText}) given in a range query`);
  }
  let yieldAs: string | undefined;
  for (const part of (attrs ?? "").split(";").map((p) => p.trim()).filter((p) => p.length > 0)) {
    const a = /^\$([A-Za-z_]+)\s*:\s*(.+)$/.exec(part);
    const key = a?.[1] ?? part;
    if (key.toUpperCase() === "YIELD_DISTANCE_AS") yieldAs = (a?.[2] ?? "").trim();
    else if (key.toUpperCase() === "EPSILON") {
      if (v.algorithm !== "HNSW") throw new RedisReplyError("Error parsing vector similarity parameters: Invalid option");
    } else throw new RedisReplyError(`Invalid attribute ${key}`);
  }
  const blob = params.get(blobParam);
  if (blob === undefined) throw new RedisReplyError(`No such parameter \`${blobParam}\``);
  const expected = idx.vectorBytes(f);
  if (blob.length !== expected) {
    throw new RedisReplyError(
      `Error parsing vector similarity query: query vector blob size (${blob.length}) does not match index's expected size (${expected}).`,
    );
  }
  const query = decodeBlob(blob, v.dataType);
  const inRange = (hash: Map<string, Buffer>): number | undefined => {
    const raw = hash.get(f.path);
    if (raw === undefined) return undefined;
    const d = vectorDistance(v.metric, v.dataType, decodeBlob(raw, v.dataType), query);
    // The radius is rounded to the distance's type: float32 except for FLOAT64 (seen on 7.4.1).
    return d <= (v.dataType === "FLOAT64" ? radius : Math.fround(radius)) ? d : undefined;
  };
  let before = text.slice(0, m.index);
  let after = text.slice(m.index + whole.length);
  if (before.trimEnd().endsWith("(") && after.trimStart().startsWith(")")) {
    before = before.trimEnd().slice(0, -1);
    after = after.trimStart().slice(1);
  }
  let op: "and" | "or" = "and";
  if (before.trimEnd().endsWith("|")) {
    op = "or";
    before = before.trimEnd().slice(0, -1);
  } else if (after.trimStart().startsWith("|")) {
    op = "or";
    after = after.trimStart().slice(1);
  }
  return { inRange, yieldAs, rest: `${before} ${after}`.trim(), op };
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
export function compileMatcher(
  text: string,
  params: ReadonlyMap<string, Buffer>,
  idx: SearchIndex,
  underKnn: boolean,
): CompiledFilter {
  if (/^\s*\(?\s*\*\s*\)?\s*$/.test(text)) return { isAll: true, matches: () => true };
  const range = extractRange(text, params, idx);
  if (range) {
    const { inRange, yieldAs, op } = range;
    const rest = range.rest === "" ? undefined : compileMatcher(range.rest, params, idx, underKnn);
    const matches =
      op === "or"
        ? (hash: Map<string, Buffer>) => inRange(hash) !== undefined || (rest?.matches(hash) ?? false)
        : (hash: Map<string, Buffer>) => inRange(hash) !== undefined && (rest?.matches(hash) ?? true);
    return yieldAs === undefined
      ? { isAll: false, matches }
      : { isAll: false, matches, yields: { name: yieldAs, distance: inRange } };
  }
  if (text.trim() === "" || text.trim() === "@") return { isAll: false, matches: () => false };
  const parsed: ParsedFilter = parseVecrecFilter(text, params, specOf(idx));
  if (parsed.kind === "stopwords-only") {
    return underKnn ? { isAll: true, matches: () => true } : { isAll: false, matches: () => false };
  }
  return { isAll: false, matches: (hash) => parsed.matcher(fieldValuesOf(idx, hash)) };
}
