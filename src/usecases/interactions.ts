/**
 * The interactions use case: record what users did with items (the input of Recommend) and read a
 * user's interactions back, newest first. Interactions are deleted with their user (deleteItems) or
 * with the index (dropIndex with deleteItems); the stores do that.
 */
import type { Durability } from "../domain/durability.js";
import { throwIfViolations, type FieldViolation } from "../domain/errors.js";
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
  weightViolations,
  offsetViolations,
} from "../domain/request-limits.js";
import { ViolationCollector, type Decoded } from "../domain/violations.js";
import type { VectorStore } from "../store/vector-store.js";
import { resolveIndexName } from "./index-spec-lookup.js";

/**
 * One interaction of RecordInteractions as the transport decoded it (weight defaults to 1, the time to
 * now); a kind or time it could not decode is Undecodable.
 */
export interface InteractionInput {
  userId: string;
  itemId: string;
  kind: Decoded<InteractionKind>;
  weight: number;
  occurredAtMs: Decoded<number>;
}

export interface InteractionService {
  /**
   * Validates the whole batch, then stores it (nothing is written when one interaction is bad).
   * Returns the number of interactions given; the same (user, item, kind, time) recorded twice is kept once.
   * `signal` (the call's cancel/deadline) stops the writing: some users' interactions may be stored.
   * `durability`: how durable before it resolves (undefined = the store's default; domain/durability.ts).
   * @throws InvalidArgumentError (paths `index_name`, `interactions`, `interactions[i].user_id`,
   *   `.item_id`, `.kind`, `.weight`, `.occurred_at`), IndexNotFoundError
   */
  record(indexName: string, interactions: readonly InteractionInput[], signal?: AbortSignal, durability?: Durability): Promise<number>;
  /**
   * One page of the user's interactions, newest first, with the user's total count. limit 0 = 100.
   * @throws InvalidArgumentError (paths `index_name`, `user_id`, `limit`, `offset`), IndexNotFoundError
   */
  get(indexName: string, userId: string, page: { limit: number; offset: number }, signal?: AbortSignal): Promise<InteractionPage>;
}

/** Creates the interactions service over a store (UnavailableError when the backend is unreachable). */
export function createInteractionService(store: VectorStore): InteractionService {
  return {
    async record(indexName, interactions, signal, durability) {
      const valid = validateInteractions(indexName, interactions);
      return store.recordInteractions(await resolveIndexName(store, indexName, signal), valid, { signal, durability });
    },

    async get(indexName, userId, page, signal) {
      const violations: FieldViolation[] = [...indexNameViolations(indexName), ...idViolations(userId, "user_id")];
      if (page.limit !== 0) violations.push(...intRangeViolations(page.limit, INTERACTIONS_PAGE_RANGE, "limit"));
      violations.push(...offsetViolations(page.offset, "offset"));
      throwIfViolations(violations);
      const limit = page.limit === 0 ? DEFAULT_INTERACTIONS_PAGE : page.limit;
      return store.getInteractions(await resolveIndexName(store, indexName, signal), userId, { offset: page.offset, limit }, { signal });
    },
  };
}

/**
 * Validates a RecordInteractions batch and returns the interactions to store.
 * @throws InvalidArgumentError with every violation
 */
export function validateInteractions(indexName: string, inputs: readonly InteractionInput[]): Interaction[] {
  const violations = new ViolationCollector();
  violations.addAll(indexNameViolations(indexName));
  violations.addAll(batchSizeViolations(inputs.length, "interactions"));
  const interactions: Interaction[] = [];
  inputs.forEach((input, i) => {
    const at = violations.at("interactions", i);
    const kind = at.decoded(input.kind);
    if (kind !== undefined) at.addAll(interactionKindViolations(kind, at.pathOf("kind")));
    at.addAll(idViolations(input.userId, at.pathOf("user_id")));
    at.addAll(idViolations(input.itemId, at.pathOf("item_id")));
    at.addAll(weightViolations(input.weight, at.pathOf("weight")));
    const occurredAtMs = at.decoded(input.occurredAtMs);
    if (occurredAtMs !== undefined) at.addAll(finiteViolations(occurredAtMs, at.pathOf("occurred_at")));
    if (kind === undefined || occurredAtMs === undefined) return;
    const { userId, itemId, weight } = input;
    interactions.push({ userId, itemId, kind, weight, occurredAtMs });
  });
  violations.throwIfAny();
  return interactions;
}
