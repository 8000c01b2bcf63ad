/**
 * The Recommend use case: find the users nearest to a user (or to a raw interest vector), score the
 * items those neighbours interacted with, and return the best ones the user does not have yet, each
 * with the neighbours that contributed. Scoring itself is pure (src/domain/scoring.ts).
 */
import { FailedPreconditionError, ItemNotFoundError, throwIfAborted } from "../domain/errors.js";
import type { FilterNode } from "../domain/filter/filter.js";
import { filterViolations } from "../domain/filter/validate.js";
import type { Interaction, InteractionKind } from "../domain/interaction.js";
import { deriveInterests } from "../domain/interests.js";
import {
  DEFAULT_NEIGHBOR_COUNT,
  DEFAULT_RECOMMENDATION_LIMIT,
  NEIGHBOR_COUNT_RANGE,
  RECOMMENDATION_LIMIT_RANGE,
  finiteViolations,
  idViolations,
  indexNameViolations,
  interactionKindViolations,
  intRangeViolations,
  nonNegativeViolations,
} from "../domain/request-limits.js";
import { vectorField, type IndexSpec } from "../domain/schema.js";
import { scoreRecommendations, type ScoringNeighbor } from "../domain/scoring.js";
import { roundVector, typedVectorViolations } from "../domain/element-type.js";
import { ViolationCollector, type Decoded } from "../domain/violations.js";
import type { VectorStore } from "../store/vector-store.js";
import { lookUpIndexSpec, throwIfInvalid } from "./index-spec-lookup.js";

/** One entry of RecommendRequest.interaction_weights as decoded. */
export interface InteractionWeightInput {
  kind: Decoded<InteractionKind>;
  weight: number;
}

/** A Recommend as the transport decoded it; what it could not decode is Undecodable. */
export interface RecommendDraft {
  indexName: string;
  /** undefined: the request named nobody (a violation). */
  user: { userId: string } | { vector: Decoded<Float32Array> } | undefined;
  /** 0 = default 20; 1..1000. */
  neighborCount: number;
  /** MATCH_ALL when the request set no filter. */
  neighborFilter: Decoded<FilterNode>;
  /** The request field the filter came from, which its violations name. */
  neighborFilterField: "neighbor_filter" | "neighbor_filter_query";
  /** 0 = default 10; 1..1000. */
  limit: number;
  /** undefined or empty = every kind, weight 1. A kind absent from the list counts 0. */
  interactionWeights?: readonly InteractionWeightInput[] | undefined;
  /** 0 = no decay. */
  recencyHalfLifeSeconds: number;
  includeOwned: boolean;
  /** For tests; default Date.now(). */
  nowMs?: number;
  signal?: AbortSignal;
}

/** A validated Recommend, defaults filled. */
export interface RecommendCommand {
  readonly indexName: string;
  readonly spec: IndexSpec;
  readonly user: { readonly userId: string } | { readonly vector: Float32Array };
  readonly neighborCount: number;
  readonly neighborFilter: FilterNode;
  readonly limit: number;
  /** undefined = every kind, weight 1. */
  readonly interactionWeights: ReadonlyMap<InteractionKind, number> | undefined;
  readonly recencyHalfLifeSeconds: number;
  readonly includeOwned: boolean;
  readonly nowMs: number;
  readonly signal: AbortSignal | undefined;
}

export interface NeighborContribution {
  neighborId: string;
  similarity: number;
  distance: number;
  scoreShare: number;
  sharedInterests: string[];
}

export interface RecommendedItem {
  itemId: string;
  score: number;
  rank: number;
  contributions: NeighborContribution[];
}

export interface RecommendResult {
  items: RecommendedItem[];
  /** The number of items asked for; items.length < requested means fewer exist. */
  requested: number;
}

export interface Recommender {
  /**
   * @throws InvalidArgumentError (paths `user`, `user_id`, `interest_vector`, `neighbor_count`, `limit`,
   *   `neighbor_filter`/`neighbor_filter_query`, `interaction_weights[i].kind`/`.weight`,
   *   `recency_half_life_seconds`), IndexNotFoundError, ItemNotFoundError (a NotFoundError) for an
   *   unknown user, CancelledError when the signal is aborted, and whatever the store throws
   */
  recommend(draft: RecommendDraft): Promise<RecommendResult>;
}

