/**
 * Parser for the filter-string subset of the Redis Query Engine's DIALECT 2 query syntax
 * (SearchRequest.filter_query): `*`, `@tag:{a | b}`, `@num:[lo hi]` with `(` for exclusive bounds and
 * `-inf`/`+inf`, `@text:(word word)`, AND by juxtaposition, `|` for OR, a leading `-` for NOT and
 * parentheses. AND binds tighter than OR, as in Redis.
 *
 * Two modes:
 * - user mode (no `params`): the subset above, strictly. Unescaped punctuation that Redis would
 *   silently skip is a syntax error; `$name`, text operators and bare words are rejected.
 * - Redis mode (`params` given, even empty; used by the Redis test stand-in to replay real FT.SEARCH
 *   queries): Redis's lexer rules (skipped punctuation, `1.5` as one number), `$name` parameters for
 *   tag values, numeric bounds and text words, bare words (any TEXT field), `|` and `-` inside text
 *   clauses, `word*` prefixes, and Redis's error texts for missing parameters and bad ranges.
 *
 * Error offsets count UTF-8 bytes from the start of the query, like Redis. Syntax errors report the
 * token where the query stopped being valid, with Redis's quirk for the "near" text: punctuation
 * tokens do not set it, so it names the last word-like token before them
 * (`@codes:{sci-fi}` -> "Syntax error at offset 11 near sci").
 */

import type { FilterNode } from "./filter.js";
import { isStopWord } from "./text-analysis.js";

/** Field name used by text nodes that come from bare words (Redis mode): any TEXT field of the index. */
export const ANY_TEXT_FIELD = "*";

/** Bad filter syntax. `offset` is the 0-based UTF-8 byte offset of the offending token. */
export class FilterSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = "FilterSyntaxError";
    this.offset = offset;
  }
}

/** Valid Redis syntax that vecrec does not implement (phrases, fuzzy, `~`, vector ranges, ...). */
export class UnsupportedFilterSyntaxError extends FilterSyntaxError {
  constructor(message: string, offset: number) {
    super(message, offset);
    this.name = "UnsupportedFilterSyntaxError";
  }
}

/** A `$name` reference with no such parameter. Message is Redis's: "No such parameter `t`". */
export class MissingParameterError extends Error {
  readonly parameter: string;
  constructor(parameter: string) {
    super(`No such parameter \`${parameter}\``);
    this.name = "MissingParameterError";
    this.parameter = parameter;
  }
}

/**
 * Redis-mode value errors, with Redis's texts: "Bad lower range: abc", "Bad upper range: x",
 * "Invalid numeric value (x) for parameter `p`", "Invalid numeric range (min > max): @n:[40.000000 20.000000]".
 */
export class FilterValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterValueError";
  }
}

/** A field the schema does not have, or of the wrong type ("Unknown field at offset 0 near nosuch"). */
export class FilterFieldError extends Error {
  readonly offset: number;
  readonly field: string;
  constructor(message: string, offset: number, field: string) {
    super(message);
    this.name = "FilterFieldError";
    this.offset = offset;
    this.field = field;
  }
}

export type SchemaFieldType = "text" | "tag" | "numeric" | "vector";

export interface ParseFilterOptions {
  /** Redis `PARAMS`; giving it (even empty) selects Redis mode. */
  readonly params?: ReadonlyMap<string, string>;
}

export interface ParseFilterForSchemaOptions extends ParseFilterOptions {
  readonly fieldTypes: ReadonlyMap<string, SchemaFieldType>;
}

/**
 * Parses a filter string into a FilterNode. Empty (or blank) text and `*` give `{op:"all"}`.
 * Throws FilterSyntaxError on bad syntax; in Redis mode also MissingParameterError and
 * FilterValueError (bad numeric parameter, min > max). It does not know the schema: unknown fields
 * are left to filterViolations (or use parseFilterQueryForSchema).
 */
export function parseFilterQuery(text: string, options?: ParseFilterOptions): FilterNode {
  return new Parser(text, options?.params, undefined).parse();
}

/**
 * Like parseFilterQuery, and also checks each field clause against `fieldTypes` when the clause is
 * complete, the way Redis reports it: FilterFieldError "Unknown field at offset N near f",
 * "Expected a TAG field at offset N near f", "Expected a NUMERIC field at offset N near f" (offset of
 * the `@`). A text clause on a field that is not TEXT is not an error here (it matches nothing).
 */
export function parseFilterQueryForSchema(text: string, options: ParseFilterForSchemaOptions): FilterNode {
  return new Parser(text, options.params, options.fieldTypes).parse();
}

