/**
 * `RESTORE key 0 <payload> REPLACE` of a hash: the whole hash replaced by exactly the given field/value
 * pairs, in one command on one key (atomic, cluster-safe). The payload is the serialization DUMP
 * produces and RESTORE reads (Redis's cluster.c verifyDumpPayload and rdb.c rdbLoadObject):
 *
 *   RDB_TYPE_HASH (4) | number of pairs | each field then value as an RDB string | RDB version (2 bytes,
 *   little endian) | CRC-64 of everything before it (8 bytes, little endian)
 *
 * with lengths in RDB's length encoding (rdbSaveLen: 6, 14 or 32 bits, the first byte saying which) and
 * strings raw (a length, then the bytes). RDB_VERSION_WRITTEN is 9 (Redis 5.0), which every Redis from
 * 5.0 on reads (they refuse only a version newer than their own) and whose hash encoding has not changed
 * since; Redis checks the CRC unless told not to.
 *
 * Why RESTORE (items.ts): an Upsert replaces the whole item, and an item that leaves some schema fields
 * out must not keep an older version's values of them. RESTORE REPLACE does that in Redis's own code:
 * it costs Redis about what an HSET of the same fields does (6.4-6.8 µs a 128-dim item against 5.6-6.3
 * for the HSET, commandstats on Redis 7.4.1 + RediSearch 2.10.32), where the Lua script doing HDEL +
 * HSET cost 8.9-9.9 µs. The Query Engine indexes a restored hash as it does one written by HSET (its
 * `restore` keyspace event; a REPLACE of an existing key is a `del` then a `restore`, in one command).
 *
 * Written by hand: no npm package encodes Redis's DUMP format or its CRC-64 variant (Jones polynomial,
 * reflected, no final xor: crc64.c); the format is small and a test checks it against payloads a real
 * Redis produced (test/unit/store/redis/restore-hash.test.ts).
 */
import type { RedisArg } from "../connection.js";

/** RDB_TYPE_HASH: a hash as a length then field/value strings (rdb.h). */
const RDB_TYPE_HASH = 4;
/** The RDB version the payloads carry (Redis 5.0's); see the header. */
export const RDB_VERSION_WRITTEN = 9;

/** The arguments of a RESTORE that replaces `key` with a hash of `pairs` (field, value, field, value, ...). */
export function restoreHashArgs(key: RedisArg, pairs: readonly (string | Buffer)[]): RedisArg[] {
  return ["RESTORE", key, "0", hashDumpPayload(pairs), "REPLACE"];
}

