/**
 * The proto Filter tree and the filter string -> FilterNode. Field names, types and values are checked
 * by the use cases against the index spec (filterViolations); this only checks the shape.
 */
import type { FieldViolation } from "../domain/errors.js";
import { MATCH_ALL, type FilterNode } from "../domain/filter/filter.js";
import { FilterSyntaxError } from "../domain/filter/errors.js";
import { parseFilterQuery } from "../domain/filter/parser.js";
import { TagMatch, type Filter } from "../gen/vecrec/v1/vecrec.js";

/** Deeper trees are rejected: nobody writes them by hand and recursion must stay bounded. */
export const MAX_FILTER_DEPTH = 32;
/** TagCondition.values: 1..100 (see the proto). */
export const MAX_TAG_VALUES = 100;

/** Compiles a typed proto Filter; pushes violations (with proto paths under `path`) and returns undefined on bad shape. */
export function compileFilter(
  filter: Filter,
  path: string,
  violations: FieldViolation[],
  depth = 1,
): FilterNode | undefined {
  if (depth > MAX_FILTER_DEPTH) {
    violations.push({ field: path, description: `filters may nest at most ${MAX_FILTER_DEPTH} levels` });
    return undefined;
  }
  const condition = filter.condition;
  if (condition === undefined) {
    violations.push({
      field: path,
      description: "no condition set: set one of tag, numeric, text, all_of, any_of, none_of",
    });
    return undefined;
  }
  switch (condition.$case) {
    case "tag": {
      const { field, values, match } = condition.value;
      const at = `${path}.tag`;
      if (values.length === 0 || values.length > MAX_TAG_VALUES) {
        violations.push({ field: `${at}.values`, description: `give 1..${MAX_TAG_VALUES} values, got ${values.length}` });
        return undefined;
      }
      if (match === TagMatch.TAG_MATCH_UNSPECIFIED || match === TagMatch.TAG_MATCH_ANY) {
        return { op: "tag", field, values: [...values] };
      }
      if (match === TagMatch.TAG_MATCH_ALL) {
        return { op: "and", children: values.map((value): FilterNode => ({ op: "tag", field, values: [value] })) };
      }
      violations.push({ field: `${at}.match`, description: `unknown TagMatch value ${match}` });
      return undefined;
    }
    case "numeric": {
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
      if (terms.length === 0) {
        violations.push({ field: `${path}.text.words`, description: "give at least one word" });
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
        violations.push({ field: `${path}.${name}.filters`, description: "give at least one filter" });
        return undefined;
      }
      const children: FilterNode[] = [];
      let ok = true;
      list.forEach((child, i) => {
        const node = compileFilter(child, `${path}.${name}.filters[${i}]`, violations, depth + 1);
        if (node === undefined) ok = false;
        else children.push(node);
      });
      if (!ok) return undefined;
      if (condition.$case === "allOf") return { op: "and", children };
      if (condition.$case === "anyOf") return { op: "or", children };
      return { op: "not", child: { op: "or", children } };
    }
  }
}

/** The filter of a request and the proto field the use case names in its violations. */
export interface RequestFilter<F extends string> {
  readonly node: FilterNode;
  readonly field: F;
}

/**
 * Resolves the pair (typed filter, filter string) of a request: at most one may be set; neither means
 * match everything. A FilterSyntaxError becomes a violation on the string field; its message names the offset.
 * Returns undefined when violations were pushed.
 */
export function resolveRequestFilter<T extends string, Q extends string>(
  typed: Filter | undefined,
  query: string,
  names: { typed: T; query: Q },
  violations: FieldViolation[],
): RequestFilter<T | Q> | undefined {
  if (typed !== undefined && query !== "") {
    violations.push({ field: names.query, description: `set at most one of ${names.typed} and ${names.query}` });
    return undefined;
  }
  if (typed !== undefined) {
    const node = compileFilter(typed, names.typed, violations);
    return node === undefined ? undefined : { node, field: names.typed };
  }
  if (query === "") return { node: MATCH_ALL, field: names.typed };
  try {
    return { node: parseFilterQuery(query), field: names.query };
  } catch (error: unknown) {
    if (error instanceof FilterSyntaxError) {
      violations.push({ field: names.query, description: error.message });
      return undefined;
    }
    throw error;
  }
}
