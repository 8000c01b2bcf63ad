/**
 * Adapter over vecrec's filter parser and matcher (engineer A): parses the pre-filter with parameters
 * and maps FilterSyntaxError to Redis's `Syntax error at offset N near X` text.
 */
import type { FieldValues } from "../../../src/domain/item.js";
import type { IndexSpec } from "../../../src/domain/schema.js";
import { UnsupportedQueryError } from "./search-index.js";

export type ParsedFilter =
  | { readonly kind: "stopwords-only" }
  | { readonly kind: "filter"; readonly matcher: (fields: FieldValues) => boolean };

/** Throws RedisReplyError (syntax errors) or UnsupportedQueryError. */
export function parseVecrecFilter(_text: string, _params: ReadonlyMap<string, Buffer>, _spec: IndexSpec): ParsedFilter {
  throw new UnsupportedQueryError("pre-filters yet (filter-parser.ts has not landed)");
}
