/**
 * Readers for Redis replies as node-redis hands them over with vecrec's type mapping (blob strings as
 * Buffers, maps as Map). They accept the RESP2 shapes too (flat arrays, numbers as strings), so a
 * client configured with `RESP: 2` still works. Every reader throws an Error naming the shape it did
 * not expect instead of returning garbage.
 */

/** A reply value: what the decoder produces. */
export type Reply = unknown;

/** Text of a string-like reply (Buffer, string, number). */
export function replyText(value: Reply): string {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  throw new TypeError(`expected a string reply, got ${describe(value)}`);
}

/** Bytes of a string-like reply. */
export function replyBytes(value: Reply): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === "string") return Buffer.from(value, "utf8");
  throw new TypeError(`expected a bulk string reply, got ${describe(value)}`);
}

/**
 * A number from an integer, double or string reply. Understands the Redis spellings of the special
 * values (`inf`, `-inf`, `nan`, `-nan`).
 */
export function replyNumber(value: Reply): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  const text = replyText(value).trim().toLowerCase();
  switch (text) {
    case "inf":
    case "+inf":
    case "infinity":
    case "+infinity":
      return Infinity;
    case "-inf":
    case "-infinity":
      return -Infinity;
    case "nan":
    case "-nan":
      return NaN;
  }
  const n = Number(text);
  if (text === "" || Number.isNaN(n)) throw new TypeError(`expected a number reply, got ${JSON.stringify(text)}`);
  return n;
}

/** Key/value pairs of a map reply (Map, plain object, or a RESP2 flat array). Keys become text. */
export function replyEntries(value: Reply): [string, Reply][] {
  if (value instanceof Map) {
    return [...(value as Map<unknown, unknown>).entries()].map(([k, v]) => [replyText(k), v]);
  }
  if (Array.isArray(value)) {
    if (value.length % 2 !== 0) throw new TypeError("expected a map reply, got an array of odd length");
    const out: [string, Reply][] = [];
    for (let i = 0; i < value.length; i += 2) out.push([replyText(value[i]), value[i + 1]]);
    return out;
  }
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    return Object.entries(value as Record<string, unknown>);
  }
  throw new TypeError(`expected a map reply, got ${describe(value)}`);
}

/** A map reply as a Map with text keys. */
export function replyMap(value: Reply): Map<string, Reply> {
  return new Map(replyEntries(value));
}

export function replyArray(value: Reply): Reply[] {
  if (Array.isArray(value)) return value;
  if (value instanceof Set) return [...(value as Set<unknown>)];
  throw new TypeError(`expected an array reply, got ${describe(value)}`);
}

export interface SearchRow {
  /** The Redis key of the document. */
  readonly key: string;
  /** Returned fields (field name -> raw value), empty with NOCONTENT. */
  readonly fields: ReadonlyMap<string, Reply>;
}

export interface SearchReply {
  readonly total: number;
  readonly rows: readonly SearchRow[];
  /**
   * The RESP3 `warning` list when it is not empty, e.g. `Timeout limit was reached` when the server's
   * query timeout cut the results short under ON_TIMEOUT RETURN (RESP2 replies carry no warnings).
   */
  readonly warnings?: readonly string[];
}

/**
 * Reads an FT.SEARCH reply: RESP3 `{attributes, format, results: [{id, extra_attributes, values}],
 * total_results, warning}` or RESP2 `[total, key, [field, value, ...], ...]`.
 */
export function parseSearchReply(reply: Reply): SearchReply {
  if (Array.isArray(reply)) return parseSearchReplyResp2(reply);
  const top = replyMap(reply);
  const total = replyNumber(top.get("total_results") ?? 0);
  const results = replyArray(top.get("results") ?? []);
  const warning = top.get("warning");
  const warnings = warning === undefined || warning === null ? [] : replyArray(warning).map(replyText);
  const rows = results.map((result): SearchRow => {
    const row = replyMap(result);
    const attributes = row.get("extra_attributes");
    return {
      key: replyText(row.get("id")),
      fields: attributes === undefined ? new Map() : replyMap(attributes),
    };
  });
  return warnings.length > 0 ? { total, rows, warnings } : { total, rows };
}

function parseSearchReplyResp2(reply: Reply[]): SearchReply {
  const total = replyNumber(reply[0] ?? 0);
  const rows: SearchRow[] = [];
  for (let i = 1; i < reply.length; i++) {
    const key = replyText(reply[i]);
    const next = reply[i + 1];
    if (Array.isArray(next)) {
      rows.push({ key, fields: replyMap(next) });
      i++;
    } else {
      rows.push({ key, fields: new Map() });
    }
  }
  return { total, rows };
}

export interface FtInfo {
  readonly numDocs: number;
  readonly indexing: boolean;
  /** 0..1 */
  readonly percentIndexed: number;
  readonly hashIndexingFailures: number;
}

/** Reads the FT.INFO fields vecrec reports (a map under RESP3, a flat array under RESP2). */
export function parseInfoReply(reply: Reply): FtInfo {
  const info = replyMap(reply);
  const number = (key: string, fallback: number): number => {
    const value = info.get(key);
    if (value === undefined || value === null) return fallback;
    const n = replyNumber(value);
    return Number.isNaN(n) ? fallback : n;
  };
  return {
    numDocs: number("num_docs", 0),
    indexing: number("indexing", 0) !== 0,
    percentIndexed: Math.min(1, Math.max(0, number("percent_indexed", 1))),
    hashIndexingFailures: number("hash_indexing_failures", 0),
  };
}

/**
 * Reads `ZRANGE ... WITHSCORES`: RESP3 `[[member, score], ...]` or RESP2 `[member, score, ...]`.
 */
export function parseScoredMembers(reply: Reply): { member: string; score: number }[] {
  const items = replyArray(reply);
  if (items.length > 0 && Array.isArray(items[0])) {
    return items.map((pair) => {
      const [member, score] = replyArray(pair);
      return { member: replyText(member), score: replyNumber(score) };
    });
  }
  const out: { member: string; score: number }[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    out.push({ member: replyText(items[i]), score: replyNumber(items[i + 1]) });
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Map) return "a map";
  return typeof value;
}
