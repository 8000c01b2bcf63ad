/**
 * The Recommend use case: find the users nearest to a user (or to a raw interest vector), score the
 * items those neighbours interacted with, and return the best ones the user does not have yet, each
 * with the neighbours that contributed. Scoring itself is pure (src/domain/scoring.ts).
 */
import {
  FailedPreconditionError,
  ItemNotFoundError,
  mergeViolations,
  throwIfAborted,
  throwIfViolations,
} from "../domain/errors.js";
import type { FieldViolation } from "../domain/errors.js";
import type { FilterNode } from "../domain/filter/filter.js";
import { filterViolations } from "../domain/filter/validate.js";
import type { Interaction, InteractionKind } from "../domain/interaction.js";
import { deriveInterests } from "../domain/interests.js";
import { scoreRecommendations } from "../domain/scoring.js";
import type { ScoringNeighbor } from "../domain/scoring.js";
import { vectorField, type IndexSpec } from "../domain/schema.js";
import { vectorViolations } from "../domain/vector.js";
import type { VectorStore } from "../store/vector-store.js";
import { indexSpecCacheFor, type IndexSpecCache } from "./index-spec-cache.js";
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

export interface RecommendCommand {
  indexName: string;
  user: { userId: string } | { vector: Float32Array };
  /** 0 = default 20; 1..1000. */
  neighborCount: number;
  neighborFilter: FilterNode;
  neighborFilterField: "neighbor_filter" | "neighbor_filter_query";
  /** 0 = default 10; 1..1000. */
  limit: number;
  /** undefined = every kind, weight 1. A kind absent from the map counts 0. */
  interactionWeights: ReadonlyMap<InteractionKind, number> | undefined;
  /** 0 = no decay. */
  recencyHalfLifeSeconds: number;
  includeOwned: boolean;
  /** For tests; default Date.now(). */
  nowMs?: number;
  /**
   * What the transport found while decoding (bad vector bytes, kinds, weights, a filter that does not
   * parse): reported with every violation found here. The transport then passes stand-ins.
   */
  decodingViolations?: readonly FieldViolation[];
  signal?: AbortSignal;
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

/**
 * Creates the recommender over a store.
 *
 * recommend() throws InvalidArgumentError (paths `user_id`, `interest_vector`, `neighbor_count`, `limit`,
 * `neighbor_filter`/`neighbor_filter_query`, `interaction_weights[i].weight`, `recency_half_life_seconds`),
 * IndexNotFoundError, ItemNotFoundError (a NotFoundError) for an unknown user, CancelledError when the
 * signal is aborted, and whatever the store throws (UnavailableError).
 *
 * Round trips to the store, bounded whatever the sizes (on Redis each is one command or one pipeline):
 *   0. the index spec (metric, dimension, filter fields, interests) from the shared short-TTL spec cache
 *      (src/usecases/index-spec-cache.ts): no round trip while fresh, getIndex otherwise;
 *   1. getItems([userId], with vector)           — only for a stored user;
 *   2. search (KNN, excludeIds [userId])          — the neighbours, with their vectors when the index
 *                                                   has interests (to derive them);
 *   3. getInteractionsOfUsers(neighbours + user)  — one pipelined read of every history;
 *                                                   skipped when there is no neighbour.
 * So at most 3 data round trips (2 for a raw interest vector), plus the index definition when neither
 * this cache nor the store's has it. On Redis that is HMGET, FT.SEARCH, then one ZRANGE per history written
 * together: test/recommend/recommend-redis.test.ts counts them on the stand-in.
 */
export function createRecommender(
  store: VectorStore,
  options: { specCache?: IndexSpecCache } = {},
): { recommend(cmd: RecommendCommand): Promise<RecommendResult> } {
  const specs = options.specCache ?? indexSpecCacheFor(store);
  return {
    async recommend(cmd: RecommendCommand): Promise<RecommendResult> {
      const decoding = cmd.decodingViolations ?? [];
      const violations = commandViolations(cmd);
      if (violations.some((v) => v.field === "index_name")) throwIfViolations(mergeViolations(decoding, violations));
      throwIfAborted(cmd.signal);

      let spec: IndexSpec;
      try {
        spec = await specs.get(cmd.indexName);
      } catch (error) {
        // Bad input is reported before an unknown index.
        throwIfViolations(mergeViolations(decoding, violations));
        throw error;
      }
      const vecField = vectorField(spec);
      const specViolations: FieldViolation[] = [];
      if ("vector" in cmd.user) {
        specViolations.push(...vectorViolations(cmd.user.vector, vecField.dimension, "interest_vector"));
      }
      specViolations.push(...filterViolations(cmd.neighborFilter, spec, cmd.neighborFilterField));
      // Every bad field at once: the transport's, the command's and those that need the index spec.
      throwIfViolations(mergeViolations(decoding, [...violations, ...specViolations]));
      throwIfAborted(cmd.signal);

      const neighborCount = cmd.neighborCount === 0 ? DEFAULT_NEIGHBOR_COUNT : cmd.neighborCount;
      const limit = cmd.limit === 0 ? DEFAULT_RECOMMENDATION_LIMIT : cmd.limit;
      const nowMs = cmd.nowMs ?? Date.now();

      // 1. the user's vector
      let userVector: Float32Array;
      let userId: string | undefined;
      if ("userId" in cmd.user) {
        userId = cmd.user.userId;
        const id = userId;
        const [user] = await specs.guard(cmd.indexName, () => store.getItems(cmd.indexName, [id], { includeVectors: true }));
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
      const { hits } = await specs.guard(cmd.indexName, () => store.search(cmd.indexName, {
        vector: userVector,
        k: neighborCount,
        offset: 0,
        filter: cmd.neighborFilter,
        excludeIds: userId === undefined ? undefined : [userId],
        returnFields: [],
        includeVectors: interests !== undefined,
        signal: cmd.signal,
      }));
      throwIfAborted(cmd.signal);
      // Defensive: a backend must already leave the user out, but never count the user as their own neighbour.
      const neighborHits = hits.filter((h) => h.id !== userId);
      if (neighborHits.length === 0) return { items: [], requested: limit };

      // 3. every history in one read: the neighbours', and the user's to know what they own
      const historyIds = neighborHits.map((h) => h.id);
      const wantOwned = userId !== undefined && !cmd.includeOwned;
      if (wantOwned && userId !== undefined) historyIds.push(userId);
      const histories = await specs.guard(cmd.indexName, () => store.getInteractionsOfUsers(cmd.indexName, historyIds));
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
    },
  };
}

/** Violations that need no index spec. */
function commandViolations(cmd: RecommendCommand): FieldViolation[] {
  const out: FieldViolation[] = [...indexNameViolations(cmd.indexName)];
  if ("userId" in cmd.user) {
    out.push(...idViolations(cmd.user.userId, "user_id"));
  }
  // 0 means the default; anything else must be in range
  if (cmd.neighborCount !== 0) out.push(...intRangeViolations(cmd.neighborCount, NEIGHBOR_COUNT_RANGE, "neighbor_count"));
  if (cmd.limit !== 0) out.push(...intRangeViolations(cmd.limit, RECOMMENDATION_LIMIT_RANGE, "limit"));
  if (cmd.interactionWeights !== undefined) {
    let i = 0;
    for (const [kind, weight] of cmd.interactionWeights) {
      out.push(...interactionKindViolations(kind, `interaction_weights[${i}].kind`));
      out.push(...nonNegativeViolations(weight, `interaction_weights[${i}].weight`));
      i++;
    }
  }
  out.push(...nonNegativeViolations(cmd.recencyHalfLifeSeconds, "recency_half_life_seconds"));
  if (cmd.nowMs !== undefined) out.push(...finiteViolations(cmd.nowMs, "now"));
  return out;
}
