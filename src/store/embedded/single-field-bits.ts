/**
 * The single-field subtrees of a filter (a leaf, or an and/or/not whose leaves all name one field) as
 * predicates over bits, for column-filter.ts: each distinct condition of the subtree gets one bit, a
 * column value is turned into the bits of the conditions it satisfies (once per distinct value, or per
 * text key), and the subtree is evaluated on those bits. Same semantics as the domain's matcher
 * (domain/filter/match.ts): the query words are analysed as createTextTermsMatcher does, tags compared
 * as the tag field's case sensitivity says.
 */
import type { FilterNode } from "../../domain/filter/filter.js";
import type { IndexSpec, TagFieldSpec } from "../../domain/schema.js";
import { DEFAULT_STOP_WORDS, stemWord } from "../../domain/text-analysis.js";
import type { TextVocabulary } from "./field-columns.js";

/**
 * A single-field subtree as seen by a TEXT value, through its key ids (TextVocabulary.keysOf): each
 * distinct query word gets a bit; `bitsOf[key]` holds the bits of the words the key satisfies (by
 * createTextTermsMatcher's rule: the word's stem as a stem or a word, or the word itself as a word);
 * `matches(bits)` evaluates the subtree on the OR of a value's keys' bits (tag and numeric conditions
 * fail on a text value). Undefined when a word is a prefix (matched by scanning the words instead) or
 * when there are more than 31 distinct words.
 */
export function compileTextKeys(node: FilterNode, vocabulary: TextVocabulary): { bitsOf: Int32Array; matches: (bits: number) => boolean } | undefined {
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
      case "not":
      case "and":
      case "or":
        return combined(n, build);
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
export function compileTagBits(node: FilterNode, field: string, spec: IndexSpec): { bitsOf: (tags: readonly string[]) => number; matches: (bits: number) => boolean } | undefined {
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
      case "not":
      case "and":
      case "or":
        return combined(n, build);
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

type BitsPredicate = (bits: number) => boolean;

/**
 * A not/and/or node over its children's predicates (`build` gives each child's; undefined when one has
 * none, and then the node has none either).
 */
function combined(
  node: Extract<FilterNode, { op: "not" | "and" | "or" }>,
  build: (child: FilterNode) => BitsPredicate | undefined,
): BitsPredicate | undefined {
  if (node.op === "not") {
    const child = build(node.child);
    return child === undefined ? undefined : (bits) => !child(bits);
  }
  const children: BitsPredicate[] = [];
  for (const c of node.children) {
    const child = build(c);
    if (child === undefined) return undefined;
    children.push(child);
  }
  if (children.length === 1) return children[0];
  if (node.op === "and") {
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
