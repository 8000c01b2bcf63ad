/** SearchRequest -> the Search draft of the use case; hits -> SearchResponse messages. */
import type { RankedHit } from "../usecases/search.js";
import type { SearchRequest, SearchResponse } from "../gen/vecrec/v1/vecrec.js";
import type { SearchDraft } from "../usecases/search.js";
import { decodeRequestFilter } from "./filter-mapping.js";
import { encodeFieldValues } from "./item-mapping.js";
import { decodeRequiredVector, encodeVector, type VectorOutput } from "./vector-mapping.js";

export function decodeSearchRequest(request: SearchRequest, signal: AbortSignal): SearchDraft {
  const { filter, field } = decodeRequestFilter(request.filter, request.filterQuery, { typed: "filter", query: "filter_query" });
  let query: SearchDraft["query"];
  if (request.query?.$case === "vector") query = { vector: decodeRequiredVector(request.query.value, "vector") };
  else if (request.query?.$case === "itemId") query = { itemId: request.query.value };
  return {
    indexName: request.indexName,
    query,
    k: request.k,
    offset: request.offset,
    filter,
    filterField: field,
    returnFields: request.returnFields,
    omitFields: request.omitFields,
    includeVectors: request.includeVectors,
    efRuntime: request.efRuntime,
    ...(request.maxDistance !== undefined && { maxDistance: request.maxDistance }),
    ...(request.diversity !== undefined && { diversity: request.diversity }),
    signal,
  };
}

/** One hit of the stream; `rank` counts from 1 across pages (offset + position). */
export function encodeSearchHit(hit: RankedHit, rank: number, vectorFormat: VectorOutput = "float32_le"): SearchResponse {
  return {
    id: hit.id,
    distance: hit.distance,
    rank,
    fields: encodeFieldValues(hit.item.fields),
    vector: hit.item.vector && encodeVector(hit.item.vector, vectorFormat),
    ...(hit.mmrScore !== undefined && { mmrScore: hit.mmrScore }),
  };
}
