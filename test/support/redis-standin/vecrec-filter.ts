/**
 * Adapter over vecrec's filter parser and matcher (src/domain/filter/parser.ts, match.ts) in Redis's
 * dialect (redis-filter-dialect.ts): parses the pre-filter with PARAMS and the schema's field types,
 * and turns the dialect's errors (which carry Redis's texts) into error replies.
 */
import { FilterSyntaxError } from "../../../src/domain/filter/errors.js";
import type { FilterNode } from "../../../src/domain/filter/filter.js";
import { createFilterMatcher } from "../../../src/domain/filter/match.js";
import { parseFilterQuery } from "../../../src/domain/filter/parser.js";
import type { FieldValues } from "../../../src/domain/item.js";
import type { IndexSpec } from "../../../src/domain/schema.js";
import { isStopWord } from "../../../src/domain/text-analysis.js";
import {
  FilterFieldError,
  FilterValueError,
  MissingParameterError,
  redisFilterDialect,
  type SchemaFieldType,
  UnsupportedFilterSyntaxError,
} from "./redis-filter-dialect.js";
import { RedisReplyError, UnsupportedQueryError } from "./search-index.js";

export type ParsedFilter =
  | { readonly kind: "stopwords-only" }
  | { readonly kind: "filter"; readonly matcher: (fields: FieldValues) => boolean };

function stopWordsOnly(node: FilterNode): boolean {
  return node.op === "text" && node.terms.length > 0 && node.terms.every((t) => !t.endsWith("*") && isStopWord(t.toLowerCase()));
}

/** C isspace() in the C locale: what RediSearch trims from indexed tags (TagIndex_SepString). */
const EDGE_SPACE = /^[ \t\n\v\f\r]|[ \t\n\v\f\r]$/;
/**
 * Stands for a tag query value no indexed tag can equal: indexed tags never start or end with
 * whitespace, and no test writes this one.
 */
const NEVER_INDEXED = "\u0000never-an-indexed-tag\u0000";

/**
 * What RediSearch does to a tag query value before the lookup (tag_strtolower in query.c): a backslash
 * before punctuation or whitespace is dropped (`a\-b` looks up `a-b`, `a\\b` looks up `a\b`).
 * A parameter value gets this too: the server unescapes it although it never went through the lexer.
 */
export function unescapeTagQueryValue(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    const next = value[i + 1];
    if (c === "\\" && next !== undefined && isPunctOrSpace(next)) {
      out += next;
      i++;
      continue;
    }
    out += c;
  }
  return out;
}

/** C ispunct() || isspace() for one character (ASCII only, as in the C locale). */
function isPunctOrSpace(c: string): boolean {
  return /^[!-/:-@[-`{-~ \t\n\v\f\r]$/.test(c);
}

/**
 * The PARAMS as a tag lookup sees them: every parameter written inside the braces of a TAG clause
 * (`@f:{$a | $b}`) is unescaped like the server does, and a value that then starts or ends with
 * whitespace is replaced by one that matches nothing: the server looks the value up as it is, and
 * indexed tags are trimmed (vecrec's matcher would trim the query value too).
 */
function tagParamsAsLookedUp(
  text: string,
  params: ReadonlyMap<string, string>,
  fieldTypes: ReadonlyMap<string, SchemaFieldType>,
): Map<string, string> {
  const out = new Map(params);
  for (const clause of text.matchAll(/@([A-Za-z_][A-Za-z0-9_]*)\s*:\s*\{([^}]*)\}/g)) {
    if (fieldTypes.get(clause[1] as string) !== "tag") continue;
    for (const ref of (clause[2] as string).matchAll(/\$([A-Za-z0-9_]+)/g)) {
      const name = ref[1] as string;
      const value = params.get(name);
      if (value === undefined) continue;
      const looked = unescapeTagQueryValue(value);
      out.set(name, EDGE_SPACE.test(looked) ? NEVER_INDEXED : looked);
    }
  }
  return out;
}

/**
 * Parses `text` for an index with `spec`. Throws RedisReplyError carrying Redis's error text, or
 * UnsupportedQueryError for valid Redis syntax vecrec does not implement (phrases, VECTOR_RANGE...).
 */
export function parseVecrecFilter(text: string, params: ReadonlyMap<string, Buffer>, spec: IndexSpec): ParsedFilter {
  const fieldTypes = new Map<string, SchemaFieldType>(spec.fields.map((f) => [f.name, f.type]));
  const textParams = tagParamsAsLookedUp(
    text,
    new Map<string, string>([...params].map(([k, v]) => [k, v.toString("utf8")])),
    fieldTypes,
  );
  let node: FilterNode;
  try {
    node = parseFilterQuery(text, redisFilterDialect({ params: textParams, fieldTypes }));
  } catch (e) {
    if (e instanceof UnsupportedFilterSyntaxError) throw new UnsupportedQueryError(e.message);
    if (
      e instanceof FilterSyntaxError ||
      e instanceof FilterFieldError ||
      e instanceof FilterValueError ||
      e instanceof MissingParameterError
    ) {
      throw new RedisReplyError(e.message);
    }
    throw e;
  }
  if (stopWordsOnly(node)) return { kind: "stopwords-only" };
  return { kind: "filter", matcher: createFilterMatcher(node, spec) };
}