/** The field names a filter refers to, each once, in order of appearance (ANY_TEXT_FIELD included). */
export function referencedFields(node: FilterNode): string[] {
  const seen = new Set<string>();
  const walk = (n: FilterNode): void => {
    switch (n.op) {
      case "all":
        return;
      case "tag":
      case "numeric":
      case "text":
        seen.add(n.field);
        return;
      case "and":
      case "or":
        n.children.forEach(walk);
        return;
      case "not":
        walk(n.child);
        return;
    }
  };
  walk(node);
  return [...seen];
}

// ---------------------------------------------------------------------------------------------
// Lexer: a transcription of RediSearch's DIALECT 2 lexer (src/query_parser/v2/lexer.rl).

type TokenType =
  | "SIZE" | "NUMBER" | "MOD" | "ATTR" | "ARROW" | "AS" | "QUOTE" | "OR" | "LP" | "RP" | "LB" | "RB"
  | "COLON" | "SEMICOLON" | "MINUS" | "TILDE" | "STAR" | "PERCENT" | "LSQB" | "RSQB" | "ISEMPTY"
  | "TERM" | "PREFIX" | "SUFFIX" | "CONTAINS" | "VERBATIM" | "WILDCARD" | "SKIP" | "EOF";

interface Token {
  readonly type: TokenType;
  /** Start (UTF-16 index) of the token in the query. */
  readonly start: number;
  readonly end: number;
  /** Redis's reported position (UTF-16 index; converted to bytes when reported). */
  readonly pos: number;
  /** The text Redis would print after "near" if this token were the error token (made sticky by Parser). */
  readonly near: string;
  /** Token payload: the word (raw, escapes kept), attribute name, ... */
  readonly value: string;
}

const ASCII_PUNCT = new Set([..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]);
const ASCII_SPACE = new Set([" ", "\t", "\n", "\v", "\f", "\r"]);

function isTermChar(ch: string): boolean {
  const code = ch.charCodeAt(0);
  if (code >= 0x80) return true;
  if (code < 0x20 || code === 0x7f) return false;
  if (ch === "_") return true;
  return !ASCII_PUNCT.has(ch) && !ASCII_SPACE.has(ch);
}

function isEscapable(ch: string | undefined): boolean {
  return ch !== undefined && (ASCII_PUNCT.has(ch) || ASCII_SPACE.has(ch));
}

function termLength(s: string, i: number): number {
  let j = i;
  for (;;) {
    const ch = s[j];
    if (ch === undefined) break;
    if (ch === "\\" && isEscapable(s[j + 1])) {
      j += 2;
    } else if (isTermChar(ch)) {
      j++;
    } else {
      break;
    }
  }
  return j - i;
}

function digitsLength(s: string, i: number): number {
  let j = i;
  while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
  return j - i;
}

function numberLength(s: string, i: number): number {
  let j = i;
  if (s[j] === "-") j++;
  const intDigits = digitsLength(s, j);
  if (intDigits === 0) return 0;
  j += intDigits;
  if (s[j] === ".") {
    const frac = digitsLength(s, j + 1);
    if (frac > 0) j += 1 + frac;
  }
  if (s[j] === "e" || s[j] === "E") {
    let k = j + 1;
    if (s[k] === "-") k++;
    const exp = digitsLength(s, k);
    if (exp > 0) j = k + exp;
  }
  return j - i;
}

function prefixedLength(s: string, i: number, sigil: string): number {
  if (s[i] !== sigil) return 0;
  const t = termLength(s, i + 1);
  return t > 0 ? 1 + t : 0;
}

/** Length of `term | number | attr` at i (the operand of prefix/suffix/contains). */
function affixOperandLength(s: string, i: number): number {
  return Math.max(termLength(s, i), numberLength(s, i), prefixedLength(s, i, "$"));
}

function quotedLength(s: string, i: number): number {
  if (s[i] !== "'") return 0;
  let j = i + 1;
  let inner = 0;
  while (j < s.length) {
    const ch = s[j] as string;
    if (ch === "\\") {
      if (j + 1 >= s.length) return 0;
      j += 2;
      inner++;
      continue;
    }
    if (ch === "'") return inner > 0 ? j + 1 - i : 0;
    j++;
    inner++;
  }
  return 0;
}

const SINGLE: Readonly<Record<string, TokenType>> = {
  '"': "QUOTE", "|": "OR", "(": "LP", ")": "RP", "{": "LB", "}": "RB", ":": "COLON", ";": "SEMICOLON",
  "-": "MINUS", "~": "TILDE", "*": "STAR", "%": "PERCENT", "[": "LSQB", "]": "RSQB",
};

