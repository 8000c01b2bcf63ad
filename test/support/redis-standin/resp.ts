/**
 * RESP values as the stand-in builds them, and their encoding for RESP2 or RESP3 connections.
 * One reply model serves both protocols: maps, sets and doubles degrade to their RESP2 shapes
 * (flat array, array, bulk string) the way Redis 8 does.
 */

export type Reply =
  | { readonly t: "simple"; readonly v: string }
  | { readonly t: "error"; readonly v: string }
  | { readonly t: "int"; readonly v: number }
  | { readonly t: "bulk"; readonly v: Buffer }
  | { readonly t: "null" }
  /** The null array (EXEC aborted by WATCH): RESP2 `*-1`, RESP3 `_`. */
  | { readonly t: "nullArray" }
  | { readonly t: "array"; readonly v: readonly Reply[] }
  | { readonly t: "map"; readonly v: ReadonlyArray<readonly [Reply, Reply]> }
  | { readonly t: "set"; readonly v: readonly Reply[] }
  /** `text` overrides the wire text (both protocols) when given. */
  | { readonly t: "double"; readonly v: number; readonly text?: string }
  /** A verbatim string (INFO, CLUSTER INFO): RESP3 `=` with its 3-letter format, RESP2 a bulk string. */
  | { readonly t: "verbatim"; readonly v: Buffer; readonly format: string };

export const OK: Reply = { t: "simple", v: "OK" };
export const NULL: Reply = { t: "null" };
export const NULL_ARRAY: Reply = { t: "nullArray" };

export const simple = (v: string): Reply => ({ t: "simple", v });
export const err = (v: string): Reply => ({ t: "error", v });
export const int = (v: number): Reply => ({ t: "int", v });
export const bulk = (v: Buffer | string): Reply => ({ t: "bulk", v: typeof v === "string" ? Buffer.from(v, "utf8") : v });
export const arr = (v: readonly Reply[]): Reply => ({ t: "array", v });
export const map = (v: ReadonlyArray<readonly [Reply, Reply]>): Reply => ({ t: "map", v });
export const set = (v: readonly Reply[]): Reply => ({ t: "set", v });
export const verbatim = (v: string, format = "txt"): Reply => ({ t: "verbatim", v: Buffer.from(v, "utf8"), format });
export const dbl = (v: number, text?: string): Reply => (text === undefined ? { t: "double", v } : { t: "double", v, text });

/** A map keyed by simple strings, the shape of FT.* replies. */
export const smap = (pairs: ReadonlyArray<readonly [string, Reply]>): Reply =>
  map(pairs.map(([k, v]) => [simple(k), v] as const));

/** How Redis prints a double outside the Query Engine (zset scores): shortest round-trip text. */
export function formatPlainDouble(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  return String(x);
}

/** Encodes `reply` for a connection speaking protocol `proto` (2 or 3). */
export function encodeReply(reply: Reply, proto: 2 | 3): Buffer {
  const chunks: Buffer[] = [];
  write(reply, proto, chunks);
  return Buffer.concat(chunks);
}

function line(chunks: Buffer[], text: string): void {
  chunks.push(Buffer.from(text + "\r\n", "utf8"));
}

function write(reply: Reply, proto: 2 | 3, chunks: Buffer[]): void {
  switch (reply.t) {
    case "simple":
      line(chunks, "+" + reply.v);
      return;
    case "error":
      line(chunks, "-" + reply.v);
      return;
    case "int":
      line(chunks, ":" + String(reply.v));
      return;
    case "bulk":
      line(chunks, "$" + String(reply.v.length));
      chunks.push(reply.v, Buffer.from("\r\n"));
      return;
    case "null":
      line(chunks, proto === 3 ? "_" : "$-1");
      return;
    case "nullArray":
      line(chunks, proto === 3 ? "_" : "*-1");
      return;
    case "array":
      line(chunks, "*" + String(reply.v.length));
      for (const r of reply.v) write(r, proto, chunks);
      return;
    case "set":
      line(chunks, (proto === 3 ? "~" : "*") + String(reply.v.length));
      for (const r of reply.v) write(r, proto, chunks);
      return;
    case "map":
      if (proto === 3) {
        line(chunks, "%" + String(reply.v.length));
      } else {
        line(chunks, "*" + String(reply.v.length * 2));
      }
      for (const [k, v] of reply.v) {
        write(k, proto, chunks);
        write(v, proto, chunks);
      }
      return;
    case "verbatim":
      if (proto === 2) {
        write(bulk(reply.v), proto, chunks);
      } else {
        line(chunks, "=" + String(reply.v.length + 4));
        chunks.push(Buffer.from(reply.format + ":"), reply.v, Buffer.from("\r\n"));
      }
      return;
    case "double": {
      const text = reply.text ?? formatPlainDouble(reply.v);
      if (proto === 3) line(chunks, "," + text);
      else write(bulk(text), proto, chunks);
      return;
    }
  }
}
