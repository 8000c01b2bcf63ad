/**
 * The Search use case: KNN of a vector (or of a stored item) under a filter, or a filter-only page of
 * items by id. Validates the draft against the index spec in one pass, then asks the store.
 */
import { FailedPreconditionError, ItemNotFoundError, throwIfAborted } from "../domain/errors.js";
import type { FilterNode } from "../domain/filter/filter.js";
import { filterViolations } from "../domain/filter/validate.js";
import {
  HNSW_EF_RUNTIME_RANGE,
  K_RANGE,
  MAX_SEARCH_WINDOW,
  idViolations,
  indexNameViolations,
  intRangeViolations,
  offsetViolations,
} from "../domain/request-limits.js";
import { metadataFields, vectorField, type IndexSpec } from "../domain/schema.js";
import { elementDistance, roundVector, typedVectorViolations } from "../domain/element-type.js";
import type { DistanceMetric } from "../domain/schema.js";
import { cosineUnfitness } from "../domain/vector.js";
import { ViolationCollector, type Decoded } from "../domain/violations.js";
import type { SearchHit, SearchQuery, SearchResult, VectorStore } from "../store/vector-store.js";
import { lookUpIndexSpec, throwIfInvalid } from "./index-spec-lookup.js";

/** A Search as the transport decoded it; what it could not decode is Undecodable. */
export interface SearchDraft {
  indexName: string;
  /** undefined = filter-only query (items by id, paged with k and offset). */
  query: { vector: Decoded<Float32Array> } | { itemId: string } | undefined;
  /** 1..10000: neighbours, or the page size of a filter-only query. */
  k: number;
  /** Filter-only: matches to skip. Must be 0 for KNN. */
  offset: number;
  /** MATCH_ALL when the request set no filter. */
  filter: Decoded<FilterNode>;
  /** The request field the filter came from, which its violations name. */
  filterField: "filter" | "filter_query";
  /** Empty = every metadata field. */
  returnFields: readonly string[];
  /** Applied after returnFields. */
  omitFields: readonly string[];
  includeVectors: boolean;
  /** 0 = the index default; 1..10000. Ignored by FLAT indexes and filter-only queries. */
  efRuntime: number;
  /** Range search radius (finite, >= 0, needs a query); undefined = plain KNN. */
  maxDistance?: number;
  /** MMR diversity 0..1 (needs a query, k <= DIVERSITY_MAX_K); undefined or 0 = plain ranking. */
  diversity?: number;
  signal?: AbortSignal;
}

/** With diversity, k may be at most this (the pool is then at most 4 * this). */
export const DIVERSITY_MAX_K = 100;

/** The MMR candidate pool for k hits: max(4k, 20) nearest items. */
export function diversityPoolSize(k: number): number {
  return Math.max(4 * k, 20);
}

/** A hit, with the MMR score it was picked with when the search was diversified. */
export interface RankedHit extends SearchHit {
  readonly mmrScore?: number;
}

/** What Search answers: hits in their final order; with diversity, the pool size fetched. */
export interface SearchOutcome extends SearchResult {
  readonly hits: readonly RankedHit[];
  /** Diversified searches: the number of candidates the pool held. */
  readonly diversityPool?: number;
}

/** A validated Search: the store query, and the stored item to search around when there is one. */
export interface SearchCommand {
  readonly indexName: string;
  readonly spec: IndexSpec;
  /** A KNN around a stored item: its vector is read first, and it is left out of the hits. */
  readonly aroundItem: string | undefined;
  readonly query: SearchQuery;
  /** > 0: re-rank a pool by MMR (SearchDraft.diversity). */
  readonly diversity: number;
}

export interface SearchService {
  /**
   * Runs the query. KNN hits come closest first (ties by id); filter-only hits by id. An `itemId` query
   * leaves the item itself out.
   * @throws InvalidArgumentError, IndexNotFoundError, ItemNotFoundError (itemId query on a missing item),
   *   FailedPreconditionError (the query item has no vector), CancelledError
   */
  search(draft: SearchDraft): Promise<SearchOutcome>;
}

export function createSearchService(store: VectorStore): SearchService {
  return {
    async search(draft) {
      throwIfAborted(draft.signal);
      const command = validateSearch(draft, await lookUpIndexSpec(store, draft.indexName, draft.signal));
      let query = command.query;
      if (command.aroundItem !== undefined) {
        const vector = await storedVector(store, command.indexName, command.aroundItem, command.spec, draft.signal);
        throwIfAborted(draft.signal);
        query = { ...query, vector, excludeIds: [command.aroundItem] };
      }
      if (command.diversity === 0) return store.search(command.indexName, query);
      const pool = await store.search(command.indexName, { ...query, k: diversityPoolSize(query.k), includeVectors: true });
      throwIfAborted(draft.signal);
      const field = vectorField(command.spec);
      const hits = mmrRerank(pool.hits, query.k, command.diversity, (a, b) => elementDistance(field.elementType, field.metric, a, b), field.metric);
      const shown = query.includeVectors ? hits : hits.map((hit) => ({ ...hit, item: withoutVector(hit.item) }));
      return { hits: shown, totalMatches: shown.length, diversityPool: pool.hits.length };
    },
  };
}