function lex(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i] as string;
    if (ASCII_SPACE.has(ch)) {
      i++;
      continue;
    }
    // Candidates in the ragel scanner's order: the longest match wins, on equal lengths the earlier.
    const candidates: [TokenType | "NUMBER_INF" | "SINGLE", number][] = [];
    const size = digitsLength(s, i);
    candidates.push(["SIZE", size]);
    candidates.push(["NUMBER", numberLength(s, i)]);
    candidates.push(["MOD", prefixedLength(s, i, "@")]);
    candidates.push(["ATTR", prefixedLength(s, i, "$")]);
    candidates.push(["ARROW", s.startsWith("=>", i) ? 2 : 0]);
    candidates.push(["AS", s.slice(i, i + 2).toLowerCase() === "as" ? 2 : 0]);
    const infMatch = /^[+-]?inf/.exec(s.slice(i, i + 4));
    candidates.push(["NUMBER_INF", infMatch ? infMatch[0].length : 0]);
    candidates.push(["SINGLE", SINGLE[ch] !== undefined ? 1 : 0]);
    candidates.push(["ISEMPTY", s.slice(i, i + 7).toLowerCase() === "isempty" ? 7 : 0]);
    const term = termLength(s, i);
    candidates.push(["TERM", term]);
    const operand = affixOperandLength(s, i);
    candidates.push(["PREFIX", operand > 0 && s[i + operand] === "*" ? operand + 1 : 0]);
    const suffixOperand = ch === "*" ? affixOperandLength(s, i + 1) : 0;
    candidates.push(["SUFFIX", suffixOperand > 0 ? suffixOperand + 1 : 0]);
    candidates.push(["CONTAINS", suffixOperand > 0 && s[i + 1 + suffixOperand] === "*" ? suffixOperand + 2 : 0]);
    candidates.push(["VERBATIM", quotedLength(s, i)]);
    candidates.push(["WILDCARD", ch === "w" ? (quotedLength(s, i + 1) > 0 ? quotedLength(s, i + 1) + 1 : 0) : 0]);
    let best: TokenType | "NUMBER_INF" | "SINGLE" = "SKIP";
    let bestLen = 0;
    for (const [type, len] of candidates) {
      if (len > bestLen) {
        best = type;
        bestLen = len;
      }
    }
    if (bestLen === 0) {
      // ASCII punctuation or a control character: Redis skips it silently.
      tokens.push({ type: "SKIP", start: i, end: i + 1, pos: i, near: ch, value: ch });
      i++;
      continue;
    }
    const start = i;
    const end = i + bestLen;
    const raw = s.slice(start, end);
    let type: TokenType;
    let value = raw;
    let pos = start;
    // What Redis's lexer stores as the token text (punctuation tokens store none: see Parser).
    let near = "";
    switch (best) {
      case "NUMBER_INF":
        type = "NUMBER";
        near = raw;
        break;
      case "SINGLE":
        type = SINGLE[ch] as TokenType;
        break;
      case "MOD":
      case "ATTR":
        type = best;
        value = raw.slice(1);
        near = value;
        break;
      case "ARROW":
        type = "ARROW";
        near = s.slice(start + 1, start + 3);
        break;
      case "PREFIX": {
        type = "PREFIX";
        value = raw.slice(0, -1);
        near = value.startsWith("$") ? value.slice(1) : value;
        break;
      }
      case "SUFFIX":
        type = "SUFFIX";
        value = raw.slice(1);
        near = value.startsWith("$") ? value.slice(1) : value;
        break;
      case "CONTAINS":
        type = "CONTAINS";
        value = raw.slice(1, -1);
        near = value.startsWith("$") ? value.slice(1) : value;
        break;
      case "VERBATIM":
        type = "VERBATIM";
        value = raw.slice(1, -1);
        near = value;
        break;
      case "WILDCARD":
        type = "WILDCARD";
        value = raw.slice(2, -1);
        near = value;
        pos = start + 2;
        break;
      default:
        type = best;
        near = raw;
        break;
    }
    tokens.push({ type, start, end, pos, near, value });
    i = end;
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

/** A tag value or text word: literal text, or a `$param` to look up after parsing (as Redis does). */
type Part = { readonly literal: string } | { readonly param: string };

type Bound =
  | { readonly kind: "literal"; readonly value: number; readonly exclusive: boolean }
  | { readonly kind: "param"; readonly name: string; readonly exclusive: boolean };

type Ast =
  | { readonly k: "all" }
  | { readonly k: "tag"; readonly field: string; readonly values: readonly (readonly Part[])[] }
  | { readonly k: "numeric"; readonly field: string; readonly min: Bound; readonly max: Bound; readonly single: boolean }
  | { readonly k: "text"; readonly field: string; readonly terms: readonly { part: Part; prefix: boolean }[] }
  | { readonly k: "and" | "or"; readonly children: readonly Ast[] }
  | { readonly k: "not"; readonly child: Ast };

