/**
 * Index administration use cases: Index (idempotent create), GetIndex, ListIndexes, DropIndex and
 * UpdateInterests (which recomputes the interests of every item); CreateAlias, UpdateAlias, DeleteAlias
 * (domain/alias.ts). GetIndex and UpdateInterests accept an alias; DropIndex does not (the store refuses).
 */
import { IndexNotFoundError, throwIfAborted, throwIfViolations } from "../domain/errors.js";
import { normalizeIndexSpec, normalizeInterestUpdate } from "../domain/index-spec.js";
import type { IndexSpecInput, InterestInput } from "../domain/index-spec.js";
import { deriveInterests } from "../domain/interests.js";
import { indexNameViolations } from "../domain/request-limits.js";
import { resolveIndexName } from "./index-spec-lookup.js";
import type { IndexInfo, InterestSpec } from "../domain/schema.js";
import type { CreateIndexResult, InterestTagUpdate, VectorStore } from "../store/vector-store.js";

export type { FieldInput, IndexSpecInput, InterestInput } from "../domain/index-spec.js";

/** Items read and rewritten per store call while recomputing interests. */
export const INTEREST_RECOMPUTE_BATCH = 500;

/**
 * Every method takes the call's `signal`: nothing starts once it has aborted, and the store stops
 * sending (Redis) or waiting (embedded: the index's lock) when it aborts, failing with CancelledError /
 * DeadlineExceededError (see VectorStore's CallOptions).
 */
export interface IndexAdmin {
  /**
   * Creates the index, or returns the existing one when its normalised spec is equal (`created` false).
   * @throws InvalidArgumentError (every violation of the spec, undecodable enums included),
   *   AlreadyExistsError (same name, other spec)
   */
  createIndex(input: IndexSpecInput, signal?: AbortSignal): Promise<CreateIndexResult>;
  /** @throws InvalidArgumentError (bad name), IndexNotFoundError */
  getIndex(indexName: string, signal?: AbortSignal): Promise<IndexInfo>;
  /** Every index, sorted by name. */
  listIndexes(signal?: AbortSignal): Promise<IndexInfo[]>;
  /** @throws InvalidArgumentError (bad name), IndexNotFoundError */
  dropIndex(indexName: string, deleteItems: boolean, signal?: AbortSignal): Promise<void>;
  /**
   * Replaces the interests (undefined removes them; the tag field stays in the schema, emptied), then
   * rewrites the interests tag of every item. `itemsUpdated` counts the items recomputed.
   *
   * Concurrent writes are never lost: only the interests tag of an item is written, and only if the
   * item still has the vector it was scanned with (compare-and-set); an item upserted or deleted by a
   * client meanwhile is left as the client wrote it (with the interests its upsert derived: from the new
   * spec, unless it read the spec before the change, e.g. from another replica's spec cache, which keeps
   * it for up to about 1 s, see VectorStore.getIndexSpec). `signal` bounds the reads and the change of
   * the definition; once the definition is changed, the recomputation does not stop when the caller
   * goes away: half-recomputed items would disagree with the index definition.
   * @throws InvalidArgumentError (paths under `interests.`), IndexNotFoundError
   */
  updateInterests(
    indexName: string,
    interests: InterestInput | undefined,
    signal?: AbortSignal,
  ): Promise<{ info: IndexInfo; itemsUpdated: number }>;
  /**
   * Finishes the interest recomputes an UpdateInterests marked and did not finish (the process
   * stopped in the middle: a crash, a kill), from the index's current definition, as UpdateInterests
   * does; run at start. `report` hears of each one finished. (One running in another replica now is
   * done twice, harmlessly: each write is a compare-and-set on the item's vector.)
   */
  resumeInterestRecomputes(report: (indexName: string, itemsUpdated: number) => void): Promise<void>;
  /**
   * Creates alias `alias` of index `indexName` (its own name); `created` false when it already pointed there.
   * @throws InvalidArgumentError (`alias`, `index_name`), IndexNotFoundError, AlreadyExistsError,
   *   FailedPreconditionError (`indexName` is an alias)
   */
  createAlias(alias: string, indexName: string, signal?: AbortSignal): Promise<{ created: boolean }>;
  /**
   * Moves an existing alias to index `indexName`.
   * @throws InvalidArgumentError, AliasNotFoundError, IndexNotFoundError, FailedPreconditionError
   */
  updateAlias(alias: string, indexName: string, signal?: AbortSignal): Promise<{ previousIndexName: string }>;
  /** @throws InvalidArgumentError (`alias`), AliasNotFoundError */
  deleteAlias(alias: string, signal?: AbortSignal): Promise<{ indexName: string }>;
}