function withoutVector<T extends { vector?: unknown }>(item: T): T {
  const { vector: _vector, ...rest } = item;
  return rest as T;
}

/**
 * MMR similarity from a distance as Search reports it: COSINE and IP `1 - d` (cos, dot), L2 `-d`
 * (minus the squared Euclidean distance). NaN (zero vectors under COSINE) counts as least similar to the
 * query and most similar to a chosen hit, so such candidates go last.
 */
export function mmrSimilarity(metric: DistanceMetric, distance: number): number {
  return metric === "L2" ? -distance : 1 - distance;
}

/**
 * Greedy maximal marginal relevance: picks `k` of `pool` (closest first, ties by id) one at a time, each
 * the candidate maximising `lambda * sim(q, x) - (1 - lambda) * max_c sim(x, c)` (lambda = 1 - diversity;
 * second term 0 for the first pick; ties to the earlier pool position). O(k * pool) distances.
 */
export function mmrRerank(
  pool: readonly SearchHit[],
  k: number,
  diversity: number,
  distanceBetween: (a: Float32Array, b: Float32Array) => number,
  metric: DistanceMetric,
): RankedHit[] {
  const lambda = 1 - diversity;
  const relevance = pool.map((hit) => finiteOr(mmrSimilarity(metric, hit.distance), -Infinity));
  const maxSimToChosen = pool.map(() => -Infinity);
  const taken = pool.map(() => false);
  const chosen: RankedHit[] = [];
  while (chosen.length < Math.min(k, pool.length)) {
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < pool.length; i++) {
      if (taken[i]) continue;
      const redundancy = chosen.length === 0 ? 0 : (maxSimToChosen[i] ?? 0);
      const score = lambda * (relevance[i] ?? 0) - (1 - lambda) * redundancy;
      if (best === -1 || score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    const pick = pool[best];
    if (pick === undefined) break;
    taken[best] = true;
    chosen.push({ ...pick, mmrScore: bestScore });
    const pickVector = pick.item.vector;
    for (let i = 0; i < pool.length; i++) {
      const other = pool[i]?.item.vector;
      if (taken[i] || other === undefined || pickVector === undefined) continue;
      const sim = finiteOr(mmrSimilarity(metric, distanceBetween(other, pickVector)), Infinity);
      if (sim > (maxSimToChosen[i] ?? -Infinity)) maxSimToChosen[i] = sim;
    }
  }
  return chosen;
}

function finiteOr(x: number, fallback: number): number {
  return Number.isNaN(x) ? fallback : x;
}

/** The vector of the query item. */
async function storedVector(
  store: VectorStore,
  indexName: string,
  itemId: string,
  spec: IndexSpec,
  signal: AbortSignal | undefined,
): Promise<Float32Array> {
  const [item] = await store.getItems(indexName, [itemId], { includeVectors: true, signal });
  if (item === undefined) throw new ItemNotFoundError(indexName, itemId);
  if (item.vector === undefined) {
    throw new FailedPreconditionError(`item "${itemId}" of index "${indexName}" has no vector`);
  }
  // An item left from an index dropped without its items and created again with another dimension.
  const dimension = vectorField(spec).dimension;
  if (item.vector.length !== dimension) {
    throw new FailedPreconditionError(
      `item "${itemId}" has a vector of dimension ${item.vector.length} but index "${indexName}" expects ${dimension}; upsert it again`,
    );
  }
  // Stored before such vectors were refused at the door (or by another client, on Redis).
  const unfit = vectorField(spec).metric === "COSINE" ? cosineUnfitness(item.vector) : undefined;
  if (unfit !== undefined) throw new FailedPreconditionError(`the vector of item "${itemId}" ${unfit}; upsert it again`);
  return item.vector;
}

/**
 * Validates `draft` against `spec` (undefined: the index was not found, then only what needs no spec is
 * checked) and resolves the fields to return and the HNSW search width to send.
 * @throws InvalidArgumentError with every violation (paths `index_name`, `k`, `offset`, `ef_runtime`,
 *   `vector`, `item_id`, the filter field, `return_fields[i]`, `omit_fields[i]`), else IndexNotFoundError
 */
export function validateSearch(draft: SearchDraft, spec: IndexSpec | undefined): SearchCommand {
  const violations = new ViolationCollector();
  violations.addAll(indexNameViolations(draft.indexName));
  violations.addAll(intRangeViolations(draft.k, K_RANGE, "k"));
  const vectorSpec = spec === undefined ? undefined : vectorField(spec);
  let vector: Float32Array | undefined;
  if (draft.query === undefined) {
    if (!violations.addAll(offsetViolations(draft.offset, "offset")) && draft.offset + draft.k > MAX_SEARCH_WINDOW) {
      violations.at("offset").add(
        `offset + k must be at most ${MAX_SEARCH_WINDOW} (got ${draft.offset + draft.k}); narrow the filter instead`,
      );
    }
  } else {
    if (draft.offset !== 0) {
      violations.at("offset").add("must be 0 for vector queries (KNN returns the k nearest; raise k to see more)");
    }
    if ("itemId" in draft.query) {
      violations.addAll(idViolations(draft.query.itemId, "item_id"));
    } else {
      vector = violations.decoded(draft.query.vector);
      if (vector !== undefined && !violations.addAll(typedVectorViolations(vector, vectorSpec, "vector")) && vectorSpec !== undefined) {
        vector = roundVector(vectorSpec.elementType, vector);
      }
    }
  }
  if (draft.maxDistance !== undefined) {
    const radius = violations.at("max_distance");
    if (!Number.isFinite(draft.maxDistance) || draft.maxDistance < 0) {
      radius.add(`must be a finite number >= 0 (got ${String(draft.maxDistance)}); it is in the metric's own units (L2: squared)`);
    } else if (draft.query === undefined) {
      radius.add("needs a query: set vector or item_id");
    }
  }
  if (draft.diversity !== undefined) {
    const field = violations.at("diversity");
    if (!(draft.diversity >= 0 && draft.diversity <= 1)) {
      field.add(`must be a number in [0, 1] (got ${String(draft.diversity)}); 0 = plain ranking by distance`);
    } else if (draft.diversity > 0 && draft.query === undefined) {
      field.add("needs a query: set vector or item_id (diversity re-ranks nearest neighbours)");
    } else if (draft.diversity > 0 && draft.k > DIVERSITY_MAX_K) {
      field.add(`needs k <= ${DIVERSITY_MAX_K} (got k = ${draft.k}); the candidate pool is max(4 * k, 20) items`);
    }
  }
  if (draft.efRuntime !== 0) violations.addAll(intRangeViolations(draft.efRuntime, HNSW_EF_RUNTIME_RANGE, "ef_runtime"));
  const filter = violations.decoded(draft.filter);
  if (filter !== undefined && spec !== undefined) violations.addAll(filterViolations(filter, spec, draft.filterField));
  const metadata = spec === undefined ? [] : metadataFields(spec).map((f) => f.name);
  if (vectorSpec !== undefined) {
    const known = new Set(metadata);
    const checkNames = (names: readonly string[], list: ViolationCollector): void => {
      names.forEach((name, i) => {
        if (name === vectorSpec.name) list.at(i).add(`"${name}" is the vector field; use include_vectors`);
        else if (!known.has(name)) list.at(i).add(`unknown field "${name}"`);
      });
    };
    checkNames(draft.returnFields, violations.at("return_fields"));
    checkNames(draft.omitFields, violations.at("omit_fields"));
  }
  throwIfInvalid(violations, draft.indexName, spec);
  const hnsw = vectorField(spec).algorithm === "HNSW";

  let returnFields: string[] | undefined;
  if (draft.returnFields.length > 0 || draft.omitFields.length > 0) {
    const omitted = new Set(draft.omitFields);
    const base = draft.returnFields.length > 0 ? [...new Set(draft.returnFields)] : metadata;
    returnFields = base.filter((name) => !omitted.has(name));
  }
  const knn = draft.query !== undefined;
  const query: SearchQuery = {
    k: draft.k,
    offset: draft.offset,
    filter: filter as FilterNode,
    includeVectors: draft.includeVectors,
    ...(vector !== undefined && { vector }),
    ...(returnFields !== undefined && { returnFields }),
    ...(knn && hnsw && draft.efRuntime !== 0 && draft.maxDistance === undefined && { efRuntime: draft.efRuntime }),
    ...(knn && draft.maxDistance !== undefined && { maxDistance: draft.maxDistance }),
    ...(draft.signal !== undefined && { signal: draft.signal }),
  };
  const aroundItem = draft.query !== undefined && "itemId" in draft.query ? draft.query.itemId : undefined;
  // The index's own name: `draft.indexName` may be an alias, resolved once, by the lookup.
  return { indexName: spec.name, spec, aroundItem, query, diversity: draft.diversity ?? 0 };
}
