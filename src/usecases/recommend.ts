/**
 * The Recommend use case: find the users nearest to a user (or to a raw interest vector), score the
 * items those neighbours interacted with, and return the best ones the user does not have yet, each
 * with the neighbours that contributed. Scoring itself is pure (src/domain/scoring.ts).
 */
import { FailedPreconditionError, IndexNotFoundError, ItemNotFoundError, throwIfAborted } from "../domain/errors.js";
import type { FilterNode } from "../domain/filter/filter.js";
import { createFilterMatcher } from "../domain/filter/match.js";
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
  weightViolations,
} from "../domain/request-limits.js";
import { vectorField, type IndexSpec } from "../domain/schema.js";
import { scoreRecommendations, type ScoredItem, type ScoringNeighbor } from "../domain/scoring.js";
import { roundVector, typedVectorViolations } from "../domain/element-type.js";
import { cosineUnfitness } from "../domain/vector.js";
import { ViolationCollector, fieldPath, type Decoded } from "../domain/violations.js";
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
  /** "" = none: the index whose metadata item filters and category caps read. */
  itemIndexName?: string;
  /** MATCH_ALL when the request set no item filter. */
  itemFilter?: Decoded<FilterNode>;
  itemFilterField?: "item_filter" | "item_filter_query";
  /** Items never to recommend. */
  excludeItemIds?: readonly string[];
  /** At most `maxPerValue` items per value of TAG field `field` of the item index. */
  categoryCap?: { field: string; maxPerValue: number } | undefined;
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
  readonly excludeItemIds: ReadonlySet<string>;
  /** Set when items must be looked up in an item index (a filter or a cap). */
  readonly itemShaping: ItemShaping | undefined;
}

/** What the item index decides, validated. */
export interface ItemShaping {
  readonly indexName: string;
  readonly spec: IndexSpec;
  /** undefined: no filter. */
  readonly filter: FilterNode | undefined;
  readonly cap: { readonly field: string; readonly maxPerValue: number } | undefined;
}

/** How the request's shaping changed the list: items that ranked high enough to be considered and were left out. */
export interface ShapingCounts {
  excluded: number;
  notInItemIndex: number;
  filteredOut: number;
  capped: number;
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
  /** Present when the request shaped the list (exclusions, item filter, category cap). */
  shaping?: ShapingCounts;
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
      const itemIndex = draft.itemIndexName ?? "";
      const itemSpec =
        itemIndex === "" || indexNameViolations(itemIndex).length > 0 ? undefined : await lookUpIndexSpec(store, itemIndex, draft.signal);
      const command = validateRecommend(draft, await lookUpIndexSpec(store, draft.indexName, draft.signal), itemSpec);
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
    const [user] = await store.getItems(cmd.indexName, [userId], { includeVectors: true, signal: cmd.signal });
    if (!user) throw new ItemNotFoundError(cmd.indexName, userId);
    if (!user.vector) throw new FailedPreconditionError(`user "${userId}" has no vector`);
    // A user left from an index dropped without its items and created again with another dimension.
    if (user.vector.length !== vecField.dimension) {
      throw new FailedPreconditionError(
        `user "${userId}" has a vector of dimension ${user.vector.length} but index "${cmd.indexName}" expects ${vecField.dimension}; upsert it again`,
      );
    }
    // Stored before such vectors were refused at the door (or by another client, on Redis).
    const unfit = vecField.metric === "COSINE" ? cosineUnfitness(user.vector) : undefined;
    if (unfit !== undefined) throw new FailedPreconditionError(`the vector of user "${userId}" ${unfit}; upsert it again`);
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
  const histories = await store.getInteractionsOfUsers(cmd.indexName, historyIds, { signal: cmd.signal });
  throwIfAborted(cmd.signal);

