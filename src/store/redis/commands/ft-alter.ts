/**
 * FT.ALTER ... SKIPINITIALSCAN SCHEMA ADD: one field added to an existing index. vecrec adds only the
 * interests tag field, and only under a name no field of the schema has, so no stored item holds it (an
 * item's hash holds its schema's fields): Redis's scan would find nothing to add, yet without
 * SKIPINITIALSCAN it walks every key of the database and indexes every item of the index again (an HNSW
 * index of 20,000: max_doc_id 20,000 -> 40,000 and 6 s of Redis busy, on Redis 7.4.1 + RediSearch
 * 2.10.32). The tags are written afterwards (UpdateInterests recomputes them), each write indexed as
 * it happens. Errors: `Unknown index name`, `Duplicate field in schema - <name>` (isDuplicateFieldError).
 * Forwarded to every shard on a cluster.
 */
import type { FieldSpec } from "../../../domain/schema.js";
import type { RedisKeys } from "../redis-keys.js";
import { fieldSchemaArgs } from "./ft-create.js";

/** FT.ALTER adding one field. */
export function alterAddFieldArgs(keys: RedisKeys, indexName: string, field: FieldSpec): string[] {
  return ["FT.ALTER", keys.ftIndex(indexName), "SKIPINITIALSCAN", "SCHEMA", "ADD", ...fieldSchemaArgs(field)];
}
