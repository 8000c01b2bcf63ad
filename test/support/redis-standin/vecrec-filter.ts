/**
 * Adapter over vecrec's filter parser and matcher (src/domain/filter-parser.ts, filter-eval.ts) in
 * their Redis mode: parses the pre-filter with PARAMS and the schema's field types, and turns their
 * errors (which carry Redis's texts) into error replies.
 */
import {
  FilterFieldError,
  FilterSyntaxError,
  FilterValueError,
  MissingParameterError,
  type SchemaFieldType,
  UnsupportedFilterSyntaxError,
  parseFilterQueryForSchema,
} from "../../../src/domain/filter-parser.js";
import { createFilterMatcher } from "../../../src/domain/filter-eval.js";
import type { FilterNode } from "../../../src/domain/filter.js";
import type { FieldValues } from "../../../src/domain/item.js";
import type { IndexSpec } from "../../../src/domain/schema.js";
import { isStopWord } from "../../../src/domain/text-analysis.js";
import { RedisReplyError, UnsupportedQueryError } from "./search-index.js";

export type ParsedFilter =
  | { readonly kind: "stopwords-only" }
  | { readonly kind: "filter"; readonly matcher: (fields: FieldValues) => boolean };

function stopWordsOnly(node: FilterNode): boolean {
  return node.op === "text" && node.terms.length > 0 && node.terms.every((t) => !t.endsWith("*") && isStopWord(t.toLowerCase()));
}

/**
 * Parses `text` for an index with `spec`. Throws RedisReplyError carrying Redis's error text, or
 * UnsupportedQueryError for valid Redis syntax vecrec does not implement (phrases, VECTOR_RANGE...).
 */
export function parseVecrecFilter(text: string, params: ReadonlyMap<string, Buffer>, spec: IndexSpec): ParsedFilter {
  const fieldTypes = new Map<string, SchemaFieldType>(spec.fields.map((f) => [f.name, f.type]));
  const textParams = new Map<string, string>([...params].map(([k, v]) => [k, v.toString("utf8")]));
  let node: FilterNode;
  try {
    node = parseFilterQueryForSchema(text, { params: textParams, fieldTypes });
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
