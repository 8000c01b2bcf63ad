/**
 * The embedded engine's aliases (domain/alias.ts): a table alias → index name in EmbeddedState, changed
 * through the write path and persisted whole (putMeta(ALIASES_META_KEY), one small record) in the same
 * transaction as nothing else, so a restart finds exactly the aliases acknowledged. Resolution is
 * getIndexSpec's (index-admin.ts, EmbeddedState.resolve).
 */
import { aliasNamedLikeIndex, aliasPointsElsewhere, aliasToAlias } from "../../domain/alias.js";
import { AliasNotFoundError, IndexNotFoundError } from "../../domain/errors.js";
import type { VectorStore } from "../vector-store.js";
import { ALIASES_META_KEY } from "./load-persisted.js";
import type { PersistenceBatch } from "./persistence.js";
import { runAsync, type EmbeddedState } from "./write-path.js";

export type AliasOperations = Pick<VectorStore, "createAlias" | "updateAlias" | "deleteAlias">;

export function embeddedAliases(state: EmbeddedState): AliasOperations {
  const persistTable = (batch: PersistenceBatch): void => batch.putMeta(ALIASES_META_KEY, Object.fromEntries(state.aliases));

  /** @throws IndexNotFoundError, FailedPreconditionError (an alias), AlreadyExistsError (alias named like an index) */
  function checkTarget(alias: string, indexName: string): void {
    state.open();
    if (state.indexes.has(alias)) throw aliasNamedLikeIndex(alias);
    const itsIndex = state.aliases.get(indexName);
    if (itsIndex !== undefined) throw aliasToAlias(indexName, itsIndex);
    if (!state.indexes.has(indexName)) throw new IndexNotFoundError(indexName);
  }

  return {
    createAlias(alias: string, indexName: string): Promise<{ created: boolean }> {
      return runAsync(() =>
        state.write<{ created: boolean }>(() => {
          checkTarget(alias, indexName);
          const current = state.aliases.get(alias);
          if (current === indexName) return { value: { created: false } };
          if (current !== undefined) throw aliasPointsElsewhere(alias, current);
          state.aliases.set(alias, indexName);
          return { value: { created: true }, persist: persistTable };
        }),
      );
    },

    updateAlias(alias: string, indexName: string): Promise<{ previousIndexName: string }> {
      return runAsync(() =>
        state.write(() => {
          state.open();
          const previousIndexName = state.aliases.get(alias);
          if (previousIndexName === undefined) throw new AliasNotFoundError(alias);
          checkTarget(alias, indexName);
          if (previousIndexName === indexName) return { value: { previousIndexName } };
          state.aliases.set(alias, indexName);
          return { value: { previousIndexName }, persist: persistTable };
        }),
      );
    },

    deleteAlias(alias: string): Promise<{ indexName: string }> {
      return runAsync(() =>
        state.write(() => {
          state.open();
          const indexName = state.aliases.get(alias);
          if (indexName === undefined) throw new AliasNotFoundError(alias);
          state.aliases.delete(alias);
          return { value: { indexName }, persist: persistTable };
        }),
      );
    },
  };
}
