/**
 * Splits an FT.SEARCH query into its pre-filter and its `=>[KNN ...]` clause, and parses the clause
 * with the Query Engine's error texts (offsets are byte offsets into the whole query, as Redis reports).
 */
import { RedisReplyError } from "./search-index.js";

export interface KnnClause {
  /** A number, or the name of a parameter (`$K`). */
  readonly k: { readonly value: string; readonly isParam: boolean };
  readonly field: string;
  readonly fieldOffset: number;
  readonly vectorParam: string;
  readonly efRuntime?: { readonly value: string; readonly isParam: boolean };
  readonly hybridPolicy?: string;
  readonly batchSize?: string;
  /** `AS name`: the name of the distance field (default `__<field>_score`). */
  readonly as?: string;
}

interface Token {
  readonly kind: "[" | "]" | "word" | "attr" | "param";
  readonly text: string;
  readonly offset: number;
}

export function syntaxError(offset: number, near: string): RedisReplyError {
  return new RedisReplyError(`Syntax error at offset ${offset} near ${near}`);
}

/** Byte offset of the UTF-16 index `i` in `s` (Redis reports byte offsets). */
export function byteOffset(s: string, i: number): number {
  return Buffer.byteLength(s.slice(0, i), "utf8");
}

/**
 * Index (UTF-16) of the `=>` that starts a `[KNN` clause at nesting depth 0, or -1. Escaped characters
 * and quoted phrases are skipped.
 */
export function findArrow(query: string): number {
  let quoted = false;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (c === "\\") {
      i += 1;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (quoted) continue;
    if (c === "=" && query[i + 1] === ">") {
      const rest = query.slice(i + 2).trimStart();
      if (rest.startsWith("[")) return i;
    }
  }
  return -1;
}

function tokenize(query: string, from: number): Token[] {
  const tokens: Token[] = [];
  let i = from;
  while (i < query.length) {
    const c = query[i] as string;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const offset = byteOffset(query, i);
    if (c === "[" || c === "]") {
      tokens.push({ kind: c, text: c, offset });
      i += 1;
      continue;
    }
    let kind: Token["kind"] = "word";
    let start = i;
    if (c === "@" || c === "$") {
      kind = c === "@" ? "attr" : "param";
      start = i + 1;
    }
    let j = start;
    while (j < query.length && !/[\s[\]]/.test(query[j] as string)) j += 1;
    tokens.push({ kind, text: query.slice(start, j), offset });
    i = Math.max(j, i + 1);
  }
  return tokens;
}

/**
 * Parses the clause starting at `arrow` (the index of `=>`). Throws RedisReplyError with Redis's
 * syntax-error text (offset of the offending token, near the last token that had a value).
 */
export function parseKnnClause(query: string, arrow: number): KnnClause {
  const tokens = tokenize(query, arrow + 2);
  let pos = 0;
  let lastValued = ">[";
  const fail = (t: Token | undefined): RedisReplyError => {
    if (!t) {
      const last = tokens[tokens.length - 1];
      return syntaxError(last ? last.offset : byteOffset(query, arrow), last && last.kind !== "[" && last.kind !== "]" ? last.text : lastValued);
    }
    const near = t.kind === "[" || t.kind === "]" ? lastValued : t.text;
    return syntaxError(t.offset, near);
  };
  const take = (): Token | undefined => {
    const t = tokens[pos];
    pos += 1;
    if (t && t.kind !== "[" && t.kind !== "]") lastValued = t.text;
    return t;
  };
  const open = take();
  if (!open || open.kind !== "[") throw fail(open);
  const knn = take();
  if (!knn || knn.kind !== "word" || knn.text.toUpperCase() !== "KNN") throw fail(knn);
  const kTok = take();
  if (!kTok || !((kTok.kind === "word" && /^\d+$/.test(kTok.text)) || kTok.kind === "param")) throw fail(kTok);
  const fieldTok = take();
  if (!fieldTok || fieldTok.kind !== "attr") throw fail(fieldTok);
  const vecTok = take();
  if (!vecTok || vecTok.kind !== "param") throw fail(vecTok);
  let efRuntime: KnnClause["efRuntime"];
  let hybridPolicy: string | undefined;
  let batchSize: string | undefined;
  let as: string | undefined;
  for (;;) {
    const t = take();
    if (!t) throw fail(undefined);
    if (t.kind === "]") break;
    if (t.kind !== "word") throw fail(t);
    const key = t.text.toUpperCase();
    const v = take();
    if (!v || (v.kind !== "word" && v.kind !== "param")) throw fail(v);
    if (key === "AS") as = v.text;
    else if (key === "EF_RUNTIME") efRuntime = { value: v.text, isParam: v.kind === "param" };
    else if (key === "HYBRID_POLICY") hybridPolicy = v.text;
    else if (key === "BATCH_SIZE") batchSize = v.text;
    else if (key === "EPSILON") {
      // accepted by HNSW only; the stand-in treats it like EF_RUNTIME for validation
      efRuntime = efRuntime ?? { value: v.text, isParam: v.kind === "param" };
    } else throw new RedisReplyError("Error parsing vector similarity parameters: Invalid option");
  }
  const extra = tokens[pos];
  if (extra) throw syntaxError(extra.offset, extra.kind === "[" || extra.kind === "]" ? lastValued : extra.text);
  const clause: KnnClause = {
    k: { value: kTok.text, isParam: kTok.kind === "param" },
    field: fieldTok.text,
    fieldOffset: fieldTok.offset,
    vectorParam: vecTok.text,
    ...(efRuntime ? { efRuntime } : {}),
    ...(hybridPolicy !== undefined ? { hybridPolicy } : {}),
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(as !== undefined ? { as } : {}),
  };
  return clause;
}
