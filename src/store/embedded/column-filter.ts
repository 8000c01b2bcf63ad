/**
 * A FilterNode compiled against an index's field columns (field-columns.ts) into a predicate over row
 * numbers, with exactly the semantics of the domain's matcher (domain/filter/match.ts, Redis's), which
 * it reuses for everything but the row access:
 * - the conditions of a subtree that refers to one field only (a leaf, or an and/or/not whose leaves
 *   all name that field: the OR'ed tag conditions of an `any_of`, say) are evaluated once per distinct
 *   value of the column, by the domain's matcher over that value alone, and remembered for the query:
 *   a row then costs its kind, its value id and one byte read. Values are interned per column, so
 *   rows sharing a text or a tag list share the answer;
 * - once a column's text vocabulary is built (textFieldsOf, FieldColumns.buildTextVocabularies), a
 *   text word that no value of the column can match makes its condition false before the scan, as
 *   Redis's inverted index would find no document for it, and a TEXT value is matched through its key
 *   ids: a table made for the query maps each id to the bits of the query words it satisfies, so a
 *   row costs one table read per word of its text and a few bit tests, whatever the conditions;
 * - a NUMERIC condition reads the column's float64s directly;
 * - `and`/`or` over several fields short-circuit, cheapest child first.
 * No object is made per row. Compile under the index's read lock and use the predicate under it: the
 * columns must not change meanwhile (the remembered answers are by value id).
 */
import { ANY_TEXT_FIELD, type FilterNode } from "../../domain/filter/filter.js";
import { createFilterMatcher } from "../../domain/filter/match.js";
import type { FieldValue } from "../../domain/item.js";
import type { IndexSpec } from "../../domain/schema.js";
import { DEFAULT_STOP_WORDS, stemWord } from "../../domain/text-analysis.js";
import { ABSENT, NUMERIC, TAG, TEXT, type Column, type FieldColumns, type TextVocabulary } from "./field-columns.js";
import { compileTagBits, compileTextKeys } from "./single-field-bits.js";

/** A predicate over row numbers. */
export type RowMatcher = (row: number) => boolean;

const MATCH_ALL: RowMatcher = () => true;
const MATCH_NONE: RowMatcher = () => false;
/** A node that matches nothing (an empty or). */
const NOTHING: FilterNode = { op: "or", children: [] };

/** Compiles `filter` (valid for `spec`) into a predicate over the rows of `columns`. */
export function compileColumnFilter(filter: FilterNode, spec: IndexSpec, columns: FieldColumns): RowMatcher {
  return new Compiler(spec, columns).compile(filter);
}

/** Whether `matcher` is the one that matches no row (the scan can be skipped). */
export function matchesNothing(matcher: RowMatcher): boolean {
  return matcher === MATCH_NONE;
}

/** The TEXT fields whose vocabulary `filter` can use (its text conditions' fields, every TEXT field of the spec for ANY_TEXT_FIELD). */
export function textFieldsOf(filter: FilterNode, spec: IndexSpec): string[] {
  const out = new Set<string>();
  const walk = (node: FilterNode): void => {
    if (node.op === "text") {
      if (node.field !== ANY_TEXT_FIELD) out.add(node.field);
      else for (const f of spec.fields) if (f.type === "text") out.add(f.name);
    } else if (node.op === "not") walk(node.child);
    else if (node.op === "and" || node.op === "or") node.children.forEach(walk);
  };
  walk(filter);
  return [...out];
}

/** The one field every leaf of `node` names, null when none does (`all` only), undefined when several do or one is ANY_TEXT_FIELD. */
function singleField(node: FilterNode): string | null | undefined {
  switch (node.op) {
    case "all":
      return null;
    case "tag":
    case "numeric":
    case "text":
      return node.field === ANY_TEXT_FIELD ? undefined : node.field;
    case "not":
      return singleField(node.child);
    case "and":
    case "or": {
      let field: string | null = null;
      for (const child of node.children) {
        const f = singleField(child);
        if (f === undefined) return undefined;
        if (f === null) continue;
        if (field === null) field = f;
        else if (field !== f) return undefined;
      }
      return field;
    }
  }
}

/** Whether a leaf of `node` (descending and/or/not) passes `test`. */
function someLeaf(node: FilterNode, test: (leaf: FilterNode) => boolean): boolean {
  switch (node.op) {
    case "not":
      return someLeaf(node.child, test);
    case "and":
    case "or":
      return node.children.some((child) => someLeaf(child, test));
    default:
      return test(node);
  }
}