const MAX_DEPTH = 256;

// User-mode hints appended to syntax errors.
const CLAUSE_FORMS = "@field:{tag | tag}, @field:[min max] or @field:(words)";
const CLAUSE_HINT = `expected a clause such as ${CLAUSE_FORMS}, combined with spaces (AND), '|' (OR), '-' (NOT) and parentheses`;
const STAR_HINT = "'*' can only be the whole filter";
const TAG_HINT = "inside {...} write values separated by '|', escaping punctuation with a backslash (sci\\-fi, us\\:east)";
const RANGE_HINT = "a numeric range is [min max] with numbers or -inf/+inf, and '(' before a bound to exclude it";
const TEXT_HINT = "a text clause is @field:(word word ...), plain words only";

const WORD_TYPES: ReadonlySet<TokenType> = new Set(["TERM", "NUMBER", "SIZE", "AS", "ISEMPTY"]);
const UNSUPPORTED_TEXT_STARTERS: ReadonlySet<TokenType> = new Set([
  "TILDE", "QUOTE", "PERCENT", "SUFFIX", "CONTAINS", "VERBATIM", "WILDCARD",
]);

/** Removes a backslash before ASCII punctuation or whitespace (RediSearch's unescapen). */
function unescape(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (ch === "\\" && isEscapable(s[i + 1])) continue;
    out += ch;
  }
  return out;
}