/**
 * Creates the recommender over a store.
 *
 * Round trips to the store, bounded whatever the sizes (on Redis each is one command or one pipeline):
 *   0. the index spec (metric, dimension, filter fields, interests): VectorStore.getIndexSpec, cached
 *      by the store (no round trip while fresh);
 *   1. getItems([userId], with vector)           — only for a stored user;
 *   2. search (KNN, excludeIds [userId])          — the neighbours, with their vectors when the index
 *                                                   has interests (to derive them);
 *   3. getInteractionsOfUsers(neighbours + user)  — one pipelined read of every history;
 *                                                   skipped when there is no neighbour.
 * So at most 3 data round trips (2 for a raw interest vector), plus the index definition when the
 * store's cache does not have it. On Redis that is HMGET, FT.SEARCH, then one ZRANGE per history written
 * together: test/recommend/recommend-redis.test.ts counts them on the stand-in.
 */
export function createRecommender(store: VectorStore): Recommender {
  return {
    async recommend(draft) {
      throwIfAborted(draft.signal);
      const command = validateRecommend(draft, await lookUpIndexSpec(store, draft.indexName));
      throwIfAborted(command.signal);
      return recommendFor(store, command);
    },
  };
}

async function recommendFor(store: VectorStore, cmd: RecommendCommand): Promise<RecommendResult> {
  const { spec, neighborCount, limit, nowMs } = cmd;
  const vecField = vectorField(spec);

  // 1. the user's vector
  let userVector: Float32Array;
  let userId: string | undefined;
  if ("userId" in cmd.user) {
    userId = cmd.user.userId;
    const [user] = await store.getItems(cmd.indexName, [userId], { includeVectors: true });
    if (!user) throw new ItemNotFoundError(cmd.indexName, userId);
    if (!user.vector) throw new FailedPreconditionError(`user "${userId}" has no vector`);
    // A user left from an index dropped without its items and created again with another dimension.
    if (user.vector.length !== vecField.dimension) {
      throw new FailedPreconditionError(
        `user "${userId}" has a vector of dimension ${user.vector.length} but index "${cmd.indexName}" expects ${vecField.dimension}; upsert it again`,
      );
    }
    userVector = user.vector;
    throwIfAborted(cmd.signal);
  } else {
    userVector = cmd.user.vector;
  }

  // 2. the neighbours; vectors only when interests must be derived from them
  const interests = spec.interests;
  const { hits } = await store.search(cmd.indexName, {
    vector: userVector,
    k: neighborCount,
    offset: 0,
    filter: cmd.neighborFilter,
    excludeIds: userId === undefined ? undefined : [userId],
    returnFields: [],
    includeVectors: interests !== undefined,
    ...(cmd.signal !== undefined && { signal: cmd.signal }),
  });
  throwIfAborted(cmd.signal);
  // Defensive: a backend must already leave the user out, but never count the user as their own neighbour.
  const neighborHits = hits.filter((h) => h.id !== userId);
  if (neighborHits.length === 0) return { items: [], requested: limit };

  // 3. every history in one read: the neighbours', and the user's to know what they own
  const historyIds = neighborHits.map((h) => h.id);
  const wantOwned = userId !== undefined && !cmd.includeOwned;
  if (wantOwned && userId !== undefined) historyIds.push(userId);
  const histories = await store.getInteractionsOfUsers(cmd.indexName, historyIds);
  throwIfAborted(cmd.signal);

  const owned = new Set<string>();
  if (wantOwned && userId !== undefined) {
    for (const interaction of histories.get(userId) ?? []) owned.add(interaction.itemId);
  }
  const userInterests = interests ? deriveInterests(userVector, interests) : [];
  const neighbors: ScoringNeighbor[] = neighborHits.map((h) => ({
    id: h.id,
    distance: h.distance,
    interests: interests && h.item.vector ? deriveInterests(h.item.vector, interests) : [],
  }));
  const neighborHistories = new Map<string, readonly Interaction[]>();
  for (const n of neighbors) neighborHistories.set(n.id, histories.get(n.id) ?? []);

  const scored = scoreRecommendations({
    metric: vecField.metric,
    neighbors,
    histories: neighborHistories,
    userInterests,
    excludedItemIds: owned,
    kindWeights: cmd.interactionWeights,
    recencyHalfLifeSeconds: cmd.recencyHalfLifeSeconds,
    nowMs,
    limit,
  });
  return {
    requested: limit,
    items: scored.map((s) => ({
      itemId: s.itemId,
      score: s.score,
      rank: s.rank,
      contributions: s.contributions.map((c) => ({
        neighborId: c.neighborId,
        similarity: c.similarity,
        distance: c.distance,
        scoreShare: c.scoreShare,
        sharedInterests: c.sharedInterests,
      })),
    })),
  };
}

