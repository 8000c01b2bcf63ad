/**
 * RESTORE's payload as Redis 7.4.1 reads it (cluster.c verifyDumpPayload, rdb.c rdbLoadObject), for the
 * one kind the stand-in restores: a hash in RDB_TYPE_HASH (4) form, strings raw. The checks and their
 * errors are Redis's: a version newer than RDB_VERSION (12) or a wrong CRC-64 answer "ERR DUMP payload
 * version or checksum are wrong"; a payload that does not read as a whole, non-empty hash without
 * duplicate fields answers "ERR Bad data format". Other object types and RDB's compressed or integer
 * string forms (which DUMP itself may write) are refused as unmodelled.
 *
 * The CRC-64 here is computed bit by bit from the definition (Jones polynomial, reflected, no final xor),
 * independently of the table-driven one vecrec's encoder uses.
 */
import { RedisReplyError } from "../search-index.js";

/** Redis 7.4.1's and 8.0.2's rdb.h RDB_VERSION. */
const RDB_VERSION = 12;
const RDB_TYPE_HASH = 4;
/** The reflected Jones polynomial. */
const POLY = 0x95ac9329ac4bc9b5n;

/** Redis's CRC-64 of `data`, bit by bit from the definition (slow; for checking, not for speed). */
export function crc64Bitwise(data: Uint8Array): bigint {
  let crc = 0n;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ POLY : crc >> 1n;
  }
  return crc;
}

const badFormat = (): RedisReplyError => new RedisReplyError("ERR Bad data format");

/** The field/value pairs of a hash payload; throws Redis's error replies. */
export function readHashPayload(payload: Buffer): Map<string, Buffer> {
  if (payload.length < 10) throw new RedisReplyError("ERR DUMP payload version or checksum are wrong");
  const version = payload.readUInt16LE(payload.length - 10);
  if (version > RDB_VERSION || crc64Bitwise(payload.subarray(0, payload.length - 8)) !== payload.readBigUInt64LE(payload.length - 8)) {
    throw new RedisReplyError("ERR DUMP payload version or checksum are wrong");
  }
  const end = payload.length - 10;
  let at = 0;
  const length = (): number => {
    if (at >= end) throw badFormat();
    const first = payload[at]!;
    switch (first >> 6) {
      case 0:
        at += 1;
        return first & 0x3f;
      case 1:
        if (at + 2 > end) throw badFormat();
        at += 2;
        return ((first & 0x3f) << 8) | payload[at - 1]!;
      default:
        if (first !== 0x80 || at + 5 > end) {
          throw new RedisReplyError("ERR stand-in: only RDB's 6-, 14- and 32-bit lengths and raw strings are modelled");
        }
        at += 5;
        return payload.readUInt32BE(at - 4);
    }
  };
  const string = (): Buffer => {
    const n = length();
    if (at + n > end) throw badFormat();
    at += n;
    return payload.subarray(at - n, at);
  };
  if (payload[at++] !== RDB_TYPE_HASH) throw new RedisReplyError("ERR stand-in: RESTORE of anything but an RDB_TYPE_HASH hash is not modelled");
  const pairs = length();
  if (pairs === 0) throw badFormat();
  const hash = new Map<string, Buffer>();
  for (let i = 0; i < pairs; i++) {
    const field = string().toString("utf8");
    const value = Buffer.from(string());
    if (hash.has(field)) throw badFormat();
    hash.set(field, value);
  }
  if (at !== end) throw badFormat();
  return hash;
}