function utf8Offset(s: string, index: number): number {
  let bytes = 0;
  for (let i = 0; i < index && i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function formatRedisFixed(x: number): string {
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Number.isNaN(x)) return "nan";
  return x.toFixed(6);
}

/** C strtod over the whole string (leading blanks allowed); undefined when text is left over. */
function strtodWhole(text: string): number | undefined {
  const t = text.replace(/^[ \t\n\v\f\r]+/, "");
  if (t === "") return 0; // strtod consumes nothing and the end pointer sits on the terminator
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return Number.NaN;
  if (/^[+-]?0x[0-9a-f]+$/i.test(t)) {
    const v = Number.parseInt(t.replace(/^[+-]/, ""), 16);
    return t.startsWith("-") ? -v : v;
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  return undefined;
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;
  private readonly redisMode: boolean;
  private readonly eof: Token;

  constructor(
    private readonly source: string,
    private readonly params: ReadonlyMap<string, string> | undefined,
    private readonly fieldTypes: ReadonlyMap<string, SchemaFieldType> | undefined,
  ) {
    this.redisMode = params !== undefined;
    // Redis skips stray punctuation; user mode keeps it so that the parser rejects it where it stands.
    const tokens = lex(source).filter((t) => t.type !== "SKIP" || !this.redisMode);
    // The "near" text is sticky: punctuation tokens keep the previous word's text.
    let near = "";
    let lastPos = 0;
    this.tokens = tokens.map((t) => {
      if (t.type === "SKIP") return t;
      lastPos = t.pos;
      if (!SINGLE_TYPES.has(t.type)) near = t.near;
      return { ...t, near };
    });
    // At the end Redis reports the last token's position with the "near" text it had then.
    this.eof = { type: "EOF", start: source.length, end: source.length, pos: lastPos, near, value: "" };
  }

  parse(): FilterNode {
    if (this.tokens.length === 0) return { op: "all" };
    const ast = this.parseQuery();
    return this.resolve(ast);
  }

  // --- tokens ---

  private peek(): Token {
    return this.tokens[this.index] ?? this.eof;
  }

  private next(): Token {
    const t = this.peek();
    if (t.type !== "EOF") this.index++;
    return t;
  }

  private bytes(index: number): number {
    return utf8Offset(this.source, index);
  }

  /**
   * Redis's "Syntax error at offset N near X"; in user mode followed by what was found and `hint`
   * (Redis mode keeps Redis's exact text, which the stand-in replies with).
   */
  private syntaxError(token: Token, hint?: string): FilterSyntaxError {
    const offset = this.bytes(token.pos);
    // A skipped character (user mode only) names itself: Redis would not have stopped there.
    const redisText = `Syntax error at offset ${offset} near ${token.type === "SKIP" ? token.value : token.near}`;
    if (this.redisMode) return new FilterSyntaxError(redisText, offset);
    const found =
      token.type === "EOF" ? "the filter ends too early"
      : token.type === "SKIP" ? `unexpected character '${token.value}'`
      : `unexpected ${JSON.stringify(this.source.slice(token.start, token.end))}`;
    return new FilterSyntaxError(`${redisText}: ${found}${hint === undefined ? "" : `; ${hint}`}`, offset);
  }

  private unsupported(token: Token, what: string): FilterSyntaxError {
    const offset = this.bytes(token.pos);
    const message = `Syntax error at offset ${offset} near ${token.near}: ${what}`;
    return this.redisMode ? new UnsupportedFilterSyntaxError(message, offset) : new FilterSyntaxError(message, offset);
  }

  private expect(type: TokenType, hint?: string): Token {
    const t = this.peek();
    if (t.type !== type) throw this.syntaxError(t, hint);
    return this.next();
  }

  private enter(token: Token): void {
    this.depth++;
    if (this.depth > MAX_DEPTH) {
      throw new FilterSyntaxError(
        "Parser stack overflow. Try moving nested parentheses more to the left",
        this.bytes(token.pos),
      );
    }
  }

  // --- grammar ---

  private parseQuery(): Ast {
    // `*` (possibly parenthesised) is only allowed as the whole query.
    let k = 0;
    while (this.tokens[k]?.type === "LP") k++;
    if (this.tokens[k]?.type === "STAR") {
      this.index = k + 1;
      for (let i = 0; i < k; i++) this.expect("RP", STAR_HINT);
      if (this.peek().type !== "EOF") throw this.syntaxError(this.peek(), STAR_HINT);
      return { k: "all" };
    }
    const ast = this.parseOr();
    const rest = this.peek();
    if (rest.type !== "EOF") {
      throw this.syntaxError(
        rest,
        rest.type === "RP" ? "this ')' closes nothing"
          : rest.type === "STAR" ? STAR_HINT
          : rest.type === "ARROW" ? "KNN and attribute clauses (=>) are not part of a filter"
          : CLAUSE_HINT,
      );
    }
    return ast;
  }

  private parseOr(): Ast {
    const children = [this.parseAnd()];
    while (this.peek().type === "OR") {
      this.next();
      children.push(this.parseAnd());
    }
    return children.length === 1 ? (children[0] as Ast) : { k: "or", children };
  }

  private canStartUnary(t: Token): boolean {
    return (
      t.type === "MINUS" || t.type === "LP" || t.type === "MOD" || t.type === "ATTR" || t.type === "PREFIX" ||
      WORD_TYPES.has(t.type) || UNSUPPORTED_TEXT_STARTERS.has(t.type)
    );
  }

  private parseAnd(): Ast {
    const children = [this.parseUnary()];
    while (this.canStartUnary(this.peek())) children.push(this.parseUnary());
    return children.length === 1 ? (children[0] as Ast) : { k: "and", children };
  }

  private parseUnary(): Ast {
    const t = this.peek();
    this.enter(t);
    try {
      if (t.type === "MINUS") {
        this.next();
        return { k: "not", child: this.parseUnary() };
      }
      return this.parseAtom();
    } finally {
      this.depth--;
    }
  }

  private parseAtom(): Ast {
    const t = this.peek();
    if (t.type === "LP") {
      this.next();
      const inner = this.parseOr();
      this.expect("RP", "missing ')'");
      return inner;
    }
    if (t.type === "MOD") return this.parseFieldClause();
    if (WORD_TYPES.has(t.type) || t.type === "ATTR" || t.type === "PREFIX" || UNSUPPORTED_TEXT_STARTERS.has(t.type)) {
      if (!this.redisMode) {
        if (/^(and|or|not)$/i.test(t.value)) {
          throw this.unsupported(t, "write AND as a space, OR as '|' and NOT as a leading '-'");
        }
        throw this.unsupported(t, "a word must be inside a field clause such as @field:(word)");
      }
      return this.parseTextAtom(ANY_TEXT_FIELD);
    }
    if (t.type === "TILDE") throw this.unsupported(t, "optional clauses (~) are not supported");
    throw this.syntaxError(t, t.type === "STAR" ? STAR_HINT : CLAUSE_HINT);
  }

  private parseFieldClause(): Ast {
    const mod = this.next();
    const field = unescape(mod.value);
    if (this.peek().type !== "COLON") {
      if (this.peek().type === "OR") throw this.unsupported(this.peek(), "multi-field clauses (@a|b:...) are not supported");
      throw this.syntaxError(this.peek(), "write ':' right after the field name: " + CLAUSE_FORMS);
    }
    this.next();
    const t = this.peek();
    if (t.type === "LB") {
      const ast = this.parseTagList(field);
      this.checkField(mod, field, "tag");
      return ast;
    }
    if (t.type === "LSQB") {
      const ast = this.parseNumericRange(field);
      this.checkField(mod, field, "numeric");
      return ast;
    }
    if (!this.canStartTextUnary(t)) throw this.syntaxError(t, `after '@${field}:' write ${CLAUSE_FORMS.replace(/@field:/g, "")}`);
    const ast = this.parseFieldText(field);
    this.checkField(mod, field, "text");
    return ast;
  }

  private checkField(mod: Token, field: string, expected: "tag" | "numeric" | "text"): void {
    if (!this.fieldTypes) return;
    const offset = this.bytes(mod.pos);
    const actual = this.fieldTypes.get(field);
    if (actual === undefined) {
      throw new FilterFieldError(`Unknown field at offset ${offset} near ${field}`, offset, field);
    }
    if (expected === "text" || actual === expected) return;
    throw new FilterFieldError(
      `Expected a ${expected.toUpperCase()} field at offset ${offset} near ${field}`,
      offset,
      field,
    );
  }

  private parseTagList(field: string): Ast {
    this.next(); // {
    const values: Part[][] = [];
    for (;;) {
      const first = this.peek();
      const parts: Part[] = [];
      if (first.type === "PREFIX" || first.type === "SUFFIX" || first.type === "CONTAINS" || first.type === "VERBATIM" || first.type === "WILDCARD") {
        throw this.unsupported(first, "tag prefixes, suffixes and wildcards are not supported");
      }
      let previous: Token | undefined;
      while (WORD_TYPES.has(this.peek().type) || this.peek().type === "ATTR") {
        const t = this.next();
        if (!this.redisMode && previous?.end === t.start && t.type === "NUMBER" && t.value.startsWith("-")) {
          // Redis reads `web-2` as the two words "web -2" and silently searches for that; a user
          // meant "web-2", which needs `web\-2`.
          const offset = this.bytes(t.pos);
          throw new FilterSyntaxError(
            `Syntax error at offset ${offset} near ${t.value}: escape '-' inside a tag value with a backslash`,
            offset,
          );
        }
        if (t.type === "ATTR") parts.push(this.paramPart(t));
        else parts.push({ literal: unescape(t.value) });
        previous = t;
      }
      if (parts.length === 0) throw this.syntaxError(this.peek(), TAG_HINT);
      values.push(parts);
      const sep = this.peek();
      if (sep.type === "OR") {
        this.next();
        continue;
      }
      if (sep.type === "RB") {
        this.next();
        break;
      }
      throw this.syntaxError(sep, TAG_HINT);
    }
    return { k: "tag", field, values };
  }

  private paramPart(t: Token): Part {
    if (!this.redisMode) throw this.unsupported(t, "parameters ($name) are not supported in filter strings");
    return { param: unescape(t.value) };
  }

  private parseNumericRange(field: string): Ast {
    this.next(); // [
    const first = this.peek();
    if (first.type === "TERM" && first.value.toUpperCase() === "VECTOR_RANGE") {
      throw this.unsupported(first, "vector range queries are not supported in filters");
    }
    const min = this.parseBound();
    if (this.peek().type === "RSQB" && !min.exclusive) {
      this.next();
      return { k: "numeric", field, min, max: min, single: true };
    }
    const max = this.parseBound();
    this.expect("RSQB", RANGE_HINT);
    return { k: "numeric", field, min, max, single: false };
  }

  private parseBound(): Bound {
    let exclusive = false;
    if (this.peek().type === "LP") {
      this.next();
      exclusive = true;
    }
    const t = this.peek();
    if (t.type === "ATTR") {
      this.next();
      const part = this.paramPart(t) as { param: string };
      return { kind: "param", name: part.param, exclusive };
    }
    return { kind: "literal", value: this.parseNum(), exclusive };
  }

  private parseNum(): number {
    const t = this.peek();
    if (t.type === "MINUS") {
      this.next();
      return -this.parseNum();
    }
    if (t.type === "SIZE" || t.type === "NUMBER") {
      this.next();
      if (/^[+-]?inf$/.test(t.value)) return t.value.startsWith("-") ? -Infinity : Infinity;
      return Number(t.value);
    }
    throw this.syntaxError(t, RANGE_HINT);
  }

  // Text inside a field clause: `@f:(a b)`, `@f:word`; Redis mode adds `|`, `-`, nesting, `$p`, `w*`.
  private parseFieldText(field: string): Ast {
    const t = this.peek();
    if (t.type === "LP") {
      this.next();
      const inner = this.redisMode ? this.parseTextOr(field) : this.parseUserWords(field);
      this.expect("RP", TEXT_HINT);
      return inner;
    }
    if (t.type === "MINUS" && this.redisMode) return this.parseTextUnary(field);
    return this.parseTextAtom(field);
  }

  private parseUserWords(field: string): Ast {
    const terms: { part: Part; prefix: boolean }[] = [];
    for (;;) {
      const t = this.peek();
      if (WORD_TYPES.has(t.type)) {
        this.next();
        terms.push({ part: { literal: unescape(t.value) }, prefix: false });
        continue;
      }
      if (t.type === "RP" && terms.length > 0) break;
      if (t.type === "OR") throw this.unsupported(t, "`|` inside a text clause is not supported; write (@f:(a) | @f:(b))");
      if (t.type === "MINUS") throw this.unsupported(t, "`-` inside a text clause is not supported; write -@f:(word)");
      if (t.type === "PREFIX") throw this.unsupported(t, "prefix queries (word*) are not supported");
      if (t.type === "ATTR") throw this.unsupported(t, "parameters ($name) are not supported in filter strings");
      if (UNSUPPORTED_TEXT_STARTERS.has(t.type)) throw this.unsupported(t, "only plain words are supported in a text clause");
      throw this.syntaxError(t, TEXT_HINT);
    }
    return { k: "text", field, terms };
  }

  private canStartTextUnary(t: Token): boolean {
    return (
      t.type === "MINUS" || t.type === "LP" || t.type === "ATTR" || t.type === "PREFIX" || WORD_TYPES.has(t.type) ||
      UNSUPPORTED_TEXT_STARTERS.has(t.type)
    );
  }

  private parseTextOr(field: string): Ast {
    const children = [this.parseTextAnd(field)];
    while (this.peek().type === "OR") {
      this.next();
      children.push(this.parseTextAnd(field));
    }
    return children.length === 1 ? (children[0] as Ast) : { k: "or", children };
  }

  private parseTextAnd(field: string): Ast {
    const children = [this.parseTextUnary(field)];
    while (this.canStartTextUnary(this.peek())) children.push(this.parseTextUnary(field));
    if (children.length === 1) return children[0] as Ast;
    // Consecutive plain words of one field become one text node (every term must occur).
    const merged: Ast[] = [];
    for (const c of children) {
      const prev = merged[merged.length - 1];
      if (prev && prev.k === "text" && c.k === "text" && prev.field === c.field) {
        merged[merged.length - 1] = { k: "text", field, terms: [...prev.terms, ...c.terms] };
      } else {
        merged.push(c);
      }
    }
    return merged.length === 1 ? (merged[0] as Ast) : { k: "and", children: merged };
  }

  private parseTextUnary(field: string): Ast {
    const t = this.peek();
    this.enter(t);
    try {
      if (t.type === "MINUS") {
        this.next();
        return { k: "not", child: this.parseTextUnary(field) };
      }
      if (t.type === "LP") {
        this.next();
        const inner = this.parseTextOr(field);
        this.expect("RP");
        return inner;
      }
      return this.parseTextAtom(field);
    } finally {
      this.depth--;
    }
  }

  private parseTextAtom(field: string): Ast {
    const t = this.peek();
    if (WORD_TYPES.has(t.type)) {
      this.next();
      return { k: "text", field, terms: [{ part: { literal: unescape(t.value) }, prefix: false }] };
    }
    if (t.type === "ATTR") {
      this.next();
      return { k: "text", field, terms: [{ part: this.paramPart(t), prefix: false }] };
    }
    if (t.type === "PREFIX") {
      if (!this.redisMode) throw this.unsupported(t, "prefix queries (word*) are not supported");
      this.next();
      const part: Part = t.value.startsWith("$") ? { param: t.value.slice(1) } : { literal: unescape(t.value) };
      return { k: "text", field, terms: [{ part, prefix: true }] };
    }
    if (t.type === "QUOTE") throw this.unsupported(t, "exact phrases (\"...\") are not supported");
    if (t.type === "PERCENT") throw this.unsupported(t, "fuzzy matching (%word%) is not supported");
    if (t.type === "TILDE") throw this.unsupported(t, "optional clauses (~) are not supported");
    if (UNSUPPORTED_TEXT_STARTERS.has(t.type)) throw this.unsupported(t, "suffix, infix and verbatim terms are not supported");
    throw this.syntaxError(t, TEXT_HINT);
  }

  // --- resolution (after parsing, like Redis: parameters first, then range checks) ---

  private resolve(ast: Ast): FilterNode {
    const rangeErrors: string[] = [];
    const dropped: FilterNode[] = [];
    const node = this.build(ast, rangeErrors, dropped);
    const firstRangeError = rangeErrors[0];
    if (firstRangeError !== undefined) throw new FilterValueError(firstRangeError);
    // Redis mode: the whole query was stop words. Redis then matches nothing (or everything under
    // KNN); hand back the stop-word clause so the caller can tell (its matcher matches nothing).
    return node ?? dropped[0] ?? { op: "all" };
  }

  private param(name: string): string {
    const value = this.params?.get(name);
    if (value === undefined) throw new MissingParameterError(name);
    return value;
  }

  private partText(part: Part): string {
    return "literal" in part ? part.literal : this.param(part.param);
  }

  private bound(b: Bound, isMin: boolean, single: boolean): { value: number; exclusive: boolean } {
    if (b.kind === "literal") return { value: b.value, exclusive: b.exclusive };
    const raw = this.param(b.name);
    if (single) {
      const v = strtodWhole(raw);
      if (v === undefined) throw new FilterValueError(`Invalid numeric value (${raw}) for parameter \`${b.name}\``);
      return { value: v, exclusive: false };
    }
    // RediSearch 8.0's parseDoubleRange: a leading "(" is skipped, then "-inf" is accepted only as a
    // lower bound and "+inf"/"inf" only as an upper one; anything else strtod cannot read whole (or
    // reads as infinite) is an error. The skipped "(" does not make the bound exclusive (recorded:
    // lo="(20" keeps n=20); only `($lo` in the query does.
    const text = raw.startsWith("(") ? raw.slice(1) : raw;
    const lower = text.toLowerCase();
    if (isMin && lower === "-inf") return { value: -Infinity, exclusive: b.exclusive };
    if (!isMin && (lower === "+inf" || lower === "inf")) return { value: Infinity, exclusive: b.exclusive };
    const v = strtodWhole(text);
    if (v === undefined || v === Infinity || v === -Infinity) {
      throw new FilterValueError(`Bad ${isMin ? "lower" : "upper"} range: ${text}`);
    }
    return { value: v, exclusive: b.exclusive };
  }

  /**
   * Builds the FilterNode. In Redis mode a text clause left without words once its literal stop words
   * are dropped is null, and null disappears from and/or (a NOT of null is null), as in RediSearch's
   * parser: `@d:(the) @t:{x}` is just `@t:{x}`.
   */
  private build(ast: Ast, rangeErrors: string[], dropped: FilterNode[]): FilterNode | null {
    switch (ast.k) {
      case "all":
        return { op: "all" };
      case "tag":
        return {
          op: "tag",
          field: ast.field,
          values: ast.values.map((parts) =>
            parts
              .map((p) => this.partText(p))
              // RediSearch's termlist rule keeps the first two words of a multi-word tag value but
              // drops literal stop words after them: `{new york is}` looks up "new york".
              .filter((text, i) => !this.redisMode || i < 2 || !("literal" in (parts[i] as Part)) || !isStopWord(text))
              .join(" "),
          ),
        };
      case "numeric": {
        const min = this.bound(ast.min, true, ast.single);
        const max = ast.single ? min : this.bound(ast.max, false, false);
        if (this.redisMode && min.value > max.value) {
          rangeErrors.push(
            `Invalid numeric range (min > max): @${ast.field}:[${formatRedisFixed(min.value)} ${formatRedisFixed(max.value)}]`,
          );
        }
        return {
          op: "numeric",
          field: ast.field,
          min: min.value,
          max: max.value,
          minExclusive: min.exclusive,
          maxExclusive: max.exclusive,
        };
      }
      case "text": {
        const all = ast.terms.map((t) => (t.prefix ? `${this.partText(t.part)}*` : this.partText(t.part)));
        if (!this.redisMode) return { op: "text", field: ast.field, terms: all };
        // Redis drops a literal stop word while parsing (a `$param` one stays).
        const terms = all.filter((term, i) => {
          const t = ast.terms[i];
          return t === undefined || t.prefix || !("literal" in t.part) || !isStopWord(term);
        });
        if (terms.length === 0) {
          dropped.push({ op: "text", field: ast.field, terms: all });
          return null;
        }
        return { op: "text", field: ast.field, terms };
      }
      case "not": {
        const child = this.build(ast.child, rangeErrors, dropped);
        return child === null ? null : { op: "not", child };
      }
      case "and":
      case "or": {
        const children: FilterNode[] = [];
        for (const c of ast.children) {
          const built = this.build(c, rangeErrors, dropped);
          if (built === null) continue;
          if (built.op === ast.k) children.push(...built.children);
          else children.push(built);
        }
        if (children.length === 0) return null;
        if (children.length === 1) return children[0] as FilterNode;
        return { op: ast.k, children };
      }
    }
  }
}

const SINGLE_TYPES: ReadonlySet<TokenType> = new Set(Object.values(SINGLE));
