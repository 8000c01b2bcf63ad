/**
 * The claim of an index name in the definitions hash (index-definitions.ts): HSETNX of the definition
 * and, only when it was stored, HDEL of the mark an earlier DropIndex with delete_items left for that
 * name, atomically on the one key; refused while that mark says such a drop runs (`dropping:<ms>`, less
 * than the lease old), whose last sweep would delete the new index's items. Not a MULTI/EXEC: the HDEL
 * must not run when the name is taken (the mark may belong to a drop under way).
 *
 * Storing it also deletes a recompute mark left for that name (index-definitions.ts, recomputeMark)
 * by an index of that name dropped before drops deleted them: it is not this index's.
 *
 * KEYS[1] the definitions hash; ARGV: the index name, its JSON definition, its drop mark's field, now
 * (ms), the lease (ms), its recompute mark's field. Reply: 1 when the definition was stored, 0 when the
 * name was taken, -1 when a drop of that name runs.
 */
export const CLAIM_INDEX_SCRIPT = [
  "local mark = redis.call('HGET', KEYS[1], ARGV[3])",
  "if mark and string.sub(mark, 1, 9) == 'dropping:' and tonumber(ARGV[4]) - tonumber(string.sub(mark, 10)) < tonumber(ARGV[5]) then",
  "  return -1",
  "end",
  "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then",
  "  redis.call('HDEL', KEYS[1], ARGV[3], ARGV[6])",
  "  return 1",
  "end",
  "return 0",
].join("\n");
