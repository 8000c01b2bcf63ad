/**
 * The interactions use case: record what users did with items (the input of Recommend) and read a
 * user's interactions back, newest first. Interactions are deleted with their user (deleteItems) or
 * with the index (dropIndex with deleteItems); the stores do that.
 */
import { throwIfViolations } from "../domain/errors.js";
import type { FieldViolation } from "../domain/errors.js";
import type { Interaction, InteractionKind, InteractionPage } from "../domain/interaction.js";
import {
  DEFAULT_INTERACTIONS_PAGE,
  INTERACTIONS_PAGE_RANGE,
  batchSizeViolations,
  finiteViolations,
  idViolations,
  indexNameViolations,
  interactionKindViolations,
  intRangeViolations,
  nonNegativeViolations,
  offsetViolations,
} from "../domain/request-limits.js";
import type { VectorStore } from "../store/vector-store.js";

/** The transport fills the defaults: weight 1, occurredAtMs = now. */
export interface InteractionInput {
  userId: string;
  itemId: string;
  kind: InteractionKind;
  weight: number;
  occurredAtMs: number;
}

/**
 * Every violation of a RecordInteractions batch (paths `index_name`, `interactions`,
 * `interactions[i].user_id`, `.item_id`, `.kind`, `.weight`, `.occurred_at`); empty when it is valid.
 */
export function recordViolations(indexName: string, interactions: readonly InteractionInput[]): FieldViolation[] {
  const violations: FieldViolation[] = [
    ...indexNameViolations(indexName),
    ...batchSizeViolations(interactions.length, "interactions"),
  ];
  interactions.forEach((it, i) => {
    const at = `interactions[${i}]`;
    violations.push(...idViolations(it.userId, `${at}.user_id`));
    violations.push(...idViolations(it.itemId, `${at}.item_id`));
    violations.push(...interactionKindViolations(it.kind, `${at}.kind`));
    violations.push(...nonNegativeViolations(it.weight, `${at}.weight`));
    violations.push(...finiteViolations(it.occurredAtMs, `${at}.occurred_at`));
  });
  return violations;
}

/**
 * Creates the interactions service over a store.
 * Both methods throw InvalidArgumentError naming every bad field (`interactions`,
 * `interactions[i].user_id`, `.item_id`, `.kind`, `.weight`, `.occurred_at`, `user_id`, `limit`,
 * `offset`), IndexNotFoundError from the store, and UnavailableError when the backend is unreachable.
 */
export function createInteractionService(store: VectorStore): {
  record(indexName: string, interactions: InteractionInput[]): Promise<number>;
  get(indexName: string, userId: string, page: { limit: number; offset: number }): Promise<InteractionPage>;
} {
  return {
    /**
     * Validates the whole batch, then stores it (nothing is written when one interaction is bad).
     * Returns the number of interactions given; the same (user, item, kind, time) recorded twice is kept once.
     */
    async record(indexName, interactions) {
      throwIfViolations(recordViolations(indexName, interactions));
      const clean: Interaction[] = interactions.map((it) => ({
        userId: it.userId,
        itemId: it.itemId,
        kind: it.kind,
        weight: it.weight,
        occurredAtMs: it.occurredAtMs,
      }));
      return store.recordInteractions(indexName, clean);
    },

    /** One page of the user's interactions, newest first, with the user's total count. limit 0 = 100. */
    async get(indexName, userId, page) {
      const violations: FieldViolation[] = [...indexNameViolations(indexName), ...idViolations(userId, "user_id")];
      if (page.limit !== 0) violations.push(...intRangeViolations(page.limit, INTERACTIONS_PAGE_RANGE, "limit"));
      violations.push(...offsetViolations(page.offset, "offset"));
      throwIfViolations(violations);
      const limit = page.limit === 0 ? DEFAULT_INTERACTIONS_PAGE : page.limit;
      return store.getInteractions(indexName, userId, { offset: page.offset, limit });
    },
  };
}