function hasCondition(node: FilterNode): boolean {
  return someLeaf(node, (leaf) => leaf.op !== "all");
}

function hasNumeric(node: FilterNode): boolean {
  return someLeaf(node, (leaf) => leaf.op === "numeric");
}

/** A rough relative cost per row, for ordering and/or children (single-field subtrees cost one lookup). */
function cost(node: FilterNode): number {
  if (node.op === "all") return 0;
  if (singleField(node) !== undefined) return node.op === "numeric" ? 1 : 2;
  if (node.op === "not") return cost(node.child);
  if (node.op === "and" || node.op === "or") return node.children.reduce((total, child) => total + cost(child), 1);
  return 4; // text over every TEXT field
}

class Compiler {
  constructor(
    private readonly spec: IndexSpec,
    private readonly columns: FieldColumns,
  ) {}

  compile(node: FilterNode): RowMatcher {
    const field = singleField(node);
    if (field === null) return createFilterMatcher(node, this.spec)({}) ? MATCH_ALL : MATCH_NONE;
    if (field !== undefined) return this.compileField(node, field);
    switch (node.op) {
      case "text":
        return this.compileAnyTextField(node.terms);
      case "not": {
        const child = this.compile(node.child);
        if (child === MATCH_ALL) return MATCH_NONE;
        if (child === MATCH_NONE) return MATCH_ALL;
        return (row) => !child(row);
      }
      case "and":
      case "or":
        return this.compileJunction(node.op, node.children);
      default:
        // Leaves always have one field (ANY_TEXT_FIELD text is handled above).
        throw new Error(`unexpected filter node ${node.op}`);
    }
  }

  /** and/or over children on several fields: the children on one field grouped, cheapest first. */
  private compileJunction(op: "and" | "or", children: readonly FilterNode[]): RowMatcher {
    const byField = new Map<string, FilterNode[]>();
    const others: FilterNode[] = [];
    for (const child of children) {
      const field = singleField(child);
      if (typeof field === "string") {
        const group = byField.get(field);
        if (group === undefined) byField.set(field, [child]);
        else group.push(child);
      } else {
        others.push(child);
      }
    }
    const parts: FilterNode[] = [...others];
    for (const group of byField.values()) parts.push(group.length === 1 ? (group[0] as FilterNode) : { op, children: group });
    parts.sort((a, b) => cost(a) - cost(b));
    const identity = op === "and" ? MATCH_ALL : MATCH_NONE;
    const absorbing = op === "and" ? MATCH_NONE : MATCH_ALL;
    const compiled = parts.map((part) => this.compile(part)).filter((m) => m !== identity);
    if (compiled.includes(absorbing)) return absorbing;
    if (compiled.length === 0) return identity;
    if (compiled.length === 1) return compiled[0] as RowMatcher;
    if (op === "and") {
      if (compiled.length === 2) {
        const [a, b] = compiled as [RowMatcher, RowMatcher];
        return (row) => a(row) && b(row);
      }
      return (row) => {
        for (const m of compiled) if (!m(row)) return false;
        return true;
      };
    }
    if (compiled.length === 2) {
      const [a, b] = compiled as [RowMatcher, RowMatcher];
      return (row) => a(row) || b(row);
    }
    return (row) => {
      for (const m of compiled) if (m(row)) return true;
      return false;
    };
  }

  /** Text over every TEXT field of the spec: each word in some TEXT field (as the domain's matcher). */
  private compileAnyTextField(terms: readonly string[]): RowMatcher {
    const textFields = this.spec.fields.filter((f) => f.type === "text").map((f) => f.name);
    const effective = terms.filter((t) => (t.length > 1 && t.endsWith("*")) || (t.length > 0 && !DEFAULT_STOP_WORDS.has(t.toLowerCase())));
    if (effective.length === 0 || textFields.length === 0) return MATCH_NONE;
    return this.compile({
      op: "and",
      children: effective.map((term) => ({ op: "or", children: textFields.map((field) => ({ op: "text", field, terms: [term] })) })),
    });
  }

