/**
 * The proto Filter tree and the filter string -> FilterNode, or Undecodable naming what is wrong with
 * their shape. Field names, types and values are checked by the use cases against the index spec
 * (filterViolations).
 */
import { MATCH_ALL, type FilterNode } from "../domain/filter/filter.js";
import { FilterSyntaxError } from "../domain/filter/errors.js";
import { FilterBudget, filterSizeViolation, MAX_FILTER_QUERY_BYTES } from "../domain/filter/limits.js";
import { parseFilterQuery } from "../domain/filter/parser.js";
import { utf8ByteLength } from "../domain/request-limits.js";
// The typed tree has the limits of a filter string (TagCondition.values 1..100, see the proto).
import { MAX_FILTER_DEPTH, MAX_TAG_VALUES } from "../domain/filter/validate.js";
import { Undecodable, ViolationCollector, type Decoded } from "../domain/violations.js";
import { TagMatch, type Filter } from "../gen/vecrec/v1/vecrec.js";

/**
 * Translates a typed proto Filter tree into a FilterNode, checking only its shape (a condition set, 1..100
 * tag values, a known TagMatch, words in a text condition, non-empty lists, at most MAX_FILTER_DEPTH
 * levels, at most MAX_FILTER_CLAUSES conditions and MAX_FILTER_VALUES values). Every bad node is reported,
 * each at its path under `path`, except past the size bounds: translation stops there, with one
 * violation on `path` naming the bound, so a filter of 2,000 clauses costs no more than one of 33.
 */
export function translateFilterTree(filter: Filter, path: string): Decoded<FilterNode> {
  const violations = new ViolationCollector(path);
  const budget = new FilterBudget();
  const node = translateNode(filter, violations, 1, budget);
  const oversize = budget.describe();
  if (oversize !== undefined) violations.add(oversize);
  return node === undefined || violations.count > 0 ? new Undecodable(violations.violations) : node;
}

function translateNode(filter: Filter, at: ViolationCollector, depth: number, budget: FilterBudget): FilterNode | undefined {
  if (budget.exceeded) return undefined;
  if (depth > MAX_FILTER_DEPTH) {
    at.add(`filters may nest at most ${MAX_FILTER_DEPTH} levels`);
    return undefined;
  }
  const condition = filter.condition;
  if (condition === undefined) {
    at.add("no condition set: set one of tag, numeric, text, all_of, any_of, none_of");
    return undefined;
  }
  switch (condition.$case) {
    case "tag": {
      const { field, values, match } = condition.value;
      if (!budget.spend(values.length)) return undefined;
      if (values.length === 0 || values.length > MAX_TAG_VALUES) {
        at.at("tag", "values").add(`give 1..${MAX_TAG_VALUES} values, got ${values.length}`);
        return undefined;
      }
      if (match === TagMatch.TAG_MATCH_UNSPECIFIED || match === TagMatch.TAG_MATCH_ANY) {
        return { op: "tag", field, values: [...values] };
      }
      if (match === TagMatch.TAG_MATCH_ALL) {
        return { op: "and", children: values.map((value): FilterNode => ({ op: "tag", field, values: [value] })) };
      }
      at.at("tag", "match").add(`unknown TagMatch value ${match}`);
      return undefined;
    }
    case "numeric": {
      if (!budget.spend(0)) return undefined;
      const c = condition.value;
      return {
        op: "numeric",
        field: c.field,
        min: c.min ?? Number.NEGATIVE_INFINITY,
        max: c.max ?? Number.POSITIVE_INFINITY,
        minExclusive: c.minExclusive,
        maxExclusive: c.maxExclusive,
      };
    }
    case "text": {
      const terms = condition.value.words.split(" ").filter((word) => word !== "");
      if (!budget.spend(terms.length, terms.length)) return undefined;
      if (terms.length === 0) {
        at.at("text", "words").add("give at least one word");
        return undefined;
      }
      return { op: "text", field: condition.value.field, terms };
    }
    case "allOf":
    case "anyOf":
    case "noneOf": {
      const name = condition.$case === "allOf" ? "all_of" : condition.$case === "anyOf" ? "any_of" : "none_of";
      const list = condition.value.filters;
      if (list.length === 0) {
        at.at(name, "filters").add("give at least one filter");
        return undefined;
      }
      const children: FilterNode[] = [];
      let ok = true;
      for (let i = 0; i < list.length && !budget.exceeded; i++) {
        const node = translateNode(list[i] as Filter, at.at(name, "filters", i), depth + 1, budget);
        if (node === undefined) ok = false;
        else children.push(node);
      }
      if (!ok) return undefined;
      if (condition.$case === "allOf") return { op: "and", children };
      if (condition.$case === "anyOf") return { op: "or", children };
      return { op: "not", child: { op: "or", children } };
    }
  }
}

/** The filter of a request and the request field it came from (which the use case names in violations). */
export interface RequestFilter<F extends string> {
  readonly filter: Decoded<FilterNode>;
  readonly field: F;
}

/**
 * Decodes the pair (typed filter, filter string) of a request: at most one may be set; neither means
 * match everything. A FilterSyntaxError is Undecodable on the string field; its message names the offset.
 */
export function decodeRequestFilter<T extends string, Q extends string>(
  typed: Filter | undefined,
  query: string,
  names: { typed: T; query: Q },
): RequestFilter<T | Q> {
  if (typed !== undefined && query !== "") {
    const both = new Undecodable({ field: names.query, description: `set at most one of ${names.typed} and ${names.query}` });
    return { filter: both, field: names.query };
  }
  if (typed !== undefined) return { filter: translateFilterTree(typed, names.typed), field: names.typed };
  if (query === "") return { filter: MATCH_ALL, field: names.typed };
  const bytes = utf8ByteLength(query);
  if (bytes > MAX_FILTER_QUERY_BYTES) {
    const description = `is ${bytes} bytes long; at most ${MAX_FILTER_QUERY_BYTES} are allowed`;
    return { filter: new Undecodable({ field: names.query, description }), field: names.query };
  }
  try {
    const filter = parseFilterQuery(query);
    const oversize = filterSizeViolation(filter);
    if (oversize !== undefined) return { filter: new Undecodable({ field: names.query, description: oversize }), field: names.query };
    return { filter, field: names.query };
  } catch (error: unknown) {
    if (error instanceof FilterSyntaxError) {
      return { filter: new Undecodable({ field: names.query, description: error.message }), field: names.query };
    }
    throw error;
  }
}