/** DUMP's serialization of a hash holding `pairs` (field, value, ...). */
export function hashDumpPayload(pairs: readonly (string | Buffer)[]): Buffer {
  if (pairs.length % 2 !== 0) throw new RangeError("a hash payload needs field/value pairs");
  // Byte lengths; -1 marks an ASCII string (its length is its byte length), copied below by a plain loop:
  // the fields and values are short and mostly ASCII, where Buffer.byteLength and buf.write cost a call
  // into C++ each (measured: about 40% of the payload's build without the CRC).
  const lengths = new Array<number>(pairs.length);
  let size = 1 + lengthSize(pairs.length / 2) + 10;
  for (let i = 0; i < pairs.length; i++) {
    const part = pairs[i]!;
    let length: number;
    if (typeof part === "string") {
      length = isAscii(part) ? part.length : Buffer.byteLength(part, "utf8");
      lengths[i] = length === part.length && length <= SHORT_STRING ? -1 : length;
    } else {
      length = part.length;
      lengths[i] = length;
    }
    size += lengthSize(length) + length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = RDB_TYPE_HASH;
  let at = writeLength(out, 1, pairs.length / 2);
  for (let i = 0; i < pairs.length; i++) {
    const part = pairs[i]!;
    const length = lengths[i]!;
    if (length === -1) {
      const text = part as string;
      at = writeLength(out, at, text.length);
      for (let j = 0; j < text.length; j++) out[at++] = text.charCodeAt(j);
      continue;
    }
    at = writeLength(out, at, length);
    if (typeof part === "string") at += out.write(part, at, "utf8");
    else {
      out.set(part, at);
      at += part.length;
    }
  }
  out.writeUInt16LE(RDB_VERSION_WRITTEN, at);
  at += 2;
  crc64(out, 0, at, out, at);
  return out;
}

/** Strings up to this many characters are copied by the JS loop when ASCII (longer ones by buf.write). */
const SHORT_STRING = 64;

/** Whether every UTF-16 unit of `text` is below 0x80 (for the short strings the loop copies; else a quick no). */
function isAscii(text: string): boolean {
  if (text.length > SHORT_STRING) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Bytes of RDB's encoding of the length `n`. */
function lengthSize(n: number): number {
  return n < 1 << 6 ? 1 : n < 1 << 14 ? 2 : 5;
}

/** Writes RDB's encoding of the length `n` (< 2^32) at `at`; returns the offset after it. */
function writeLength(out: Buffer, at: number, n: number): number {
  if (n < 1 << 6) {
    out[at] = n;
    return at + 1;
  }
  if (n < 1 << 14) {
    out[at] = 0x40 | (n >>> 8);
    out[at + 1] = n & 0xff;
    return at + 2;
  }
  if (n > 0xffffffff) throw new RangeError("a hash payload part of 4 GiB or more");
  out[at] = 0x80;
  out.writeUInt32BE(n, at + 1);
  return at + 5;
}

// CRC-64 as Redis computes it (crc64.c: Jones polynomial 0xad93d23594c935a9, reflected in and out,
// initial value 0, no final xor), on two 32-bit halves, eight bytes a step ("slicing by 8"): about
// 0.6 µs for a 128-dim item's 566 bytes. TABLE_LO/HI[t * 256 + b]: the CRC of byte b followed by t zero
// bytes.
const TABLE_LO = new Uint32Array(8 * 256);
const TABLE_HI = new Uint32Array(8 * 256);
{
  // The polynomial bit-reversed (reflected): 0x95ac9329ac4bc9b5.
  const polyLo = 0xac4bc9b5;
  const polyHi = 0x95ac9329;
  for (let b = 0; b < 256; b++) {
    let lo = b;
    let hi = 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi >>>= 1;
      if (carry !== 0) {
        lo = (lo ^ polyLo) >>> 0;
        hi = (hi ^ polyHi) >>> 0;
      }
    }
    TABLE_LO[b] = lo;
    TABLE_HI[b] = hi;
  }
  for (let t = 1; t < 8; t++) {
    for (let b = 0; b < 256; b++) {
      const lo = TABLE_LO[(t - 1) * 256 + b]!;
      const hi = TABLE_HI[(t - 1) * 256 + b]!;
      TABLE_LO[t * 256 + b] = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[lo & 0xff]!) >>> 0;
      TABLE_HI[t * 256 + b] = ((hi >>> 8) ^ TABLE_HI[lo & 0xff]!) >>> 0;
    }
  }
}

/** Redis's CRC-64 of `data[start, end)`, written little endian (as DUMP does) into `out` at `at`. */
export function crc64(data: Uint8Array, start: number, end: number, out: Buffer, at: number): void {
  let lo = 0;
  let hi = 0;
  let i = start;
  const T = TABLE_LO;
  const H = TABLE_HI;
  for (; i + 8 <= end; i += 8) {
    const a = (lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    const b = (hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24))) >>> 0;
    lo =
      T[1792 + (a & 0xff)]! ^ T[1536 + ((a >>> 8) & 0xff)]! ^ T[1280 + ((a >>> 16) & 0xff)]! ^ T[1024 + (a >>> 24)]! ^
      T[768 + (b & 0xff)]! ^ T[512 + ((b >>> 8) & 0xff)]! ^ T[256 + ((b >>> 16) & 0xff)]! ^ T[b >>> 24]!;
    hi =
      H[1792 + (a & 0xff)]! ^ H[1536 + ((a >>> 8) & 0xff)]! ^ H[1280 + ((a >>> 16) & 0xff)]! ^ H[1024 + (a >>> 24)]! ^
      H[768 + (b & 0xff)]! ^ H[512 + ((b >>> 8) & 0xff)]! ^ H[256 + ((b >>> 16) & 0xff)]! ^ H[b >>> 24]!;
  }
  for (; i < end; i++) {
    const index = (lo ^ data[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ T[index]!) >>> 0;
    hi = ((hi >>> 8) ^ H[index]!) >>> 0;
  }
  out.writeUInt32LE(lo >>> 0, at);
  out.writeUInt32LE(hi >>> 0, at + 4);
}
