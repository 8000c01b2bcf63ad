/**
 * Evaluates a FilterNode against an item's metadata with Redis semantics, for the embedded engine
 * (and the Redis test stand-in). The matcher is compiled once per query into closures and is meant
 * to run over every item of an index.
 */

import { ANY_TEXT_FIELD, type FilterNode } from "./filter.js";
import type { FieldValue, FieldValues } from "../item.js";
import type { IndexSpec, TagFieldSpec } from "../schema.js";
import { analyzeText, createTextTermsMatcher, isStopWord, type AnalyzedText } from "../text-analysis.js";

type Matcher = (fields: FieldValues) => boolean;

const MATCH_ALL: Matcher = () => true;
const MATCH_NONE: Matcher = () => false;

// Text values are analysed once per value object, not once per query: items keep their FieldValue
// objects between queries, so repeated text filters over 100k items do not re-tokenise.
const analyzed = new WeakMap<FieldValue, AnalyzedText>();

/** The analysis of a text value, computed once per value object (shared by every matcher over it). */
export function analysisOf(value: FieldValue & { type: "text" }): AnalyzedText {
  let result = analyzed.get(value);
  if (result === undefined) {
    result = analyzeText(value.value);
    analyzed.set(value, result);
  }
  return result;
}

/**
 * Compiles `node` into a predicate over an item's fields. Semantics (Redis's):
 * - tag: the item's tag field holds at least one of the values; compared after trimming and, unless
 *   the field is caseSensitive, Unicode lower-casing;
 * - numeric: `min <(=) value <(=) max`;
 * - text: every term occurs in the field after Redis-like analysis (see text-analysis.ts); field
 *   ANY_TEXT_FIELD means each term in some TEXT field of the spec;
 * - a missing field (or a value of another type) does not match, so its NOT matches;
 * - `all` matches everything.
 * The node is expected to be valid for the spec (see filterViolations); it never throws on items.
 */
export function createFilterMatcher(node: FilterNode, spec: IndexSpec): (fields: FieldValues) => boolean {
  return compile(node, spec);
}

function compile(node: FilterNode, spec: IndexSpec): Matcher {
  switch (node.op) {
    case "all":
      return MATCH_ALL;
    case "tag":
      return compileTag(node.field, node.values, spec);
    case "numeric":
      return compileNumeric(node.field, node.min, node.max, node.minExclusive, node.maxExclusive);
    case "text":
      return compileText(node.field, node.terms, spec);
    case "not": {
      const child = compile(node.child, spec);
      if (child === MATCH_ALL) return MATCH_NONE;
      if (child === MATCH_NONE) return MATCH_ALL;
      return (fields) => !child(fields);
    }
    case "and": {
      // Cheap clauses first: AND stops at the first miss, and text matching costs the most.
      const ordered = [...node.children].sort((a, b) => cost(a) - cost(b));
      const children = ordered.map((c) => compile(c, spec)).filter((m) => m !== MATCH_ALL);
      if (children.includes(MATCH_NONE)) return MATCH_NONE;
      if (children.length === 0) return MATCH_ALL;
      if (children.length === 1) return children[0] as Matcher;
      if (children.length === 2) {
        const [a, b] = children as [Matcher, Matcher];
        return (fields) => a(fields) && b(fields);
      }
      return (fields) => {
        for (const m of children) if (!m(fields)) return false;
        return true;
      };
    }
    case "or": {
      const ordered = mergeTagAlternatives(node.children).sort((a, b) => cost(a) - cost(b));
      const children = ordered.map((c) => compile(c, spec)).filter((m) => m !== MATCH_NONE);
      if (children.includes(MATCH_ALL)) return MATCH_ALL;
      if (children.length === 0) return MATCH_NONE;
      if (children.length === 1) return children[0] as Matcher;
      if (children.length === 2) {
        const [a, b] = children as [Matcher, Matcher];
        return (fields) => a(fields) || b(fields);
      }
      return (fields) => {
        for (const m of children) if (m(fields)) return true;
        return false;
      };
    }
  }
}

