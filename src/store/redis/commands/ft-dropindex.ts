/**
 * FT.DROPINDEX [DD]: removes the FT index (the definition hash is vecrec's own business). With DD,
 * Redis deletes the hashes in the index's document table (synchronously; on a cluster every shard
 * its own), not those that failed to index nor those a background scan has not reached yet, which is
 * why dropIndex sweeps the key prefix afterwards. Errors: `<name>: no such index` / `Unknown Index name`.
 */
import type { RedisKeys } from "../redis-keys.js";

export function ftDropIndexArgs(keys: RedisKeys, indexName: string, options: { deleteDocuments: boolean }): string[] {
  const args = ["FT.DROPINDEX", keys.ftIndex(indexName)];
  if (options.deleteDocuments) args.push("DD");
  return args;
}
