/**
 * The claim of an index name in the definitions hash (index-definitions.ts): HSETNX of the definition
 * and, only when it was stored, HDEL of the mark an earlier DropIndex with delete_items left for that
 * name, atomically on the one key. Not a MULTI/EXEC: the HDEL must not run when the name is taken (the
 * mark may belong to a drop under way).
 *
 * KEYS[1] the definitions hash; ARGV: the index name, its JSON definition, its drop mark's field.
 * Reply: 1 when the definition was stored, 0 when the name was taken.
 */
export const CLAIM_INDEX_SCRIPT = [
  "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then",
  "  redis.call('HDEL', KEYS[1], ARGV[3])",
  "  return 1",
  "end",
  "return 0",
].join("\n");
