/**
 * Validation of a FilterNode against an index spec, before it reaches a store. Every problem is
 * reported (not only the first), each as a FieldViolation on the request field that held the filter.
 */

import type { FieldViolation } from "../errors.js";
import { ANY_TEXT_FIELD, type FilterNode } from "./filter.js";
import type { FieldSpec, IndexSpec } from "../schema.js";
import { isStopWord } from "../text-analysis.js";

/** Most values one tag clause may list. */
export const MAX_TAG_VALUES = 100;
/** Most levels a filter may nest, counting the leaf clause (same limit as the typed proto Filter). */
export const MAX_FILTER_DEPTH = 32;

const WORD = /^[\p{L}\p{M}\p{N}_]+$/u;

type ClauseType = "tag" | "numeric" | "text";

/**
 * Everything wrong with `node` for `spec`, each violation on `field` (e.g. `filter_query`):
 * unknown fields (naming the index's fields of the type the clause needs), fields of the wrong
 * type, tag clauses with no values, empty or blank values, values containing the field's separator
 * (stored tags are split on it, so they could never match) or more than MAX_TAG_VALUES values,
 * NaN bounds, empty numeric ranges (min > max, min +inf, max -inf, or equal bounds with one
 * exclusive), text clauses
 * with no terms, terms that are not single words, or only stop words, and nesting deeper than
 * MAX_FILTER_DEPTH. Identical violations are reported once. An empty list means the filter is valid.
 */
export function filterViolations(node: FilterNode, spec: IndexSpec, field: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const seen = new Set<string>();
  const add = (description: string): void => {
    // The same mistake repeated (e.g. one unknown field in several clauses) is reported once.
    if (seen.has(description)) return;
    seen.add(description);
    violations.push({ field, description });
  };
  const depth = filterDepth(node);
  if (depth > MAX_FILTER_DEPTH) {
    add(`filter nests ${depth} levels deep; at most ${MAX_FILTER_DEPTH} are allowed`);
  }
  visit(node, spec, add);
  return violations;
}

/** Nodes on the longest root-to-leaf path (a lone clause is 1 level), as the typed Filter counts. */
function filterDepth(node: FilterNode): number {
  // Iterative, so that a hostile, very deep tree cannot overflow the stack here.
  let max = 0;
  const stack: [FilterNode, number][] = [[node, 1]];
  while (stack.length > 0) {
    const [n, d] = stack.pop() as [FilterNode, number];
    if (d > max) max = d;
    if (n.op === "and" || n.op === "or") for (const c of n.children) stack.push([c, d + 1]);
    else if (n.op === "not") stack.push([n.child, d + 1]);
  }
  return max;
}

function visit(root: FilterNode, spec: IndexSpec, add: (description: string) => void): void {
  const stack: FilterNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as FilterNode;
    switch (node.op) {
      case "all":
        break;
      case "and":
      case "or":
        if (node.children.length === 0) add(`an "${node.op}" clause needs at least one child`);
        // Reverse so that violations come out in the order the clauses were written.
        for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as FilterNode);
        break;
      case "not":
        stack.push(node.child);
        break;
      case "tag":
        if (checkField(spec, node.field, "tag", add)) checkTag(node.field, node.values, spec, add);
        break;
      case "numeric":
        if (checkField(spec, node.field, "numeric", add)) checkNumeric(node, add);
        break;
      case "text":
        if (node.field === ANY_TEXT_FIELD) {
          if (!spec.fields.some((f) => f.type === "text")) add("a word outside a field clause needs a TEXT field, and the index has none");
        } else if (!checkField(spec, node.field, "text", add)) {
          break;
        }
        checkText(node.field, node.terms, add);
        break;
    }
  }
}

function typeName(type: FieldSpec["type"]): string {
  return type.toUpperCase();
}

function fieldsOfType(spec: IndexSpec, type: ClauseType): string {
  const names = spec.fields.filter((f) => f.type === type).map((f) => f.name);
  return names.length === 0
    ? `index "${spec.name}" has no ${typeName(type)} fields`
    : `${typeName(type)} fields of index "${spec.name}": ${names.join(", ")}`;
}

/** Reports an unknown field or one of another type; true when the field is usable. */
function checkField(spec: IndexSpec, name: string, type: ClauseType, add: (d: string) => void): boolean {
  const fieldSpec = spec.fields.find((f) => f.name === name);
  if (fieldSpec === undefined) {
    add(`unknown field "${name}" (${fieldsOfType(spec, type)})`);
    return false;
  }
  if (fieldSpec.type !== type) {
    add(`field "${name}" is a ${typeName(fieldSpec.type)} field, not ${typeName(type)} (${fieldsOfType(spec, type)})`);
    return false;
  }
  return true;
}

function checkTag(name: string, values: readonly string[], spec: IndexSpec, add: (d: string) => void): void {
  const fieldSpec = spec.fields.find((f) => f.name === name);
  const separator = fieldSpec?.type === "tag" ? fieldSpec.separator : ",";
  if (values.length === 0) add(`tag clause on "${name}" lists no values`);
  if (values.length > MAX_TAG_VALUES) {
    add(`tag clause on "${name}" lists ${values.length} values; at most ${MAX_TAG_VALUES} are allowed`);
  }
  values.forEach((value, i) => {
    if (value.trim() === "") {
      add(`tag value ${i + 1} of "${name}" is empty`);
    } else if (separator !== "" && value.includes(separator)) {
      add(
        `tag value ${JSON.stringify(value)} of "${name}" contains the field's separator ${JSON.stringify(separator)}; ` +
          "stored tags are split on it, so it can never match",
      );
    }
  });
}

function checkNumeric(
  node: { field: string; min: number; max: number; minExclusive: boolean; maxExclusive: boolean },
  add: (d: string) => void,
): void {
  if (Number.isNaN(node.min) || Number.isNaN(node.max)) {
    add(`numeric range on "${node.field}" has a NaN bound`);
    return;
  }
  if (node.min > node.max) {
    add(`numeric range on "${node.field}" is empty: min ${node.min} > max ${node.max}`);
  } else if (node.min === Infinity || node.max === -Infinity) {
    // Stored numbers are finite; Redis also refuses +inf as a lower bound ("Bad lower range: +inf").
    add(`numeric range on "${node.field}" is empty: ${node.min === Infinity ? "min is +inf" : "max is -inf"}`);
  } else if (node.min === node.max && (node.minExclusive || node.maxExclusive)) {
    add(`numeric range on "${node.field}" is empty: equal bounds ${node.min} with an exclusive end`);
  }
}

function checkText(name: string, terms: readonly string[], add: (d: string) => void): void {
  const label = name === ANY_TEXT_FIELD ? "text search" : `text clause on "${name}"`;
  if (terms.length === 0) {
    add(`${label} has no words`);
    return;
  }
  let allStopWords = true;
  for (const term of terms) {
    // A prefix (`alph*`) is refused as the filter string refuses it: the typed tree takes words only.
    if (term.length > 1 && term.endsWith("*") && WORD.test(term.slice(0, -1))) {
      add(`${label}: ${JSON.stringify(term)} is a prefix query, which is not supported (whole words only: letters and digits)`);
      allStopWords = false;
      continue;
    }
    if (!WORD.test(term)) {
      add(`${label}: ${JSON.stringify(term)} is not a single word (letters and digits only)`);
      allStopWords = false;
      continue;
    }
    if (isStopWord(term)) continue;
    allStopWords = false;
  }
  if (allStopWords) {
    add(
      `${label} has only stop words (${terms.join(", ")}): ` +
        "such a clause matches nothing in Redis and everything under KNN",
    );
  }
}
