/**
 * The pruning of old drop marks in the definitions hash (index-definitions.ts, pruneMarks): each mark
 * is deleted only if it still holds the value read before, atomically on the one key, so that a mark a
 * new DropIndex of that name wrote since (`dropping:<ms>`) is kept: deleting it would let that index be
 * created again while the drop runs, whose last sweep would then delete the new index's items.
 *
 * KEYS[1] the definitions hash; ARGV: field, value read, field, value read... Reply: the marks deleted.
 */
export const PRUNE_MARKS_SCRIPT = [
  "local deleted = 0",
  "for i = 1, #ARGV, 2 do",
  "  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then",
  "    deleted = deleted + redis.call('HDEL', KEYS[1], ARGV[i])",
  "  end",
  "end",
  "return deleted",
].join("\n");
