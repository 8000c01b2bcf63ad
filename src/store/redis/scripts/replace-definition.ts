/**
 * The change of an index definition (setInterests: index-definitions.ts, replace): HSET of the new
 * definition only while the field still holds the one that was read, atomically on the one key, so
 * that a DropIndex (or another change) in between is not undone: a plain HSET after a drop deleted the
 * definition brought the index back, and reads then rebuilt its FT index. With a recompute mark, it is
 * written in the same step.
 *
 * KEYS[1] the definitions hash; ARGV: the index name, the definition read, the new definition, and
 * optionally the recompute mark's field and value. Reply: 1 when replaced, 0 when the definition was
 * not the one read (gone or changed).
 */
export const REPLACE_DEFINITION_SCRIPT = [
  "if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end",
  "if #ARGV >= 5 then",
  "  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3], ARGV[4], ARGV[5])",
  "else",
  "  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])",
  "end",
  "return 1",
].join("\n");