export function createIndexAdmin(store: VectorStore): IndexAdmin {
  return {
    async createIndex(input, signal) {
      const spec = normalizeIndexSpec(input);
      throwIfAborted(signal);
      return store.createIndex(spec, { signal });
    },

    async getIndex(indexName, signal) {
      throwIfViolations(indexNameViolations(indexName));
      throwIfAborted(signal);
      return store.getIndex(await resolveIndexName(store, indexName, signal), { signal });
    },

    async listIndexes(signal) {
      throwIfAborted(signal);
      return store.listIndexes({ signal });
    },

    async dropIndex(indexName, deleteItems, signal) {
      throwIfViolations(indexNameViolations(indexName));
      throwIfAborted(signal);
      await store.dropIndex(indexName, { deleteItems, signal });
    },

    async updateInterests(name, input, signal) {
      throwIfViolations(indexNameViolations(name));
      throwIfAborted(signal);
      const indexName = await resolveIndexName(store, name, signal);
      // Read now, not from the spec cache: the new interests are checked against the current schema.
      const current = await store.getIndex(indexName, { signal });
      const interests = input === undefined ? undefined : normalizeInterestUpdate(current.spec, input);
      const tagField = interests?.tagField ?? current.spec.interests?.tagField;
      // The new definition and the mark of the recompute it needs, in one write: a recompute cut short
      // (a crash) is finished at the next start (resumeInterestRecomputes).
      const info = await store.setInterests(indexName, interests, { signal, ...(tagField !== undefined && { recomputeTagField: tagField }) });
      if (tagField === undefined) return { info, itemsUpdated: 0 };
      const itemsUpdated = await recomputeInterests(store, indexName, tagField, interests);
      await store.interestsRecomputed(indexName);
      return { info, itemsUpdated };
    },

    async resumeInterestRecomputes(report) {
      for (const [indexName, tagField] of await store.pendingInterestRecomputes()) {
        let spec;
        try {
          spec = await store.getIndexSpec(indexName);
        } catch (error) {
          // Dropped since: nothing to finish.
          if (!(error instanceof IndexNotFoundError)) throw error;
          await store.interestsRecomputed(indexName);
          continue;
        }
        // The interests now defined (undefined: removed, the tag field emptied), as UpdateInterests would.
        const interests = spec.interests?.tagField === tagField ? spec.interests : undefined;
        const itemsUpdated = await recomputeInterests(store, indexName, tagField, interests);
        await store.interestsRecomputed(indexName);
        report(indexName, itemsUpdated);
      }
    },

    async createAlias(alias, indexName, signal) {
      throwIfViolations([...indexNameViolations(alias, "alias"), ...indexNameViolations(indexName)]);
      throwIfAborted(signal);
      return store.createAlias(alias, indexName, { signal });
    },

    async updateAlias(alias, indexName, signal) {
      throwIfViolations([...indexNameViolations(alias, "alias"), ...indexNameViolations(indexName)]);
      throwIfAborted(signal);
      return store.updateAlias(alias, indexName, { signal });
    },

    async deleteAlias(alias, signal) {
      throwIfViolations(indexNameViolations(alias, "alias"));
      throwIfAborted(signal);
      return store.deleteAlias(alias, { signal });
    },
  };
}

/**
 * Rewrites `tagField` of every item of `indexName` from its vector (removing it when `interests` is
 * undefined or nothing is above the threshold). Only items whose tag changes are written, and only the
 * tag: each write is a compare-and-set on the scanned vector (store.setInterestTags), so an item
 * upserted or deleted by a client between the scan and the write is left as the client wrote it (its
 * upsert derived its interests itself). Returns how many items were recomputed (every scanned item
 * with a vector).
 */
async function recomputeInterests(
  store: VectorStore,
  indexName: string,
  tagField: string,
  interests: InterestSpec | undefined,
): Promise<number> {
  let recomputed = 0;
  for await (const batch of store.scanItems(indexName, INTEREST_RECOMPUTE_BATCH)) {
    const changed: InterestTagUpdate[] = [];
    for (const item of batch) {
      // An item without a vector (e.g. a hash written outside vecrec) has no interests to derive.
      if (item.vector === undefined) continue;
      recomputed++;
      const derived = interests === undefined ? [] : deriveInterests(item.vector, interests);
      const before = item.fields[tagField];
      const beforeValues = before?.type === "tag" ? before.values : [];
      if (sameValues(beforeValues, derived) && (derived.length > 0 || before === undefined)) continue;
      changed.push({ id: item.id, basedOnVector: item.vector, tags: derived });
    }
    if (changed.length > 0) await store.setInterestTags(indexName, changed, tagField);
  }
  return recomputed;
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
