/**
 * Compiles a FilterNode into a Redis Query Engine (DIALECT 2) query string plus PARAMS. No value of
 * the user ever enters the query text: tag values, numeric bounds, text words and excluded ids are all
 * passed as parameters (`$p0`, `$p1`, ...), which the server escapes itself (recorded in
 * shared/conformance 05-filters). The only other text pasted in is field names, which are checked
 * against the identifier pattern here as well, so a bad name fails loudly instead of changing the query.
 */
import type { FilterNode } from "../../domain/filter/filter.js";
import { isStopWord } from "../../domain/text-analysis.js";
import { ID_FIELD } from "./redis-keys.js";

export interface RedisQuery {
  /** The query text, `*` when everything matches. */
  readonly query: string;
  /** Parameter name -> value, in the order the names were generated. */
  readonly params: ReadonlyMap<string, string>;
  /** True when the filter can match nothing (e.g. `NOT *`): the caller skips the search. */
  readonly matchesNothing: boolean;
  /**
   * The parameters used as tag values: on the wire their value must be sent as `tagParamValue(value)`
   * (`params` holds the values to match).
   */
  readonly tagParams: ReadonlySet<string>;
}

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A FilterNode with `all` removed below the top and "matches nothing" made explicit. */
type Simplified = FilterNode | { readonly op: "none" };

function simplify(node: FilterNode): Simplified {
  switch (node.op) {
    case "and": {
      const children: FilterNode[] = [];
      for (const child of node.children) {
        const s = simplify(child);
        if (s.op === "none") return s;
        if (s.op === "all") continue;
        children.push(s);
      }
      if (children.length === 0) return { op: "all" };
      if (children.length === 1) return children[0] as FilterNode;
      return { op: "and", children };
    }
    case "or": {
      const children: FilterNode[] = [];
      for (const child of node.children) {
        const s = simplify(child);
        if (s.op === "all") return s;
        if (s.op === "none") continue;
        children.push(s);
      }
      if (children.length === 0) return { op: "none" };
      if (children.length === 1) return children[0] as FilterNode;
      return { op: "or", children };
    }
    case "not": {
      const child = simplify(node.child);
      if (child.op === "all") return { op: "none" };
      if (child.op === "none") return { op: "all" };
      if (child.op === "not") return child.child;
      return { op: "not", child };
    }
    case "tag":
      return node.values.length === 0 ? { op: "none" } : node;
    case "text": {
      // Redis drops stop words written in a query, but not those passed as $params: `the` would stay a
      // search word that is never indexed, and the clause would match nothing (the embedded engine
      // ignores it). So stop words are left out here, as the query parser would.
      const terms = node.terms.filter((term) => !isStopWord(term));
      return terms.length === 0 ? { op: "all" } : { ...node, terms };
    }
    default:
      return node;
  }
}

/** The query-syntax form of a numeric bound (`-inf` / `+inf` for the open sides). */
export function formatNumericBound(value: number): string {
  if (value === Infinity) return "+inf";
  if (value === -Infinity) return "-inf";
  if (Number.isNaN(value)) throw new RangeError("a numeric filter bound is NaN");
  return String(value);
}

/**
 * A tag value as a parameter: RediSearch unescapes tag query values, parameters included (tag_strtolower
 * in query.c drops a backslash before punctuation or whitespace, so `$p` = `a\-b` looks up `a-b`), while
 * indexed tags keep their backslashes. Doubling every backslash makes the lookup the value itself.
 */
export function tagParamValue(value: string): string {
  return value.replace(/\\/g, "\\\\");
}

/**
 * True when `id` cannot be matched exactly as a tag: RediSearch trims whitespace (C isspace) from the
 * ends of indexed tags but looks query values up untrimmed, so `-@__vecrec_id:{$p}` with `" a"` excludes
 * nothing (and trimming it would exclude `"a"` instead). Such ids are excluded by the caller.
 */
export function isTagInexact(id: string): boolean {
  return /^[ \t\n\v\f\r]|[ \t\n\v\f\r]$/.test(id) || id === "";
}

function checkField(name: string): string {
  if (!FIELD_NAME.test(name)) throw new RangeError(`invalid field name in filter: ${JSON.stringify(name)}`);
  return name;
}

/**
 * Turns `filter` (and the ids to leave out) into parameterised Redis query text.
 * @param paramPrefix prefix of the generated parameter names (`p` gives `$p0`, `$p1`, ...); it must not
 *   collide with the caller's own parameters.
 * @throws RangeError for a field name that is not an identifier or a NaN bound (validation upstream
 *   rejects both; this is the last line against query injection).
 */
export function toRedisQuery(
  filter: FilterNode,
  options: { excludeIds?: readonly string[]; paramPrefix?: string } = {},
): RedisQuery {
  const paramPrefix = options.paramPrefix ?? "p";
  const params = new Map<string, string>();
  const param = (value: string): string => {
    const name = `${paramPrefix}${params.size}`;
    params.set(name, value);
    return `$${name}`;
  };
  const tagParams = new Set<string>();
  const tagParam = (value: string): string => {
    const ref = param(value);
    tagParams.add(ref.slice(1));
    return ref;
  };

  let node: FilterNode = filter;
  const excludeIds = options.excludeIds ?? [];
  if (excludeIds.length > 0) {
    const excluded: FilterNode = { op: "not", child: { op: "tag", field: ID_FIELD, values: excludeIds } };
    node = { op: "and", children: [filter, excluded] };
  }
  const simple = simplify(node);
  if (simple.op === "none") return { query: "*", params, matchesNothing: true, tagParams };
  if (simple.op === "all") return { query: "*", params, matchesNothing: false, tagParams };

  const render = (n: FilterNode): string => {
    switch (n.op) {
      case "all":
        // simplify() leaves `all` only at the top.
        return "*";
      case "tag":
        return `@${checkField(n.field)}:{${n.values.map((v) => tagParam(v)).join(" | ")}}`;
      case "numeric": {
        const lo = `${n.minExclusive && n.min !== -Infinity ? "(" : ""}${param(formatNumericBound(n.min))}`;
        const hi = `${n.maxExclusive && n.max !== Infinity ? "(" : ""}${param(formatNumericBound(n.max))}`;
        return `@${checkField(n.field)}:[${lo} ${hi}]`;
      }
      case "text":
        return `@${checkField(n.field)}:(${n.terms.map(param).join(" ")})`;
      case "and":
        return `(${n.children.map(render).join(" ")})`;
      case "or":
        return `(${n.children.map(render).join(" | ")})`;
      case "not":
        return `-${render(n.child)}`;
    }
  };
  return { query: render(simple), params, matchesNothing: false, tagParams };
}
