/**
 * The compare-and-set of one item's interests tag, as a Lua script on the item's one key: the tag
 * field is written (HSET) or removed (HDEL) only when the stored vector is byte-identical to the one
 * the tags were derived from. A script runs atomically and touches one key, so it is cluster-safe and
 * needs no WATCH (whose state would belong to one connection, and whose keys would have to share a
 * slot). Sent with EVALSHA, falling back to EVAL when the server does not know the script yet.
 *
 * KEYS[1] the item hash; ARGV: vector field, expected vector bytes, tag field, "set" or "del", tag value.
 * Reply: 1 when written, 0 when the item is gone or holds another vector.
 */
import { createHash } from "node:crypto";

export const SET_INTEREST_TAG_SCRIPT = [
  "if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end",
  "if ARGV[4] == 'set' then redis.call('HSET', KEYS[1], ARGV[3], ARGV[5]) else redis.call('HDEL', KEYS[1], ARGV[3]) end",
  "return 1",
].join("\n");

export const SET_INTEREST_TAG_SHA1 = createHash("sha1").update(SET_INTEREST_TAG_SCRIPT).digest("hex");

/** The ARGV part of one call (after `numkeys key`). */
export function setInterestTagArgs(
  vectorField: string,
  expectedVector: Buffer,
  tagField: string,
  tags: string | undefined,
): (string | Buffer)[] {
  return [vectorField, expectedVector, tagField, tags === undefined ? "del" : "set", tags ?? ""];
}
