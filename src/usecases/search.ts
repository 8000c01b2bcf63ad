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
import { roundVector, typedVectorViolations } from "../domain/element-type.js";
import { cosineUnfitness } from "../domain/vector.js";
import { ViolationCollector, type Decoded } from "../domain/violations.js";
import type { SearchQuery, SearchResult, VectorStore } from "../store/vector-store.js";
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
  signal?: AbortSignal;
}

/** A validated Search: the store query, and the stored item to search around when there is one. */
export interface SearchCommand {
  readonly indexName: string;
  readonly spec: IndexSpec;
  /** A KNN around a stored item: its vector is read first, and it is left out of the hits. */
  readonly aroundItem: string | undefined;
  readonly query: SearchQuery;
}

export interface SearchService {
  /**
   * Runs the query. KNN hits come closest first (ties by id); filter-only hits by id. An `itemId` query
   * leaves the item itself out.
   * @throws InvalidArgumentError, IndexNotFoundError, ItemNotFoundError (itemId query on a missing item),
   *   FailedPreconditionError (the query item has no vector), CancelledError
   */
  search(draft: SearchDraft): Promise<SearchResult>;
}

export function createSearchService(store: VectorStore): SearchService {
  return {
    async search(draft) {
      throwIfAborted(draft.signal);
      const command = validateSearch(draft, await lookUpIndexSpec(store, draft.indexName));
      if (command.aroundItem === undefined) return store.search(command.indexName, command.query);
      const vector = await storedVector(store, command.indexName, command.aroundItem, command.spec, draft.signal);
      throwIfAborted(draft.signal);
      return store.search(command.indexName, { ...command.query, vector, excludeIds: [command.aroundItem] });
    },
  };
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
  return { indexName: draft.indexName, spec, aroundItem, query };
}