/**
 * OR'ed tag conditions on one field become one condition with every value (`@f:{a} | @f:{b}` is
 * `@f:{a | b}`): one set lookup per stored tag instead of one per condition. The merged condition takes
 * the place of the first one; the others are left out.
 */
function mergeTagAlternatives(children: readonly FilterNode[]): FilterNode[] {
  const merged = new Map<string, { index: number; values: string[] }>();
  const out: FilterNode[] = [];
  for (const child of children) {
    if (child.op !== "tag") {
      out.push(child);
      continue;
    }
    const existing = merged.get(child.field);
    if (existing === undefined) {
      merged.set(child.field, { index: out.length, values: [...child.values] });
      out.push(child);
    } else {
      existing.values.push(...child.values);
    }
  }
  for (const [field, { index, values }] of merged) out[index] = { op: "tag", field, values };
  return out;
}

/** A rough relative cost of evaluating `node` on one item (clauses are pure, so order is free). */
function cost(node: FilterNode): number {
  switch (node.op) {
    case "all":
      return 0;
    case "numeric":
      return 1;
    case "tag":
      return 2;
    case "text":
      return 8;
    case "not":
      return cost(node.child);
    case "and":
    case "or": {
      let total = 1;
      for (const c of node.children) total += cost(c);
      return total;
    }
  }
}

function compileTag(field: string, values: readonly string[], spec: IndexSpec): Matcher {
  const fieldSpec = spec.fields.find((f): f is TagFieldSpec => f.name === field && f.type === "tag");
  const caseSensitive = fieldSpec?.caseSensitive ?? false;
  const wanted = new Set(values.map((v) => (caseSensitive ? v.trim() : v.trim().toLowerCase())));
  if (wanted.size === 0) return MATCH_NONE;
  // Stored tags are usually trimmed (and lower case): try them as they are first. trim() and
  // toLowerCase() return the same string without copying when there is nothing to change, which
  // measured several times faster than caching folded values per item.
  if (caseSensitive) {
    return (fields) => {
      const value = fields[field];
      if (value === undefined || value.type !== "tag") return false;
      for (const v of value.values) if (wanted.has(v) || wanted.has(v.trim())) return true;
      return false;
    };
  }
  return (fields) => {
    const value = fields[field];
    if (value === undefined || value.type !== "tag") return false;
    for (const v of value.values) if (wanted.has(v) || wanted.has(v.trim().toLowerCase())) return true;
    return false;
  };
}

function compileNumeric(field: string, min: number, max: number, minExclusive: boolean, maxExclusive: boolean): Matcher {
  if (Number.isNaN(min) || Number.isNaN(max)) return MATCH_NONE;
  return (fields) => {
    const value = fields[field];
    if (value === undefined || value.type !== "numeric") return false;
    const x = value.value;
    // NaN fails every comparison, so it never matches.
    if (minExclusive ? !(x > min) : !(x >= min)) return false;
    if (maxExclusive ? !(x < max) : !(x <= max)) return false;
    return true;
  };
}

function compileText(field: string, terms: readonly string[], spec: IndexSpec): Matcher {
  if (field === ANY_TEXT_FIELD) {
    const textFields = spec.fields.filter((f) => f.type === "text").map((f) => f.name);
    // Each term independently in some TEXT field, like an unscoped Redis query; stop words are
    // dropped from the query and a query of stop words only matches nothing.
    const effective = terms.filter((t) => (t.length > 1 && t.endsWith("*")) || (t.length > 0 && !isStopWord(t)));
    if (effective.length === 0 || textFields.length === 0) return MATCH_NONE;
    const perTerm = effective.map((t) => createTextTermsMatcher([t]));
    return (fields) => {
      for (const m of perTerm) if (!anyTextField(fields, textFields, m)) return false;
      return true;
    };
  }
  const match = createTextTermsMatcher(terms);
  return (fields) => {
    const value = fields[field];
    if (value === undefined || value.type !== "text") return false;
    return match(analysisOf(value));
  };
}

function anyTextField(fields: FieldValues, names: readonly string[], match: (t: AnalyzedText) => boolean): boolean {
  for (const name of names) {
    const value = fields[name];
    if (value !== undefined && value.type === "text" && match(analysisOf(value))) return true;
  }
  return false;
}
