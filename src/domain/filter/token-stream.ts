/**
 * The parser's view of the tokens (lexer.ts): a cursor with one token of lookahead, the nesting
 * guard, and errors that name the token where the filter stopped being valid, worded by the dialect.
 */

import type { FilterDialect, GrammarExtension } from "./dialect.js";
import { FilterSyntaxError } from "./errors.js";
import { lex, SINGLE_TYPES, utf8Offset, type Token, type TokenType } from "./lexer.js";

/** Deepest nesting of parentheses and NOTs; deeper is Redis's "Parser stack overflow". */
const MAX_DEPTH = 256;

export class TokenStream {
  protected readonly tokens: Token[];
  protected index = 0;
  private depth = 0;
  private readonly eof: Token;

  constructor(
    private readonly source: string,
    protected readonly dialect: FilterDialect,
  ) {
    // Redis skips stray punctuation; a strict dialect keeps it so that the parser rejects it where it stands.
    const skips = this.accepts("skipped-punctuation");
    const tokens = lex(source).filter((t) => t.type !== "SKIP" || !skips);
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

  protected accepts(extension: GrammarExtension): boolean {
    return this.dialect.extensions.has(extension);
  }

  protected peek(): Token {
    return this.tokens[this.index] ?? this.eof;
  }

  protected next(): Token {
    const t = this.peek();
    if (t.type !== "EOF") this.index++;
    return t;
  }

  protected bytes(index: number): number {
    return utf8Offset(this.source, index);
  }

  /**
   * Redis's "Syntax error at offset N near X" with what was found and `hint`, worded by the dialect
   * (users get all of it; the stand-in's Redis dialect keeps Redis's exact text).
   */
  protected syntaxError(token: Token, hint?: string): FilterSyntaxError {
    const offset = this.bytes(token.pos);
    // A skipped character (strict dialects only) names itself: Redis would not have stopped there.
    const redisText = `Syntax error at offset ${offset} near ${token.type === "SKIP" ? token.value : token.near}`;
    const found =
      token.type === "EOF" ? "the filter ends too early"
      : token.type === "SKIP" ? `unexpected character '${token.value}'`
      : `unexpected ${JSON.stringify(this.source.slice(token.start, token.end))}`;
    const explanation = `${found}${hint === undefined ? "" : `; ${hint}`}`;
    return new FilterSyntaxError(this.dialect.syntaxErrorMessage(redisText, explanation), offset);
  }

  protected unsupported(token: Token, what: string): FilterSyntaxError {
    const offset = this.bytes(token.pos);
    const message = `Syntax error at offset ${offset} near ${token.near}: ${what}`;
    return this.dialect.unsupported(message, offset);
  }

  protected expect(type: TokenType, hint?: string): Token {
    const t = this.peek();
    if (t.type !== type) throw this.syntaxError(t, hint);
    return this.next();
  }

  protected enter(token: Token): void {
    this.depth++;
    if (this.depth > MAX_DEPTH) {
      throw new FilterSyntaxError(
        "Parser stack overflow. Try moving nested parentheses more to the left",
        this.bytes(token.pos),
      );
    }
  }

  protected leave(): void {
    this.depth--;
  }
}
