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
  return [...replyMap(value)];
}

/**
 * A map reply (Map, plain object, or a RESP2 flat array) as a Map with text keys. Under RESP3 the
 * decoder's own Map is returned as it is when its keys are text already (node-redis decodes string map
 * keys as strings): a Search reads one map per hit and one for its fields, so no copy is made of
 * either. A RESP2 flat array is read into a new Map in one pass.
 */
export function replyMap(value: Reply): ReadonlyMap<string, Reply> {
  if (value instanceof Map) {
    const map = value as Map<unknown, unknown>;
    for (const key of map.keys()) if (typeof key !== "string") return textKeyed(map);
    return map as Map<string, Reply>;
  }
  if (Array.isArray(value)) {
    if (value.length % 2 !== 0) throw new TypeError("expected a map reply, got an array of odd length");
    const out = new Map<string, Reply>();
    for (let i = 0; i < value.length; i += 2) out.set(replyText(value[i]), value[i + 1]);
    return out;
  }
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    return new Map(Object.entries(value as Record<string, unknown>));
  }
  throw new TypeError(`expected a map reply, got ${describe(value)}`);
}

/** A copy of `map` with every key as text. */
function textKeyed(map: Map<unknown, unknown>): Map<string, Reply> {
  const out = new Map<string, Reply>();
  for (const [key, entry] of map) out.set(typeof key === "string" ? key : replyText(key), entry);
  return out;
}

export function replyArray(value: Reply): Reply[] {
  if (Array.isArray(value)) return value;
  if (value instanceof Set) return [...(value as Set<unknown>)];
  throw new TypeError(`expected an array reply, got ${describe(value)}`);
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