  const owned = new Set<string>();
  if (wantOwned && userId !== undefined) {
    for (const interaction of histories.get(userId) ?? []) owned.add(interaction.itemId);
  }
  // The user is never recommended to themselves (a neighbour may have interacted with them, as with
  // any item), include_owned or not.
  const excluded = userId === undefined ? owned : new Set(owned).add(userId);
  const userInterests = interests ? deriveInterests(userVector, interests) : [];
  const neighbors: ScoringNeighbor[] = neighborHits.map((h) => ({
    id: h.id,
    distance: h.distance,
    interests: interests && h.item.vector ? deriveInterests(h.item.vector, interests) : [],
  }));
  const neighborHistories = new Map<string, readonly Interaction[]>();
  for (const n of neighbors) neighborHistories.set(n.id, histories.get(n.id) ?? []);

  const shapes = cmd.excludeItemIds.size > 0 || cmd.itemShaping !== undefined;
  const ranked = scoreRecommendations({
    metric: vecField.metric,
    neighbors,
    histories: neighborHistories,
    userInterests,
    excludedItemIds: excluded,
    kindWeights: cmd.interactionWeights,
    recencyHalfLifeSeconds: cmd.recencyHalfLifeSeconds,
    nowMs,
    // Shaping drops items: score every candidate, then keep the best `limit` that pass.
    limit: shapes ? Number.MAX_SAFE_INTEGER : limit,
  });
  const counts: ShapingCounts = { excluded: 0, notInItemIndex: 0, filteredOut: 0, capped: 0 };
  const scored = shapes ? await shapeRecommendations(store, cmd, ranked, counts) : ranked;
  return {
    requested: limit,
    ...(shapes && { shaping: counts }),
    items: scored.map((s, i) => ({
      itemId: s.itemId,
      score: s.score,
      rank: i + 1,
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
 * The best `cmd.limit` of `ranked` (best first) that are not excluded, are in the item index, match the
 * item filter and fit the category cap, counting each reason an item was left out. Reads the item
 * index in batches, in rank order, and at most MAX_ITEM_LOOKUPS candidates.
 */
async function shapeRecommendations(store: VectorStore, cmd: RecommendCommand, ranked: readonly ScoredItem[], counts: ShapingCounts): Promise<ScoredItem[]> {
  const kept: ScoredItem[] = [];
  const candidates: ScoredItem[] = [];
  for (const item of ranked) {
    if (cmd.excludeItemIds.has(item.itemId)) counts.excluded++;
    else candidates.push(item);
  }
  const shaping = cmd.itemShaping;
  if (shaping === undefined) return candidates.slice(0, cmd.limit);
  const matcher = shaping.filter === undefined ? undefined : createFilterMatcher(shaping.filter, shaping.spec);
  const used = new Map<string, number>();
  const capField = shaping.cap === undefined ? undefined : shaping.spec.fields.find((f) => f.name === shaping.cap?.field);
  const foldCase = capField?.type === "tag" && !capField.caseSensitive;
  let looked = 0;
  for (let start = 0; start < candidates.length && kept.length < cmd.limit && looked < MAX_ITEM_LOOKUPS; ) {
    const batch = candidates.slice(start, start + Math.min(MAX_ITEM_LOOKUPS - looked, Math.max(2 * (cmd.limit - kept.length), 16)));
    start += batch.length;
    looked += batch.length;
    const items = await store.getItems(shaping.indexName, batch.map((b) => b.itemId), { includeVectors: false, signal: cmd.signal });
    throwIfAborted(cmd.signal);
    for (let i = 0; i < batch.length && kept.length < cmd.limit; i++) {
      const item = items[i];
      const candidate = batch[i] as ScoredItem;
      if (item === undefined) {
        counts.notInItemIndex++;
        continue;
      }
      if (matcher !== undefined && !matcher(item.fields)) {
        counts.filteredOut++;
        continue;
      }
      if (shaping.cap !== undefined) {
        const value = item.fields[shaping.cap.field];
        const values = value?.type === "tag" ? [...new Set(value.values.map((v) => (foldCase ? v.trim().toLowerCase() : v.trim())))] : [];
        const cap = shaping.cap.maxPerValue;
        if (values.some((v) => (used.get(v) ?? 0) >= cap)) {
          counts.capped++;
          continue;
        }
        for (const v of values) used.set(v, (used.get(v) ?? 0) + 1);
      }
      kept.push(candidate);
    }
  }
  return kept;
}

/**
 * Validates `draft` against `spec` (undefined: the index was not found, then only what needs no spec is
 * checked) and fills the defaults.
 * @throws InvalidArgumentError with every violation, else IndexNotFoundError when `spec` is undefined
 */
export function validateRecommend(draft: RecommendDraft, spec: IndexSpec | undefined, itemSpec?: IndexSpec): RecommendCommand {
  const violations = new ViolationCollector();
  const itemShaping = validateItemShaping(draft, itemSpec, violations);
  const excludeIds = draft.excludeItemIds ?? [];
  if (excludeIds.length > MAX_EXCLUDED_ITEMS) {
    violations.at("exclude_item_ids").add(`at most ${MAX_EXCLUDED_ITEMS} ids (got ${excludeIds.length})`);
  } else {
    excludeIds.forEach((id, i) => violations.addAll(idViolations(id, fieldPath("exclude_item_ids", i))));
  }
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
  const itemIndex = draft.itemIndexName ?? "";
  if (itemIndex !== "" && itemSpec === undefined) throw new IndexNotFoundError(itemIndex);
  return {
    // The index's own name: `draft.indexName` may be an alias, resolved once, by the lookup.
    indexName: spec.name,
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
    excludeItemIds: new Set(excludeIds),
    itemShaping,
  };
}

/** The most ids `exclude_item_ids` takes. */
const MAX_EXCLUDED_ITEMS = 10_000;
/** The most candidates read from the item index per request (bounded work whatever the filter). */
const MAX_ITEM_LOOKUPS = 10_000;
const CATEGORY_CAP_RANGE = { min: 1, max: 1000 };

/**
 * The item index, item filter and category cap of `draft` (undefined when it uses none). `itemSpec` is
 * the item index's spec when it was found (IndexNotFoundError was thrown otherwise).
 */
function validateItemShaping(draft: RecommendDraft, itemSpec: IndexSpec | undefined, violations: ViolationCollector): ItemShaping | undefined {
  const indexName = draft.itemIndexName ?? "";
  const filter = draft.itemFilter === undefined ? undefined : violations.decoded(draft.itemFilter);
  const filterField = draft.itemFilterField ?? "item_filter";
  const wantsFilter = filter !== undefined && filter.op !== "all";
  const cap = draft.categoryCap;
  if (indexName === "") {
    if (wantsFilter) violations.at(filterField).add("needs item_index_name: the index holding the items' metadata");
    if (cap !== undefined) violations.at("category_cap").add("needs item_index_name: the index holding the items' metadata");
    return undefined;
  }
  violations.addAll(indexNameViolations(indexName, "item_index_name"));
  if (itemSpec === undefined) return undefined;
  if (wantsFilter) violations.addAll(filterViolations(filter, itemSpec, filterField));
  if (cap !== undefined) {
    const field = itemSpec.fields.find((f) => f.name === cap.field);
    if (field?.type !== "tag") violations.at("category_cap", "field").add(`"${cap.field}" is not a TAG field of index "${itemSpec.name}"`);
    violations.addAll(intRangeViolations(cap.maxPerValue, CATEGORY_CAP_RANGE, fieldPath("category_cap", "max_per_value")));
  }
  if (!wantsFilter && cap === undefined) return undefined;
  return { indexName: itemSpec.name, spec: itemSpec, filter: wantsFilter ? filter : undefined, cap };
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
    at.addAll(weightViolations(entry.weight, at.pathOf("weight")));
    if (badKind) return;
    // A bad weight is kept too: the map is used only when there is no violation at all.
    if (weights.has(kind)) at.at("kind").add(`kind ${kind} is given twice`);
    else weights.set(kind, entry.weight);
  });
  return weights;
}
