/**
 * Redis-like analysis of TEXT fields: tokenisation, stop words and English stemming, so that the
 * embedded engine (and the Redis test stand-in) match text the way RediSearch does.
 *
 * What RediSearch does (default English, no custom stop words):
 * - a document is split on ASCII whitespace and ASCII punctuation (`,.<>{}[]"':;!@#$%^&*()-+=~/\|?` and
 *   the backtick); a backslash makes the next separator part of the word; words are lower-cased;
 * - stop words are not indexed; a query made only of stop words matches nothing;
 * - each word is indexed with its Snowball English (Porter2) stem, and a query word also looks up its
 *   stem, so a query word matches a document word when both have the same stem (`dog` matches
 *   `dogs`, `running` matches `run`) or the document word is the query word's stem.
 */

import { stem as porter2Stem } from "porter2";

/** RediSearch's default stop-word list (used when FT.CREATE has no STOPWORDS). */
export const DEFAULT_STOP_WORDS: ReadonlySet<string> = new Set([
  "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "it",
  "no", "not", "of", "on", "or", "such", "that", "their", "then", "there", "these", "they", "this", "to",
  "was", "will", "with",
]);

// ASCII separators of RediSearch's default tokenizer (toksep.h), whitespace included.
const SEPARATOR_CHARS = " \t\n\v\f\r,.<>{}[]\"':;!@#$%^&*()-+=~/\\|?`";
const IS_SEPARATOR = new Uint8Array(128);
for (const ch of SEPARATOR_CHARS) IS_SEPARATOR[ch.charCodeAt(0)] = 1;
const BACKSLASH = 92;

function isSeparatorCode(code: number): boolean {
  return code < 128 && IS_SEPARATOR[code] === 1;
}

/**
 * Splits text into lower-cased words the way RediSearch's default tokenizer does. Stop words are kept
 * (use isStopWord to drop them). A backslash escapes the following separator (`sci\-fi` is one word).
 */
export function tokenizeText(input: string): string[] {
  // Lower-casing first (once) is equivalent: it never creates or removes an ASCII separator.
  const text = input.toLowerCase();
  const tokens: string[] = [];
  const n = text.length;
  let start = -1; // start of the current word, -1 between words
  let escaped: string | undefined; // the word so far, once it contains an escape
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code === BACKSLASH && i + 1 < n && isSeparatorCode(text.charCodeAt(i + 1))) {
      escaped = (escaped ?? "") + (start >= 0 ? text.slice(start, i) : "") + text[i + 1];
      start = i + 2;
      i++;
      continue;
    }
    if (isSeparatorCode(code)) {
      if (escaped !== undefined) {
        tokens.push(escaped + text.slice(start, i));
        escaped = undefined;
      } else if (start >= 0 && start < i) {
        tokens.push(text.slice(start, i));
      }
      start = -1;
      continue;
    }
    if (start < 0) start = i;
  }
  if (escaped !== undefined) tokens.push(escaped + (start >= 0 ? text.slice(start) : ""));
  else if (start >= 0 && start < n) tokens.push(text.slice(start));
  return tokens;
}

/** Whether `word` (any case) is one of RediSearch's default stop words. */
export function isStopWord(word: string): boolean {
  return DEFAULT_STOP_WORDS.has(word.toLowerCase());
}

const stemCache = new Map<string, string>();
const ALL_DIGITS = /^[0-9]+$/;
const STEM_CACHE_LIMIT = 50_000;

/** The Snowball English (Porter2) stem of `word`, lower-cased first, as RediSearch computes it. */
export function stemWord(word: string): string {
  const lower = word.toLowerCase();
  // Porter2 leaves words of one or two letters and numbers as they are: skip the work and the memo.
  if (lower.length <= 2 || ALL_DIGITS.test(lower)) return lower;
  let stemmed = stemCache.get(lower);
  if (stemmed === undefined) {
    stemmed = porter2Stem(lower);
    // A bounded memo: the same few thousand words recur across 100k documents.
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemCache.set(lower, stemmed);
  }
  return stemmed;
}

/**
 * The indexed form of a text value, as RediSearch indexes it: each word (stop words left out) and,
 * for a word whose stem differs from it, the stem (RediSearch's `+stem` entry).
 */
export interface AnalyzedText {
  /** Indexed words, in text order (duplicates kept). */
  readonly words: readonly string[];
  readonly wordSet: ReadonlySet<string>;
  /** Stems of the words whose stem differs from the word. */
  readonly stems: ReadonlySet<string>;
}

/** Analyses a text value once, for repeated matching (see createTextTermsMatcher). */
export function analyzeText(text: string): AnalyzedText {
  const words: string[] = [];
  const stems = new Set<string>();
  for (const token of tokenizeText(text)) {
    if (DEFAULT_STOP_WORDS.has(token)) continue;
    words.push(token);
    const stemmed = stemWord(token);
    if (stemmed !== token) stems.add(stemmed);
  }
  return { words, wordSet: new Set(words), stems };
}

/**
 * Compiles query terms into a predicate over analysed text. Each term is one word; a term ending in
 * `*` is a prefix (matches any indexed word starting with it, without stemming, like RediSearch).
 * Stop-word terms are ignored; when every term is a stop word the predicate matches nothing
 * (RediSearch drops them from the query, leaving an empty query).
 */
export function createTextTermsMatcher(terms: readonly string[]): (text: AnalyzedText) => boolean {
  const exact: { term: string; stem: string }[] = [];
  const prefixes: string[] = [];
  for (const raw of terms) {
    const term = raw.toLowerCase();
    if (term.length > 1 && term.endsWith("*")) {
      prefixes.push(term.slice(0, -1));
    } else if (!DEFAULT_STOP_WORDS.has(term) && term.length > 0) {
      exact.push({ term, stem: stemWord(term) });
    }
  }
  if (exact.length === 0 && prefixes.length === 0) return () => false;
  return (text) => {
    // RediSearch expands a query word q to q, `+stem(q)` and (when different) stem(q); a document
    // word w is indexed as w and, when different, `+stem(w)`.
    for (const { term, stem } of exact) {
      if (!text.stems.has(stem) && !text.wordSet.has(stem) && !text.wordSet.has(term)) return false;
    }
    for (const p of prefixes) {
      let found = false;
      for (const w of text.words) {
        if (w.startsWith(p)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  };
}

/**
 * Whether every term occurs in `fieldText` as RediSearch would match it: as a word of the text,
 * sharing its English stem with one (`dog` matches "dogs"), or having one as its stem. Stop-word
 * terms are ignored; only stop words (or no terms) match nothing. A term ending in `*` is a prefix.
 */
export function textMatches(fieldText: string, terms: readonly string[]): boolean {
  return createTextTermsMatcher(terms)(analyzeText(fieldText));
}
