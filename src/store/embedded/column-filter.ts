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
import type { IndexSpec, TagFieldSpec } from "../../domain/schema.js";
import { DEFAULT_STOP_WORDS, stemWord } from "../../domain/text-analysis.js";
import { ABSENT, NUMERIC, TAG, TEXT, type Column, type FieldColumns, type TextVocabulary } from "./field-columns.js";

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

function hasCondition(node: FilterNode): boolean {
  switch (node.op) {
    case "all":
      return false;
    case "not":
      return hasCondition(node.child);
    case "and":
    case "or":
      return node.children.some(hasCondition);
    default:
      return true;
  }
}

function hasNumeric(node: FilterNode): boolean {
  switch (node.op) {
    case "numeric":
      return true;
    case "not":
      return hasNumeric(node.child);
    case "and":
    case "or":
      return node.children.some(hasNumeric);
    default:
      return false;
  }
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

/**
 * A single-field subtree as seen by a TEXT value, through its key ids (TextVocabulary.keysOf): each
 * distinct query word gets a bit; `bitsOf[key]` holds the bits of the words the key satisfies (by
 * createTextTermsMatcher's rule: the word's stem as a stem or a word, or the word itself as a word);
 * `matches(bits)` evaluates the subtree on the OR of a value's keys' bits (tag and numeric conditions
 * fail on a text value). Undefined when a word is a prefix (matched by scanning the words instead) or
 * when there are more than 31 distinct words.
 */
function compileTextKeys(node: FilterNode, vocabulary: TextVocabulary): { bitsOf: Int32Array; matches: (bits: number) => boolean } | undefined {
  const bitOf = new Map<string, number>();
  const bitsOf = new Int32Array(vocabulary.keyCount);
  let impossible = false;
  const mark = (key: number | undefined, bit: number): void => {
    if (key !== undefined) bitsOf[key] = (bitsOf[key] as number) | bit;
  };
  const build = (n: FilterNode): ((bits: number) => boolean) | undefined => {
    switch (n.op) {
      case "all":
        return () => true;
      case "tag":
      case "numeric":
        return () => false;
      case "text": {
        let required = 0;
        for (const raw of n.terms) {
          const term = raw.toLowerCase();
          if (term.length > 1 && term.endsWith("*")) return undefined;
          if (term.length === 0 || DEFAULT_STOP_WORDS.has(term)) continue;
          let bit = bitOf.get(term);
          if (bit === undefined) {
            if (bitOf.size === 31) {
              impossible = true;
              return undefined;
            }
            bit = 1 << bitOf.size;
            bitOf.set(term, bit);
            const stem = stemWord(term);
            mark(vocabulary.keyId("s", stem), bit);
            mark(vocabulary.keyId("w", stem), bit);
            mark(vocabulary.keyId("w", term), bit);
          }
          required |= bit;
        }
        if (required === 0) return () => false; // only stop words: matches nothing
        const all = required;
        return (bits) => (bits & all) === all;
      }
      case "not": {
        const child = build(n.child);
        return child === undefined ? undefined : (bits) => !child(bits);
      }
      case "and":
      case "or": {
        const children: ((bits: number) => boolean)[] = [];
        for (const c of n.children) {
          const child = build(c);
          if (child === undefined) return undefined;
          children.push(child);
        }
        return junction(n.op, children);
      }
    }
  };
  const matches = build(node);
  return matches === undefined || impossible ? undefined : { bitsOf, matches };
}

/**
 * A single-field subtree as seen by a TAG value: each tag condition gets a bit; `bitsOf(tags)` gives
 * the bits of the conditions some tag satisfies (as the domain's matcher compares: the tag as stored,
 * or trimmed and, unless the field is case-sensitive, lower-cased, against the trimmed (lower-cased)
 * values); `matches(bits)` evaluates the subtree (text and numeric conditions fail on a tag value).
 * Undefined over 31 tag conditions.
 */
function compileTagBits(node: FilterNode, field: string, spec: IndexSpec): { bitsOf: (tags: readonly string[]) => number; matches: (bits: number) => boolean } | undefined {
  const fieldSpec = spec.fields.find((f): f is TagFieldSpec => f.name === field && f.type === "tag");
  const caseSensitive = fieldSpec?.caseSensitive ?? false;
  const normal = caseSensitive ? (v: string) => v.trim() : (v: string) => v.trim().toLowerCase();
  const bitsOfValue = new Map<string, number>();
  let conditions = 0;
  /** One bit for a tag condition with `values` (or for OR'ed tag conditions: all their values). */
  const leaf = (values: readonly string[]): ((bits: number) => boolean) | undefined => {
    if (conditions === 31) return undefined;
    const bit = 1 << conditions++;
    for (const v of values) {
      const wanted = normal(v);
      bitsOfValue.set(wanted, (bitsOfValue.get(wanted) ?? 0) | bit);
    }
    return (bits) => (bits & bit) !== 0;
  };
  const build = (n: FilterNode): ((bits: number) => boolean) | undefined => {
    if (n.op === "or" && n.children.some((c) => c.op === "tag")) {
      const merged = leaf(n.children.flatMap((c) => (c.op === "tag" ? c.values : [])));
      if (merged === undefined) return undefined;
      const rest = n.children.filter((c) => c.op !== "tag");
      if (rest.length === 0) return merged;
      const others = build({ op: "or", children: rest });
      if (others === undefined) return undefined;
      return (bits) => merged(bits) || others(bits);
    }
    switch (n.op) {
      case "all":
        return () => true;
      case "text":
      case "numeric":
        return () => false;
      case "tag":
        return leaf(n.values);
      case "not": {
        const child = build(n.child);
        return child === undefined ? undefined : (bits) => !child(bits);
      }
      case "and":
      case "or": {
        const children: ((bits: number) => boolean)[] = [];
        for (const c of n.children) {
          const child = build(c);
          if (child === undefined) return undefined;
          children.push(child);
        }
        return junction(n.op, children);
      }
    }
  };
  const matches = build(node);
  if (matches === undefined) return undefined;
  return {
    matches,
    bitsOf: (tags) => {
      let bits = 0;
      for (const v of tags) {
        bits |= bitsOfValue.get(v) ?? 0;
        const folded = normal(v);
        if (folded !== v) bits |= bitsOfValue.get(folded) ?? 0;
      }
      return bits;
    },
  };
}

/** and/or over predicates of bits. */
function junction(op: "and" | "or", children: readonly ((bits: number) => boolean)[]): (bits: number) => boolean {
  if (children.length === 1) return children[0] as (bits: number) => boolean;
  if (op === "and") {
    return (bits) => {
      for (const c of children) if (!c(bits)) return false;
      return true;
    };
  }
  return (bits) => {
    for (const c of children) if (c(bits)) return true;
    return false;
  };
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
