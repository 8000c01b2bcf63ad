/** Shared by the filter parser tests: builders for expected trees and a way to catch an error. */
import type { FilterNode } from "../../../../src/domain/filter/filter.js";
import { parseFilterQuery } from "../../../../src/domain/filter/parser.js";
import { redisFilterDialect } from "../../../support/redis-standin/redis-filter-dialect.js";

/** Parses in the Redis test stand-in's dialect, with `params` as PARAMS. */
export const redis = (query: string, params: Record<string, string> = {}): FilterNode =>
  parseFilterQuery(query, redisFilterDialect({ params: new Map(Object.entries(params)) }));

export function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

// The tree builders are the shared ones, under the short names these tests use.
export { range as num, tagFilter as tag, textFilter as text } from "../../../support/filter-builders.js";
