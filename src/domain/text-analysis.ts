/**
 * Redis-like analysis of TEXT fields: tokenisation, stop words and English stemming, so that the
 * embedded engine (and the Redis test stand-in) match text the way RediSearch does.
 *
 * What RediSearch does (default English, no custom stop words):
 * - a document is split on ASCII whitespace and ASCII punctuation (`,.<>{}[]"':;!@#$%^&*()-+=~/\|?` and
 *   the backtick); a backslash makes the next separator part of the word; words are lower-cased;
 * - stop words are not indexed; a query made only of stop words matches nothing;
 * - each word is indexed with its Snowball English (Porter2) stem, and a query word also looks up its
 *   stem, so a query word matches a document word exactly when both have the same stem
 *   (`dog` matches `dogs`, `running` matches `run`).
 */

import { stem as porter2Stem } from "porter2";

/** RediSearch's default stop-word list (used when FT.CREATE has no STOPWORDS). */
export const DEFAULT_STOP_WORDS: ReadonlySet<string> = new Set([
  "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "it",
  "no", "not", "of", "on", "or", "such", "that", "their", "then", "there", "these", "they", "this", "to",
  "was", "will", "with",
]);

// ASCII separators of RediSearch's default tokenizer (toksep.h), whitespace included.
const SEPARATORS = new Set([..." \t\n\v\f\r,.<>{}[]\"':;!@#$%^&*()-+=~/\\|?`"]);

/**
 * Splits text into lower-cased words the way RediSearch's default tokenizer does. Stop words are kept
 * (use isStopWord to drop them). A backslash escapes the following separator (`sci\-fi` is one word).
 */
export function tokenizeText(text: string): string[] {
  const tokens: string[] = [];
  let current = "";
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text[i] as string;
    if (ch === "\\" && i + 1 < n && SEPARATORS.has(text[i + 1] as string)) {
      current += text[i + 1];
      i++;
      continue;
    }
    if (SEPARATORS.has(ch)) {
      if (current.length > 0) {
        tokens.push(current.toLowerCase());
        current = "";
      }
      continue;
    }
    current += ch;
  }
  if (current.length > 0) tokens.push(current.toLowerCase());
  return tokens;
}

/** Whether `word` (any case) is one of RediSearch's default stop words. */
export function isStopWord(word: string): boolean {
  return DEFAULT_STOP_WORDS.has(word.toLowerCase());
}

const stemCache = new Map<string, string>();
const STEM_CACHE_LIMIT = 50_000;

/** The Snowball English (Porter2) stem of `word`, lower-cased first, as RediSearch computes it. */
export function stemWord(word: string): string {
  const lower = word.toLowerCase();
  let stemmed = stemCache.get(lower);
  if (stemmed === undefined) {
    stemmed = porter2Stem(lower);
    // A bounded memo: the same few thousand words recur across 100k documents.
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemCache.set(lower, stemmed);
  }
  return stemmed;
}

/** The indexed form of a text value: its words (stop words left out) and their stems. */
export interface AnalyzedText {
  readonly words: ReadonlySet<string>;
  readonly stems: ReadonlySet<string>;
}

/** Analyses a text value once, for repeated matching (see createTextTermsMatcher). */
export function analyzeText(text: string): AnalyzedText {
  const words = new Set<string>();
  const stems = new Set<string>();
  for (const token of tokenizeText(text)) {
    if (DEFAULT_STOP_WORDS.has(token)) continue;
    words.add(token);
    stems.add(stemWord(token));
  }
  return { words, stems };
}

/**
 * Compiles query terms into a predicate over analysed text. Each term is one word; a term ending in
 * `*` is a prefix (matches any indexed word starting with it, without stemming, like RediSearch).
 * Stop-word terms are ignored; when every term is a stop word the predicate matches nothing
 * (RediSearch drops them from the query, leaving an empty query).
 */
export function createTextTermsMatcher(terms: readonly string[]): (text: AnalyzedText) => boolean {
  const exact: string[] = [];
  const prefixes: string[] = [];
  for (const raw of terms) {
    const term = raw.toLowerCase();
    if (term.length > 1 && term.endsWith("*")) {
      prefixes.push(term.slice(0, -1));
    } else if (!DEFAULT_STOP_WORDS.has(term) && term.length > 0) {
      exact.push(stemWord(term));
    }
  }
  if (exact.length === 0 && prefixes.length === 0) return () => false;
  return (text) => {
    for (const s of exact) if (!text.stems.has(s)) return false;
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
 * Whether every term occurs in `fieldText` as RediSearch would match it: as a word of the text or
 * sharing its English stem with one (`dog` matches "dogs"). Stop-word terms are ignored; only stop
 * words (or no terms) match nothing. A term ending in `*` is a prefix.
 */
export function textMatches(fieldText: string, terms: readonly string[]): boolean {
  return createTextTermsMatcher(terms)(analyzeText(fieldText));
}
