/**
 * The filter-string lexer: a transcription of RediSearch's DIALECT 2 lexer
 * (src/query_parser/v2/lexer.rl), shared by every dialect. Stray ASCII punctuation becomes a SKIP
 * token; whether it is dropped (as Redis does) or rejected is the dialect's choice (see parser.ts).
 */

export type TokenType =
  | "SIZE" | "NUMBER" | "MOD" | "ATTR" | "ARROW" | "AS" | "QUOTE" | "OR" | "LP" | "RP" | "LB" | "RB"
  | "COLON" | "SEMICOLON" | "MINUS" | "TILDE" | "STAR" | "PERCENT" | "LSQB" | "RSQB" | "ISEMPTY"
  | "TERM" | "PREFIX" | "SUFFIX" | "CONTAINS" | "VERBATIM" | "WILDCARD" | "SKIP" | "EOF";

export interface Token {
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

export function isEscapable(ch: string | undefined): boolean {
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

/** The tokens of `s`, SKIP tokens included. */
export function lex(s: string): Token[] {
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
      case "PREFIX": // word*
      case "SUFFIX": // *word
      case "CONTAINS": // *word*
        type = best;
        value = raw.slice(best === "PREFIX" ? 0 : 1, best === "SUFFIX" ? raw.length : -1);
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

/** The punctuation token types (they do not set the sticky "near" text). */
export const SINGLE_TYPES: ReadonlySet<TokenType> = new Set(Object.values(SINGLE));

/** Removes a backslash before ASCII punctuation or whitespace (RediSearch's unescapen). */
export function unescape(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (ch === "\\" && isEscapable(s[i + 1])) continue;
    out += ch;
  }
  return out;
}

/** The UTF-8 byte offset of UTF-16 index `index` in `s` (Redis reports offsets in bytes). */
export function utf8Offset(s: string, index: number): number {
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
