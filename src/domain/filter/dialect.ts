/**
 * A filter dialect: what the one grammar (parser.ts) accepts beyond the strict subset users write,
 * how `$name` parameters and words resolve, and how errors read. USER_DIALECT, below, is the default
 * and what SearchRequest.filter_query is parsed with. The Redis test stand-in passes its own dialect
 * (test/support/redis-standin/redis-filter-dialect.ts: Redis's lexer rules, PARAMS read the way
 * strtod reads them, Redis's exact error texts), so what users are told and what the stand-in
 * replays come from the same grammar and cannot drift apart.
 */

import { FilterSyntaxError } from "./errors.js";

/**
 * Parts of Redis's DIALECT 2 grammar beyond the strict subset. The parser recognises every one of
 * them; a dialect that does not accept one gets a syntax error explaining it at the token where it
 * stands.
 */
export type GrammarExtension =
  /** Stray ASCII punctuation is skipped, as Redis's lexer does (`@a:{x}, @b:{y}`, `@c:{tab.sep}`). */
  | "skipped-punctuation"
  /** Words outside a field clause, searched in every TEXT field (text nodes on ANY_TEXT_FIELD). */
  | "bare-words"
  /** `|`, `-` and parentheses inside a text clause: `@f:(quick | -lazy)`. */
  | "text-operators"
  /** `word*` (and `$name*`) prefix terms in text clauses. */
  | "prefixes"
  /** `web-2` in a tag value read as the two words `web -2`, as Redis's lexer reads it. */
  | "split-tag-words";

export type ClauseKind = "tag" | "numeric" | "text";

/** How a dialect looks up `$name` parameters (Redis's PARAMS). */
export interface FilterParameters {
  /** `$name` as a tag value's word or a text term; throws when there is no such parameter. */
  text(name: string): string;
  /**
   * `$name` as a numeric bound: `min` or `max` of `[$a $b]`, or `single` for `[$a]`; throws when
   * there is no such parameter or it does not read as that bound.
   */
  number(name: string, bound: "min" | "max" | "single"): number;
}

/** A tag value's word or a text term once parameters are looked up. */
export interface ResolvedWord {
  /** The word; a prefix term ends with `*`. */
  readonly text: string;
  /** Written in the filter itself (not a parameter's value). */
  readonly literal: boolean;
  readonly prefix: boolean;
}

export interface FilterDialect {
  /** The extensions this dialect accepts. */
  readonly extensions: ReadonlySet<GrammarExtension>;
  /** Its parameters; without them `$name` is refused. */
  readonly parameters?: FilterParameters;
  /**
   * The message of a syntax error: `redisText` is "Syntax error at offset N near X" as Redis words
   * it, `explanation` says what was found and, usually, what was expected.
   */
  syntaxErrorMessage(redisText: string, explanation: string): string;
  /** The error for syntax the parser recognises but vecrec does not implement; `message` says which. */
  unsupported(message: string, offset: number): FilterSyntaxError;
  /** Called as each field clause is complete, with the UTF-8 offset of its `@`; may throw. */
  checkField?(field: string, clause: ClauseKind, offset: number): void;
  /** The words of one multi-word tag value to keep (all when absent); they are joined by spaces. */
  tagWords?(words: readonly ResolvedWord[]): readonly ResolvedWord[];
  /**
   * The terms of a text clause to keep (all when absent). A clause left with none disappears from
   * its AND, OR or NOT; when nothing else is left, the parse gives the first such clause, whole.
   */
  textTerms?(terms: readonly ResolvedWord[]): readonly ResolvedWord[];
  /** An error for the range `[min max]` on `field`, or none; the first is thrown once the whole filter is resolved. */
  rangeError?(field: string, min: number, max: number): Error | undefined;
}

/**
 * The strict subset users write: `*`, `@tag:{a | b}`, `@num:[lo hi]`, `@text:(word word)`, AND by
 * juxtaposition, `|`, a leading `-` and parentheses; no extension, no parameters. Every syntax error
 * keeps Redis's "Syntax error at offset N near X" and adds what was wrong and what to write instead;
 * field names and kinds are checked later, against the index (validate.ts).
 */
export const USER_DIALECT: FilterDialect = {
  extensions: new Set(),
  syntaxErrorMessage: (redisText, explanation) => `${redisText}: ${explanation}`,
  unsupported: (message, offset) => new FilterSyntaxError(message, offset),
};
