/**
 * Recommendation scoring: pure functions from neighbours and their histories to ranked items with
 * explanations. See RecommendResponse.score in proto/vecrec/v1/vecrec.proto for the formula:
 *
 *   score(item) = sum over neighbours v of similarity(user, v) x weight(v, item)
 *   weight(v, item) = sum over v's interactions i with the item of i.weight x kindWeight(i.kind) x decay(i)
 *   decay(i) = 0.5 ^ (age(i) / halfLife)    (1 without a half-life)
 */
import { compareIds } from "./id-order.js";
import type { Interaction, InteractionKind } from "./interaction.js";
import type { DistanceMetric } from "./schema.js";

/**
 * The similarity of a neighbour from the distance the index reports (lower distance = closer):
 * COSINE `1 - d/2` (0..1), L2 (squared) `1 / (1 + d)` (0..1], IP `1 - d` (the dot product, any sign).
 * NaN in gives NaN out (e.g. a zero vector under COSINE); callers treat anything not > 0 as "no weight".
 */
export function similarityFromDistance(metric: DistanceMetric, distance: number): number {
  switch (metric) {
    case "COSINE":
      return 1 - distance / 2;
    case "L2":
      return 1 / (1 + distance);
    case "IP":
      return 1 - distance;
  }
}

/**
 * How much an interaction `ageMs` old still counts: `0.5 ^ (age / halfLife)`. A half-life of 0 (or less)
 * means no decay (1). Interactions dated in the future count fully (age clamped to 0).
 */
export function recencyDecay(ageMs: number, halfLifeSeconds: number): number {
  if (!(halfLifeSeconds > 0)) return 1;
  const age = ageMs > 0 ? ageMs : 0;
  return Math.pow(0.5, age / (halfLifeSeconds * 1000));
}

/** A neighbour as the KNN returned it. */
export interface ScoringNeighbor {
  readonly id: string;
  /** The index's distance to the user. */
  readonly distance: number;
  /** The neighbour's interest categories (empty when the index has none). */
  readonly interests: readonly string[];
}

export interface ScoringInput {
  readonly metric: DistanceMetric;
  /** Closest first (the order only matters for summation order, which keeps results deterministic). */
  readonly neighbors: readonly ScoringNeighbor[];
  /** Every interaction of each neighbour; a neighbour missing from the map has none. */
  readonly histories: ReadonlyMap<string, readonly Interaction[]>;
  /** The user's interest categories, intersected with each neighbour's. */
  readonly userInterests: readonly string[];
  /** Items never recommended (what the user already has). */
  readonly excludedItemIds: ReadonlySet<string>;
  /** Multiplier per kind; undefined = every kind with weight 1; a kind absent from the map counts 0. */
  readonly kindWeights: ReadonlyMap<InteractionKind, number> | undefined;
  /** 0 = no decay. */
  readonly recencyHalfLifeSeconds: number;
  /** "Now" for the decay, in ms since the epoch. */
  readonly nowMs: number;
  /** Maximum number of items returned (>= 1). */
  readonly limit: number;
}

export interface ScoredContribution {
  readonly neighborId: string;
  readonly similarity: number;
  readonly distance: number;
  /** similarity x weight(v, item): this neighbour's part of the score. */
  readonly contribution: number;
  /** contribution / score; the shares of an item add up to 1 (up to rounding). */
  readonly scoreShare: number;
  /** User interests ∩ neighbour interests, in the user's order. */
  readonly sharedInterests: string[];
}

export interface ScoredItem {
  readonly itemId: string;
  readonly score: number;
  /** 1-based. */
  readonly rank: number;
  /** Largest share first, ties by neighbour id ascending. Only neighbours that added a positive amount. */
  readonly contributions: ScoredContribution[];
}


/**
 * Scores every item the neighbours interacted with and returns the best `limit`, best first, ties by
 * item id ascending. Neighbours whose similarity is not > 0 add nothing; items whose score is not > 0
 * (e.g. only kinds weighted 0) are left out, as are `excludedItemIds`. Pure: same input, same output.
 */
export function scoreRecommendations(input: ScoringInput): ScoredItem[] {
  // item id -> contributions in neighbour order
  const perItem = new Map<string, { neighbor: ScoringNeighbor; similarity: number; contribution: number }[]>();

  for (const neighbor of input.neighbors) {
    const similarity = similarityFromDistance(input.metric, neighbor.distance);
    if (!(similarity > 0)) continue;
    const history = input.histories.get(neighbor.id);
    if (!history || history.length === 0) continue;

    // weight(v, item), summed over this neighbour's interactions with the item
    const weights = new Map<string, number>();
    for (const interaction of history) {
      if (input.excludedItemIds.has(interaction.itemId)) continue;
      const kindWeight = input.kindWeights === undefined ? 1 : (input.kindWeights.get(interaction.kind) ?? 0);
      if (!(kindWeight > 0) || !(interaction.weight > 0)) continue;
      const decay = recencyDecay(input.nowMs - interaction.occurredAtMs, input.recencyHalfLifeSeconds);
      const w = interaction.weight * kindWeight * decay;
      if (!(w > 0)) continue;
      weights.set(interaction.itemId, (weights.get(interaction.itemId) ?? 0) + w);
    }

    for (const [itemId, weight] of weights) {
      const contribution = similarity * weight;
      if (!(contribution > 0) || !Number.isFinite(contribution)) continue;
      let list = perItem.get(itemId);
      if (!list) {
        list = [];
        perItem.set(itemId, list);
      }
      list.push({ neighbor, similarity, contribution });
    }
  }

  const totals: { itemId: string; score: number }[] = [];
  for (const [itemId, list] of perItem) {
    let score = 0;
    for (const c of list) score += c.contribution;
    // Request limits keep scores finite (MAX_WEIGHT); interactions stored before them could still
    // overflow, and an infinite score would leave every share 0.
    if (score > 0 && Number.isFinite(score)) totals.push({ itemId, score });
  }
  totals.sort((a, b) => (b.score !== a.score ? b.score - a.score : compareIds(a.itemId, b.itemId)));

  const limit = Math.max(0, Math.floor(input.limit));
  return totals.slice(0, limit).map(({ itemId, score }, i) => {
    const contributions = (perItem.get(itemId) ?? []).map(
      ({ neighbor, similarity, contribution }): ScoredContribution => ({
        neighborId: neighbor.id,
        similarity,
        distance: neighbor.distance,
        contribution,
        scoreShare: contribution / score,
        sharedInterests: sharedInterests(input.userInterests, neighbor.interests),
      }),
    );
    contributions.sort((a, b) =>
      b.contribution !== a.contribution ? b.contribution - a.contribution : compareIds(a.neighborId, b.neighborId),
    );
    return { itemId, score, rank: i + 1, contributions };
  });
}

/** The user's interests that the neighbour also has, in the user's order. */
export function sharedInterests(user: readonly string[], neighbor: readonly string[]): string[] {
  if (user.length === 0 || neighbor.length === 0) return [];
  const theirs = new Set(neighbor);
  return user.filter((name) => theirs.has(name));
}
