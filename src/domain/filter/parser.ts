/**
 * The one grammar of filter strings (SearchRequest.filter_query, and the Redis test stand-in's
 * FT.SEARCH queries): the Redis Query Engine's DIALECT 2 query syntax as far as vecrec implements it.
 * `*`, `@tag:{a | b}`, `@num:[lo hi]` with `(` for exclusive bounds and `-inf`/`+inf`,
 * `@text:(word word)`, AND by juxtaposition, `|` for OR, a leading `-` for NOT and parentheses; AND
 * binds tighter than OR, as in Redis. The dialect (dialect.ts) decides which of Redis's further
 * constructs are accepted (`$name` parameters, bare words, operators inside text clauses, `word*`,
 * skipped punctuation) and how errors read; whatever no dialect implements (phrases, fuzzy, `~`,
 * vector ranges, ...) is refused with an explanation.
 *
 * Error offsets count UTF-8 bytes from the start of the query, like Redis. Syntax errors report the
 * token where the query stopped being valid, with Redis's quirk for the "near" text: punctuation
 * tokens do not set it, so it names the last word-like token before them
 * (`@codes:{sci-fi}` -> "Syntax error at offset 11 near sci").
 */

import type { Ast, Bound, Part } from "./ast.js";
import { buildFilterNode } from "./build.js";
import { USER_DIALECT, type ClauseKind, type FilterDialect } from "./dialect.js";
import { FilterSyntaxError } from "./errors.js";
import { ANY_TEXT_FIELD, type FilterNode } from "./filter.js";
import { unescape, type Token, type TokenType } from "./lexer.js";
import { TokenStream } from "./token-stream.js";

/**
 * Parses a filter string into a FilterNode. Empty (or blank) text and `*` give `{op:"all"}`.
 * Throws FilterSyntaxError (or the dialect's `unsupported` error) on bad syntax, and whatever the
 * dialect's parameters, field check and range check throw. Users' filters are parsed with the
 * default USER_DIALECT, which does not know the schema: fields are checked by filterViolations.
 */
export function parseFilterQuery(text: string, dialect: FilterDialect = USER_DIALECT): FilterNode {
  const ast = new Parser(text, dialect).parse();
  return ast === undefined ? { op: "all" } : buildFilterNode(ast, dialect);
}

// Hints for syntax errors (USER_DIALECT shows them; Redis's texts have none).
const CLAUSE_FORMS = "@field:{tag | tag}, @field:[min max] or @field:(words)";
const CLAUSE_HINT = `expected a clause such as ${CLAUSE_FORMS}, combined with spaces (AND), '|' (OR), '-' (NOT) and parentheses`;
const STAR_HINT = "'*' can only be the whole filter";
const TAG_HINT = "inside {...} write values separated by '|', escaping punctuation with a backslash (sci\\-fi, us\\:east)";
const RANGE_HINT = "a numeric range is [min max] with numbers or -inf/+inf, and '(' before a bound to exclude it";
const TEXT_HINT = "a text clause is @field:(word word ...), plain words only";
const PARAMETERS_UNSUPPORTED = "parameters ($name) are not supported in filter strings";

const WORD_TYPES: ReadonlySet<TokenType> = new Set(["TERM", "NUMBER", "SIZE", "AS", "ISEMPTY"]);
const UNSUPPORTED_TEXT_STARTERS: ReadonlySet<TokenType> = new Set([
  "TILDE", "QUOTE", "PERCENT", "SUFFIX", "CONTAINS", "VERBATIM", "WILDCARD",
]);

/** Filter text to AST, one instance a parse. */
class Parser extends TokenStream {
  /** The filter's AST, or undefined for an empty (or blank) filter. */
  parse(): Ast | undefined {
    if (this.tokens.length === 0) return undefined;
    return this.parseQuery();
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
      this.leave();
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
      if (!this.accepts("bare-words")) {
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

  private checkField(mod: Token, field: string, clause: ClauseKind): void {
    this.dialect.checkField?.(field, clause, this.bytes(mod.pos));
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
        if (!this.accepts("split-tag-words") && previous?.end === t.start && t.type === "NUMBER" && t.value.startsWith("-")) {
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
    if (this.dialect.parameters === undefined) throw this.unsupported(t, PARAMETERS_UNSUPPORTED);
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

  // Text inside a field clause: `@f:(a b)`, `@f:word`; "text-operators" adds `|`, `-`, nesting.
  private parseFieldText(field: string): Ast {
    const t = this.peek();
    if (t.type === "LP") {
      this.next();
      const inner = this.accepts("text-operators") ? this.parseTextOr(field) : this.parseUserWords(field);
      this.expect("RP", TEXT_HINT);
      return inner;
    }
    if (t.type === "MINUS" && this.accepts("text-operators")) return this.parseTextUnary(field);
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
      if (t.type === "ATTR") throw this.unsupported(t, PARAMETERS_UNSUPPORTED);
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
      this.leave();
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
      if (!this.accepts("prefixes")) throw this.unsupported(t, "prefix queries (word*) are not supported");
      if (t.value.startsWith("$") && this.dialect.parameters === undefined) throw this.unsupported(t, PARAMETERS_UNSUPPORTED);
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
}
