/**
 * FT.ALTER ... SCHEMA ADD: one field added to an existing index (vecrec adds only the interests tag
 * field). Redis then indexes the stored hashes for it in the background. Errors: `Unknown index name`,
 * `Duplicate field in schema - <name>` (isDuplicateFieldError). Forwarded to every shard on a cluster.
 */
import type { FieldSpec } from "../../../domain/schema.js";
import type { RedisKeys } from "../redis-keys.js";
import { fieldSchemaArgs } from "./ft-create.js";

/** FT.ALTER adding one field. */
export function alterAddFieldArgs(keys: RedisKeys, indexName: string, field: FieldSpec): string[] {
  return ["FT.ALTER", keys.ftIndex(indexName), "SCHEMA", "ADD", ...fieldSchemaArgs(field)];
}
