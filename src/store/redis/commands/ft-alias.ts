/**
 * FT.ALIASUPDATE / FT.ALIASDEL: the FT alias `<prefix>idx:<alias>` kept beside vecrec's own alias
 * (the aliases hash, which is what vecrec resolves: alias-operations.ts), so that FT.SEARCH and
 * FT.INFO sent to Redis directly on the alias reach the same index.
 *
 * ALIASUPDATE rather than ALIASADD: it adds a missing alias and moves an existing one (recorded on
 * 7.4.1: `FT.ALIASUPDATE fresh lc` → OK), so repeating it repairs whatever a crash left; ALIASADD
 * answers `Alias already exists` even for the same index. Errors (recorded on 7.4.1, standalone and
 * cluster): `Unknown index name (or name is an alias itself)` for a missing target index;
 * FT.ALIASDEL of a missing alias: `Alias does not exist`. Cluster: keyless, sent to any node, whose
 * coordinator applies it on every shard (recorded in c03-index-admin).
 */
import type { RedisKeys } from "../redis-keys.js";

export function ftAliasUpdateArgs(keys: RedisKeys, alias: string, indexName: string): string[] {
  return ["FT.ALIASUPDATE", keys.ftIndex(alias), keys.ftIndex(indexName)];
}

export function ftAliasDelArgs(keys: RedisKeys, alias: string): string[] {
  return ["FT.ALIASDEL", keys.ftIndex(alias)];
}