/**
 * Validates `draft` against `spec` (undefined: the index was not found, then only what needs no spec is
 * checked) and fills the defaults.
 * @throws InvalidArgumentError with every violation, else IndexNotFoundError when `spec` is undefined
 */
export function validateRecommend(draft: RecommendDraft, spec: IndexSpec | undefined): RecommendCommand {
  const violations = new ViolationCollector();
  violations.addAll(indexNameViolations(draft.indexName));
  let user: RecommendCommand["user"] | undefined;
  if (draft.user === undefined) {
    violations.at("user").add("whom to recommend for is required: set user_id or interest_vector");
  } else if ("userId" in draft.user) {
    if (!violations.addAll(idViolations(draft.user.userId, "user_id"))) user = { userId: draft.user.userId };
  } else {
    const vector = violations.decoded(draft.user.vector);
    const vectorSpec = spec === undefined ? undefined : vectorField(spec);
    if (vector !== undefined && !violations.addAll(typedVectorViolations(vector, vectorSpec, "interest_vector"))) {
      user = { vector: vectorSpec === undefined ? vector : roundVector(vectorSpec.elementType, vector) };
    }
  }
  // 0 means the default; anything else must be in range
  if (draft.neighborCount !== 0) {
    violations.addAll(intRangeViolations(draft.neighborCount, NEIGHBOR_COUNT_RANGE, "neighbor_count"));
  }
  if (draft.limit !== 0) violations.addAll(intRangeViolations(draft.limit, RECOMMENDATION_LIMIT_RANGE, "limit"));
  const neighborFilter = violations.decoded(draft.neighborFilter);
  if (neighborFilter !== undefined && spec !== undefined) {
    violations.addAll(filterViolations(neighborFilter, spec, draft.neighborFilterField));
  }
  const interactionWeights = validateWeights(draft.interactionWeights ?? [], violations.at("interaction_weights"));
  violations.addAll(nonNegativeViolations(draft.recencyHalfLifeSeconds, "recency_half_life_seconds"));
  if (draft.nowMs !== undefined) violations.addAll(finiteViolations(draft.nowMs, "now"));
  throwIfInvalid(violations, draft.indexName, spec);
  return {
    indexName: draft.indexName,
    spec,
    user: user as RecommendCommand["user"],
    neighborCount: draft.neighborCount === 0 ? DEFAULT_NEIGHBOR_COUNT : draft.neighborCount,
    neighborFilter: neighborFilter as FilterNode,
    limit: draft.limit === 0 ? DEFAULT_RECOMMENDATION_LIMIT : draft.limit,
    interactionWeights,
    recencyHalfLifeSeconds: draft.recencyHalfLifeSeconds,
    includeOwned: draft.includeOwned,
    nowMs: draft.nowMs ?? Date.now(),
    signal: draft.signal,
  };
}

/** The weights by kind (undefined when none is given); each entry is checked at its own index. */
function validateWeights(
  entries: readonly InteractionWeightInput[],
  violations: ViolationCollector,
): Map<InteractionKind, number> | undefined {
  if (entries.length === 0) return undefined;
  const weights = new Map<InteractionKind, number>();
  entries.forEach((entry, i) => {
    const at = violations.at(i);
    const kind = at.decoded(entry.kind);
    const badKind = kind === undefined || at.addAll(interactionKindViolations(kind, at.pathOf("kind")));
    at.addAll(nonNegativeViolations(entry.weight, at.pathOf("weight")));
    if (badKind) return;
    // A bad weight is kept too: the map is used only when there is no violation at all.
    if (weights.has(kind)) at.at("kind").add(`kind ${kind} is given twice`);
    else weights.set(kind, entry.weight);
  });
  return weights;
}
