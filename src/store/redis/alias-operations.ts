/**
 * Aliases on Redis (domain/alias.ts). Two things per alias, kept in step:
 *   1. vecrec's own alias: a field of the aliases hash `<prefix>aliases` (alias → index name), the
 *      SOURCE OF TRUTH: every vecrec call resolves aliases from it (IndexDefinitions.get, read each
 *      time, never cached), so a moved alias takes effect for the next call on every replica;
 *   2. the FT alias `<prefix>idx:<alias>` → `<prefix>idx:<index>` (FT.ALIASUPDATE/FT.ALIASDEL,
 *      commands/ft-alias.ts), for whoever queries Redis directly (FT.SEARCH on the alias).
 * Every command touches one key or none (the FT ones are keyless: on a cluster the coordinator applies
 * them on every shard), so all of it is cluster-safe; the two writes are not one transaction.
 *
 * A crash (or a lost connection) between them: create and move write the hash first, then the FT
 * alias; delete removes the FT alias first, then the hash field. So the hash is never behind what a
 * call acknowledged, and vecrec is right at once; only the FT alias may be missing, stale or left over.
 * Repeating the call repairs it: CreateAlias of an alias already pointing there and UpdateAlias to the
 * same index re-send FT.ALIASUPDATE (which adds or moves), DeleteAlias finds the hash field still there.
 * Two replicas moving one alias at once: the hash keeps the last HSET, the FT alias the last
 * FT.ALIASUPDATE, which may differ; the next UpdateAlias sets both.
 *
 * Checks (an index named like the alias, a target that is itself an alias or missing) are read in the
 * same round trip before writing, not atomically with the write (two hashes): an index created with
 * the alias's name on another replica at that very moment could coexist with it; resolution then
 * prefers the index (IndexDefinitions.get reads the definition first).
 */
import { aliasNamedLikeIndex, aliasPointsElsewhere, aliasToAlias } from "../../domain/alias.js";
import { AliasNotFoundError, IndexNotFoundError } from "../../domain/errors.js";
import type { IndexSpec } from "../../domain/schema.js";
import { ftAliasDelArgs, ftAliasUpdateArgs } from "./commands/ft-alias.js";
import type { IndexOperations } from "./index-operations.js";
import { isAliasMissingError, isUnknownIndexError } from "./redis-errors.js";
import { RedisRoom, type StoreContext } from "./redis-room.js";
import { replyNumber } from "./reply-parsers.js";

export class AliasOperations extends RedisRoom {
  readonly #indexes: IndexOperations;

  constructor(context: StoreContext, indexes: IndexOperations) {
    super(context);
    this.#indexes = indexes;
  }

  /**
   * What the alias points to now, after checking that `indexName` can be its target.
   * @throws AlreadyExistsError (an index is named `alias`), FailedPreconditionError (the target is an
   *   alias), IndexNotFoundError
   */
  async #check(alias: string, indexName: string, signal: AbortSignal | undefined): Promise<{ current: string | undefined; spec: IndexSpec }> {
    const [aliasIsIndex, spec, targetIsAlias, current] = await Promise.all([
      this.definitions.read(alias, signal),
      this.definitions.read(indexName, signal),
      this.definitions.aliasTarget(indexName, signal),
      this.definitions.aliasTarget(alias, signal),
    ]);
    if (aliasIsIndex !== undefined) throw aliasNamedLikeIndex(alias);
    if (targetIsAlias !== undefined) throw aliasToAlias(indexName, targetIsAlias);
    if (spec === undefined) throw await this.definitions.notFound(indexName, signal);
    return { current, spec };
  }

  /** The FT alias to `spec`'s FT index (recreated first when only the definition survived). */
  async #pointFtAlias(alias: string, spec: IndexSpec, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.send(ftAliasUpdateArgs(this.keys, alias, spec.name), undefined, signal);
    } catch (error) {
      if (!isUnknownIndexError(error)) throw error;
      await this.#indexes.ensureFtIndex(spec, signal);
      await this.send(ftAliasUpdateArgs(this.keys, alias, spec.name), undefined, signal);
    }
  }

  /** Every method's commands are bounded by `signal` (a call stopped part-way can be repeated). */
  async createAlias(alias: string, indexName: string, signal?: AbortSignal): Promise<{ created: boolean }> {
    const { current, spec } = await this.#check(alias, indexName, signal);
    if (current !== undefined && current !== indexName) throw aliasPointsElsewhere(alias, current);
    let created = false;
    if (current === undefined) {
      created = replyNumber(await this.definitions.sendAliases(["HSETNX", this.definitions.aliasesKey, alias, indexName], signal)) === 1;
      if (!created) {
        // Created by another call meanwhile.
        const now = await this.definitions.aliasTarget(alias, signal);
        if (now !== undefined && now !== indexName) throw aliasPointsElsewhere(alias, now);
      }
    }
    // Also when it existed: repairs an FT alias a crash left behind (see the header).
    await this.#pointAndCheck(alias, spec, undefined, signal);
    return { created };
  }

  /** Points the FT alias at `spec`'s index, then makes sure that index was not dropped meanwhile (#undoIfDropped). */
  async #pointAndCheck(alias: string, spec: IndexSpec, previous: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#pointFtAlias(alias, spec, signal);
    } catch (error) {
      // The FT index is gone and its definition too (a drop finished meanwhile).
      if (error instanceof IndexNotFoundError) await this.#undoIfDropped(alias, spec.name, previous, signal);
      throw error;
    }
    await this.#undoIfDropped(alias, spec.name, previous, signal);
  }

  /**
   * After an alias was pointed at `indexName`: when a DropIndex deleted that index meanwhile (its
   * check of the aliases came before this write), the alias goes back to `previous` (undefined: it is
   * deleted) if it still points there, and the call fails NOT_FOUND; the drop does the same from its
   * side when it reads the aliases after deleting the definition (index-operations.ts), so that no
   * alias is left pointing at a dropped index whichever comes first.
   */
  async #undoIfDropped(alias: string, indexName: string, previous: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    if ((await this.definitions.read(indexName, signal)) !== undefined) return;
    await this.definitions.setAliasIf(alias, indexName, previous, signal);
    try {
      await this.send(previous === undefined ? ftAliasDelArgs(this.keys, alias) : ftAliasUpdateArgs(this.keys, alias, previous), undefined, signal);
    } catch {
      // The FT alias went with the dropped FT index, or the previous one is gone too: nothing to put back.
    }
    throw await this.definitions.notFound(indexName, signal);
  }

  async updateAlias(alias: string, indexName: string, signal?: AbortSignal): Promise<{ previousIndexName: string }> {
    const { current, spec } = await this.#check(alias, indexName, signal);
    if (current === undefined) throw new AliasNotFoundError(alias);
    if (current !== indexName) await this.definitions.sendAliases(["HSET", this.definitions.aliasesKey, alias, indexName], signal);
    await this.#pointAndCheck(alias, spec, current === indexName ? undefined : current, signal);
    return { previousIndexName: current };
  }

  async deleteAlias(alias: string, signal?: AbortSignal): Promise<{ indexName: string }> {
    const indexName = await this.definitions.aliasTarget(alias, signal);
    if (indexName === undefined) throw new AliasNotFoundError(alias);
    try {
      await this.send(ftAliasDelArgs(this.keys, alias), undefined, signal);
    } catch (error) {
      if (!isAliasMissingError(error)) throw error;
    }
    await this.definitions.sendAliases(["HDEL", this.definitions.aliasesKey, alias], signal);
    return { indexName };
  }
}
