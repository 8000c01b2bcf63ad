/**
 * The embedded engine's index definitions: create, read, list, drop, change interests. Every change goes
 * through the write path (write-path.ts) and names its delta (putIndex, deleteIndex, the kept items).
 *
 * Aliases (aliases.ts, domain/alias.ts) are resolved by getIndexSpec only; dropIndex refuses an alias
 * and an index that aliases point to.
 *
 * Like Redis, dropping an index without deleting items keeps its data (items and interactions), and an
 * index created again under the same name finds it.
 */
import { aliasesOf, dropAliasedIndex, dropThroughAlias, indexNamedLikeAlias } from "../../domain/alias.js";
import { AlreadyExistsError } from "../../domain/errors.js";
import { interestTagField, specsEqual } from "../../domain/index-spec.js";
import type { Item } from "../../domain/item.js";
import type { FieldSpec, IndexInfo, IndexSpec, InterestSpec } from "../../domain/schema.js";
import { vectorField } from "../../domain/schema.js";
import type { CreateIndexResult, VectorStore } from "../vector-store.js";
import { EmbeddedIndex } from "./embedded-index.js";
import { adaptFields, RECOMPUTES_META_KEY } from "./load-persisted.js";
import type { PersistenceBatch } from "./persistence.js";
import { run, runAsync, type EmbeddedState } from "./write-path.js";

export type IndexAdmin = Pick<
  VectorStore,
  "createIndex" | "getIndex" | "getIndexSpec" | "listIndexes" | "dropIndex" | "setInterests" | "interestsRecomputed" | "pendingInterestRecomputes"
>;

export function embeddedIndexAdmin(state: EmbeddedState): IndexAdmin {
  const { indexes, orphans } = state;
  return {
    createIndex(spec: IndexSpec): Promise<CreateIndexResult> {
      return runAsync(() =>
        state.write<CreateIndexResult>(() => {
          state.open();
          const existing = indexes.get(spec.name);
          if (existing !== undefined) {
            if (specsEqual(existing.spec, spec)) return { value: { created: false, info: state.infoOf(existing) } };
            throw new AlreadyExistsError(`index "${spec.name}" already exists with another spec`);
          }
          const aliased = state.aliases.get(spec.name);
          if (aliased !== undefined) throw indexNamedLikeAlias(spec.name, aliased);
          const orphan = orphans.get(spec.name);
          orphans.delete(spec.name);
          const index = new EmbeddedIndex(spec, orphan?.interactions);
          const adaptedItems: Item[] = [];
          if (orphan !== undefined) {
            const dimension = vectorField(spec).dimension;
            const fitting: Item[] = [];
            for (const item of orphan.items) {
              const adapted: Item = { ...item, fields: adaptFields(item.fields, orphan.spec, spec) };
              adaptedItems.push(adapted);
              if (item.vector?.length === dimension) fitting.push(adapted);
              else index.unindexed.set(item.id, adapted);
            }
            index.upsert(fitting);
          }
          indexes.set(spec.name, index);
          return {
            value: { created: true, info: state.infoOf(index) },
            persist: (batch) => {
              batch.putIndex({ spec, live: true });
              // The kept items as the new schema reads them.
              if (adaptedItems.length > 0) batch.putItems(spec.name, adaptedItems);
            },
          };
        }),
      );
    },

    getIndex(name: string): Promise<IndexInfo> {
      return run(() => state.infoOf(state.indexOf(name)));
    },

    getIndexSpec(name: string): Promise<IndexSpec> {
      return run(() => state.resolve(name).spec);
    },

    listIndexes(): Promise<IndexInfo[]> {
      return run(() => {
        state.open();
        return [...indexes.values()]
          .sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0))
          .map((index) => state.infoOf(index));
      });
    },

    dropIndex(name: string, options: { deleteItems: boolean }): Promise<void> {
      return runAsync(() =>
        state.write(() => {
          state.open();
          const target = state.aliases.get(name);
          if (target !== undefined) throw dropThroughAlias(name, target);
          const index = state.indexOf(name);
          const aliases = aliasesOf(state.aliases, name);
          if (aliases.length > 0) throw dropAliasedIndex(name, aliases);
          indexes.delete(name);
          // A recompute the index's UpdateInterests left unfinished goes with it (else the next start
          // would apply it to an index created later under that name).
          const recomputeMarked = state.recomputes.delete(name);
          const forgetRecompute = (batch: PersistenceBatch): void => {
            if (recomputeMarked) batch.putMeta(RECOMPUTES_META_KEY, Object.fromEntries(state.recomputes));
          };
          if (options.deleteItems) {
            return {
              value: undefined,
              persist: (batch) => {
                batch.deleteIndex(name);
                batch.deleteItems(name, [...index.snapshotIds(), ...index.unindexed.keys()]);
                batch.deleteInteractions(name, index.interactions.all());
                forgetRecompute(batch);
              },
            };
          }
          // Searches in flight only read, so the snapshot is consistent without waiting for them.
          orphans.set(name, {
            spec: index.spec,
            items: [...index.allItems(), ...index.unindexed.values()],
            interactions: index.interactions,
          });
          return {
            value: undefined,
            persist: (batch) => {
              batch.putIndex({ spec: index.spec, live: false });
              forgetRecompute(batch);
            },
          };
        }),
      );
    },

    setInterests(name: string, interests: InterestSpec | undefined, options?: { readonly recomputeTagField?: string }): Promise<IndexInfo> {
      return runAsync(() =>
        state.write(() => {
          const index = state.indexOf(name);
          const { spec } = index;
          let fields: readonly FieldSpec[] = spec.fields;
          if (interests !== undefined && !fields.some((f) => f.name === interests.tagField)) {
            fields = [...fields, interestTagField(interests.tagField)];
          }
          const next: IndexSpec = interests === undefined ? { name: spec.name, fields } : { name: spec.name, fields, interests };
          index.spec = next;
          const recompute = options?.recomputeTagField;
          if (recompute !== undefined) state.recomputes.set(spec.name, recompute);
          return {
            value: state.infoOf(index),
            // The definition and the recompute's mark in one transaction.
            persist: (batch) => {
              batch.putIndex({ spec: next, live: true });
              if (recompute !== undefined) batch.putMeta(RECOMPUTES_META_KEY, Object.fromEntries(state.recomputes));
            },
          };
        }),
      );
    },

    interestsRecomputed(name: string): Promise<void> {
      return runAsync(() =>
        state.write(() => {
          state.open();
          if (!state.recomputes.delete(name)) return { value: undefined };
          return { value: undefined, persist: (batch) => batch.putMeta(RECOMPUTES_META_KEY, Object.fromEntries(state.recomputes)) };
        }),
      );
    },

    pendingInterestRecomputes(): Promise<Map<string, string>> {
      return run(() => {
        state.open();
        return new Map(state.recomputes);
      });
    },
  };
}
