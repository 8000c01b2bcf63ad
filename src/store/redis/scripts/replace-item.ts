/**
 * Upsert of one item that leaves some schema fields out, as a Lua script on the item's one key: HDEL of
 * the fields the new item lacks (those an older version of it may hold), then HSET of its fields, so
 * that no reader ever sees a mix of the two versions. A script runs atomically and touches one key, so
 * it is cluster-safe; unlike a MULTI/EXEC block it is one command, which pipelines with the plain HSETs
 * of the items that set every field (items.ts). HDEL of fields the hash does not hold changes nothing
 * (no keyspace event, so the Query Engine does not index the document twice).
 *
 * KEYS[1] the item hash; ARGV: the number n of fields to remove, those n fields, then the field/value
 * pairs to set. Reply: HSET's (the number of fields added).
 */
import { createHash } from "node:crypto";

export const REPLACE_ITEM_SCRIPT = [
  "local n = tonumber(ARGV[1])",
  "if n > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 2, n + 1)) end",
  "return redis.call('HSET', KEYS[1], unpack(ARGV, n + 2, #ARGV))",
].join("\n");

export const REPLACE_ITEM_SHA1 = createHash("sha1").update(REPLACE_ITEM_SCRIPT).digest("hex");
