/**
 * UpdateItems on one item, as a Lua script on the item's one key: when the hash exists (or creating is
 * allowed), HSET of the fields to set (the hidden id always among them) then HDEL of the fields to
 * remove. A script runs atomically and touches one key, so it is cluster-safe and needs no WATCH, and no
 * other write lands between the existence check and the change. Sent with EVALSHA, falling back to EVAL
 * when the server does not know the script yet.
 *
 * KEYS[1] the item hash; ARGV: "1" to create a missing item (else "0"), the number n of field/value
 * pairs, the n pairs, then the fields to remove. Reply: 1 updated, 2 created, 0 missing (nothing done).
 */
import { createHash } from "node:crypto";

export const UPDATE_ITEM_SCRIPT = [
  "local exists = redis.call('EXISTS', KEYS[1]) == 1",
  "if not exists and ARGV[1] ~= '1' then return 0 end",
  "local pairs_end = 2 + 2 * tonumber(ARGV[2])",
  "redis.call('HSET', KEYS[1], unpack(ARGV, 3, pairs_end))",
  "if #ARGV > pairs_end then redis.call('HDEL', KEYS[1], unpack(ARGV, pairs_end + 1, #ARGV)) end",
  "if exists then return 1 end",
  "return 2",
].join("\n");

export const UPDATE_ITEM_SHA1 = createHash("sha1").update(UPDATE_ITEM_SCRIPT).digest("hex");

/** The ARGV part of one call (after `numkeys key`); `pairs` holds at least the id field and its value. */
export function updateItemArgs(create: boolean, pairs: readonly (string | Buffer)[], remove: readonly string[]): (string | Buffer)[] {
  return [create ? "1" : "0", String(pairs.length / 2), ...pairs, ...remove];
}