  /** A subtree all of whose conditions name `field`. */
  private compileField(node: FilterNode, field: string): RowMatcher {
    const column = this.columns.column(field);
    const pruned = column === undefined ? node : withoutImpossibleWords(node, column);
    const domain = createFilterMatcher(pruned, this.spec);
    const whenAbsent = domain({});
    // No column, or every condition ruled out by the vocabulary: every row gets the same answer.
    if (column === undefined || !hasCondition(pruned)) return whenAbsent ? MATCH_ALL : MATCH_NONE;
    if (pruned.op === "numeric") return compileNumeric(column, pruned);
    const numeric = { type: "numeric" as const, value: 0 };
    const one: Record<string, FieldValue> = Object.create(null) as Record<string, FieldValue>;
    const ask = (value: FieldValue): boolean => {
      one[field] = value;
      return domain(one);
    };
    // Without a numeric condition, every number gets the same answer (a condition on another type fails).
    const whenNumber = hasNumeric(pruned) ? undefined : ask(numeric);
    const texts = column.texts.values;
    const tags = column.tags.values;
    const vocabulary = column.textVocabulary();
    const byKeys = vocabulary === undefined ? undefined : compileTextKeys(pruned, vocabulary);
    const byTags = compileTagBits(pruned, field, this.spec);
    // 0: not asked yet, 1: no, 2: yes; by value id.
    const textAnswers = new Uint8Array(texts.length);
    const tagAnswers = new Uint8Array(tags.length);
    return (row) => {
      switch (column.kinds[row]) {
        case TEXT: {
          const id = column.refs[row] as number;
          if (byKeys !== undefined) {
            const keys = (vocabulary as TextVocabulary).keysOf[id];
            if (keys !== undefined) {
              let bits = 0;
              for (let i = 0; i < keys.length; i++) bits |= byKeys.bitsOf[keys[i] as number] as number;
              return byKeys.matches(bits);
            }
          }
          let answer = textAnswers[id];
          if (answer === 0 || answer === undefined) {
            answer = ask(texts[id] as FieldValue) ? 2 : 1;
            if (id < textAnswers.length) textAnswers[id] = answer;
          }
          return answer === 2;
        }
        case TAG: {
          const id = column.refs[row] as number;
          if (byTags !== undefined) {
            const value = tags[id];
            if (value !== undefined) return byTags.matches(byTags.bitsOf(value.values));
          }
          let answer = tagAnswers[id];
          if (answer === 0 || answer === undefined) {
            answer = ask(tags[id] as FieldValue) ? 2 : 1;
            if (id < tagAnswers.length) tagAnswers[id] = answer;
          }
          return answer === 2;
        }
        case NUMERIC:
          if (whenNumber !== undefined) return whenNumber;
          numeric.value = column.numbers[row] as number;
          return ask(numeric);
        case ABSENT:
        default:
          return whenAbsent;
      }
    };
  }
}

function compileNumeric(column: Column, node: Extract<FilterNode, { op: "numeric" }>): RowMatcher {
  const { min, max, minExclusive, maxExclusive } = node;
  if (Number.isNaN(min) || Number.isNaN(max)) return MATCH_NONE;
  return (row) => {
    if (column.kinds[row] !== NUMERIC) return false;
    const x = column.numbers[row] as number;
    // NaN fails every comparison, so it never matches.
    if (minExclusive ? !(x > min) : !(x >= min)) return false;
    if (maxExclusive ? !(x < max) : !(x <= max)) return false;
    return true;
  };
}

/**
 * `node` with every text condition holding a word that no text of `column` can match replaced by a
 * condition matching nothing (a text condition needs every word), and the words of the others rarest
 * first (prefixes and stop words last, where the matcher ignores or scans them as before).
 */
function withoutImpossibleWords(node: FilterNode, column: Column): FilterNode {
  switch (node.op) {
    case "text": {
      // Every word must match: the rarest first, so that most values fail at the first lookup.
      const vocabulary = column.textVocabulary();
      if (vocabulary === undefined) return node;
      const rarity = new Map<string, number>();
      for (const raw of node.terms) {
        const term = raw.toLowerCase();
        if ((term.length > 1 && term.endsWith("*")) || term.length === 0 || DEFAULT_STOP_WORDS.has(term)) continue;
        const frequency = vocabulary.frequency(term, stemWord(term));
        if (frequency === 0) return NOTHING;
        rarity.set(raw, frequency);
      }
      const terms = [...node.terms].sort((a, b) => (rarity.get(a) ?? Infinity) - (rarity.get(b) ?? Infinity));
      return { op: "text", field: node.field, terms };
    }
    case "not":
      return { op: "not", child: withoutImpossibleWords(node.child, column) };
    case "and":
    case "or":
      return { op: node.op, children: node.children.map((child) => withoutImpossibleWords(child, column)) };
    default:
      return node;
  }
}
