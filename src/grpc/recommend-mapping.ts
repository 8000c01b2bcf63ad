/** RecommendRequest -> the Recommend draft of the use case; recommended items -> RecommendResponse messages. */
import { fieldPath } from "../domain/violations.js";
import type { RecommendRequest, RecommendResponse } from "../gen/vecrec/v1/vecrec.js";
import type { RecommendDraft, RecommendedItem } from "../usecases/recommend.js";
import { decodeRequestFilter } from "./filter-mapping.js";
import { decodeInteractionKind } from "./interaction-mapping.js";
import { decodeRequiredVector } from "./vector-mapping.js";

export function decodeRecommendRequest(request: RecommendRequest, signal: AbortSignal): RecommendDraft {
  const { filter, field } = decodeRequestFilter(request.neighborFilter, request.neighborFilterQuery, {
    typed: "neighbor_filter",
    query: "neighbor_filter_query",
  });
  let user: RecommendDraft["user"];
  if (request.user?.$case === "userId") user = { userId: request.user.value };
  else if (request.user?.$case === "interestVector") {
    user = { vector: decodeRequiredVector(request.user.value, "interest_vector") };
  }
  return {
    indexName: request.indexName,
    user,
    neighborCount: request.neighborCount,
    neighborFilter: filter,
    neighborFilterField: field,
    limit: request.limit,
    interactionWeights: request.interactionWeights.map((entry, i) => ({
      kind: decodeInteractionKind(entry.kind, fieldPath("interaction_weights", i, "kind")),
      weight: entry.weight,
    })),
    recencyHalfLifeSeconds: request.recencyHalfLifeSeconds,
    includeOwned: request.includeOwned,
    itemIndexName: request.itemIndexName,
    ...decodeItemFilter(request),
    excludeItemIds: request.excludeItemIds,
    categoryCap: request.categoryCap && { field: request.categoryCap.field, maxPerValue: request.categoryCap.maxPerValue },
    signal,
  };
}

function decodeItemFilter(request: RecommendRequest): Pick<RecommendDraft, "itemFilter" | "itemFilterField"> {
  const { filter, field } = decodeRequestFilter(request.itemFilter, request.itemFilterQuery, { typed: "item_filter", query: "item_filter_query" });
  return { itemFilter: filter, itemFilterField: field };
}

export function encodeRecommendedItem(item: RecommendedItem): RecommendResponse {
  return {
    itemId: item.itemId,
    score: item.score,
    rank: item.rank,
    contributions: item.contributions.map((c) => ({
      neighborId: c.neighborId,
      similarity: c.similarity,
      distance: c.distance,
      scoreShare: c.scoreShare,
      sharedInterests: [...c.sharedInterests],
    })),
  };
}
