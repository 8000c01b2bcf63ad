/**
 * The Search use case: KNN of a vector (or of a stored item) under a filter, or a filter-only page of
 * items by id. Validates the command against the index spec, then asks the store.
 */
import {
  FailedPreconditionError,
  ItemNotFoundError,
  mergeViolations,
  throwIfAborted,
  throwIfViolations,
  type FieldViolation,
} from "../domain/errors.js";
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
import { vectorViolations } from "../domain/vector.js";
import type { SearchQuery, SearchResult, VectorStore } from "../store/vector-store.js";
import { indexSpecCacheFor, type IndexSpecCache } from "./index-spec-cache.js";

export interface SearchCommand {
  indexName: string;
  /** undefined = filter-only query (items by id, paged with k and offset). */
  query: { vector: Float32Array } | { itemId: string } | undefined;
  /** 1..10000: neighbours, or the page size of a filter-only query. */
  k: number;
  /** Filter-only: matches to skip. Must be 0 for KNN. */
  offset: number;
  filter: FilterNode;
  /** Path used in filter violations. */
  filterField: "filter" | "filter_query";
  /** Empty = every metadata field. */
  returnFields: string[];
  /** Applied after returnFields. */
  omitFields: string[];
  includeVectors: boolean;
  /** 0 = the index default; 1..10000. Ignored by FLAT indexes and filter-only queries. */
  efRuntime: number;
  /**
   * What the transport found while decoding (bad vector bytes, a filter that does not parse): reported
   * with every violation found here. The transport then passes stand-ins (an empty vector, MATCH_ALL).
   */
  decodingViolations?: readonly FieldViolation[];
  signal?: AbortSignal;
}

export interface SearchService {
  /**
   * Runs the query. KNN hits come closest first (ties by id); filter-only hits by id. An `itemId` query
   * leaves the item itself out.
   * @throws InvalidArgumentError, IndexNotFoundError, ItemNotFoundError (itemId query on a missing item),
   *   FailedPreconditionError (the query item has no vector), CancelledError
   */
  search(cmd: SearchCommand): Promise<SearchResult>;
}

export function createSearchService(store: VectorStore, options: { specCache?: IndexSpecCache } = {}): SearchService {
  const specs = options.specCache ?? indexSpecCacheFor(store);
  return {
    async search(cmd) {
      const decoding = cmd.decodingViolations ?? [];
      const nameViolations = indexNameViolations(cmd.indexName);
      if (nameViolations.length > 0) throwIfViolations([...decoding, ...nameViolations]);
      throwIfAborted(cmd.signal);
      let spec: IndexSpec;
      try {
        spec = await specs.get(cmd.indexName);
      } catch (error) {
        // Bad input is reported before an unknown index, as when the transport rejected it alone.
        throwIfViolations(decoding);
        throw error;
      }
      const checked = checkSearchCommand(spec, cmd);

      let vector: Float32Array | undefined;
      let excludeIds: string[] | undefined;
      if (cmd.query !== undefined && "itemId" in cmd.query) {
        const itemId = cmd.query.itemId;
        const [item] = await specs.guard(cmd.indexName, () =>
          store.getItems(cmd.indexName, [itemId], { includeVectors: true }),
        );
        if (item === undefined) throw new ItemNotFoundError(cmd.indexName, itemId);
        if (item.vector === undefined) {
          throw new FailedPreconditionError(`item "${itemId}" of index "${cmd.indexName}" has no vector`);
        }
        // An item left from an index dropped without its items and created again with another dimension.
        const dimension = vectorField(spec).dimension;
        if (item.vector.length !== dimension) {
          throw new FailedPreconditionError(
            `item "${itemId}" has a vector of dimension ${item.vector.length} but index "${cmd.indexName}" expects ${dimension}; upsert it again`,
          );
        }
        vector = item.vector;
        excludeIds = [itemId];
      } else if (cmd.query !== undefined) {
        vector = cmd.query.vector;
      }
      throwIfAborted(cmd.signal);

      const query: SearchQuery = {
        k: cmd.k,
        offset: cmd.offset,
        filter: cmd.filter,
        includeVectors: cmd.includeVectors,
        ...(vector !== undefined ? { vector } : {}),
        ...(excludeIds !== undefined ? { excludeIds } : {}),
        ...(checked.returnFields !== undefined ? { returnFields: checked.returnFields } : {}),
        ...(vector !== undefined && checked.efRuntime !== undefined ? { efRuntime: checked.efRuntime } : {}),
        ...(cmd.signal !== undefined ? { signal: cmd.signal } : {}),
      };
      return specs.guard(cmd.indexName, () => store.search(cmd.indexName, query));
    },
  };
}

/**
 * Validates `cmd` against `spec` and resolves the fields to return (`undefined` = every metadata field)
 * and the HNSW search width to send (`undefined` = index default, or a FLAT index).
 * @throws InvalidArgumentError with paths `k`, `offset`, `ef_runtime`, `vector`, `item_id`, the filter
 *   field, `return_fields[i]`, `omit_fields[i]`
 */
export function checkSearchCommand(
  spec: IndexSpec,
  cmd: SearchCommand,
): { returnFields: string[] | undefined; efRuntime: number | undefined } {
  const violations: FieldViolation[] = [...intRangeViolations(cmd.k, K_RANGE, "k")];
  const vectorSpec = vectorField(spec);
  if (cmd.query === undefined) {
    const bad = offsetViolations(cmd.offset, "offset");
    if (bad.length > 0) {
      violations.push(...bad);
    } else if (cmd.offset + cmd.k > MAX_SEARCH_WINDOW) {
      violations.push({
        field: "offset",
        description: `offset + k must be at most ${MAX_SEARCH_WINDOW} (got ${cmd.offset + cmd.k}); narrow the filter instead`,
      });
    }
  } else {
    if (cmd.offset !== 0) {
      violations.push({
        field: "offset",
        description: "must be 0 for vector queries (KNN returns the k nearest; raise k to see more)",
      });
    }
    if ("itemId" in cmd.query) violations.push(...idViolations(cmd.query.itemId, "item_id"));
    else violations.push(...vectorViolations(cmd.query.vector, vectorSpec.dimension, "vector"));
  }
  if (cmd.efRuntime !== 0) violations.push(...intRangeViolations(cmd.efRuntime, HNSW_EF_RUNTIME_RANGE, "ef_runtime"));
  violations.push(...filterViolations(cmd.filter, spec, cmd.filterField));

  const metadata = metadataFields(spec).map((f) => f.name);
  const known = new Set(metadata);
  const checkNames = (names: readonly string[], field: string): void => {
    names.forEach((name, i) => {
      if (name === vectorSpec.name) {
        violations.push({ field: `${field}[${i}]`, description: `"${name}" is the vector field; use include_vectors` });
      } else if (!known.has(name)) {
        violations.push({ field: `${field}[${i}]`, description: `unknown field "${name}"` });
      }
    });
  };
  checkNames(cmd.returnFields, "return_fields");
  checkNames(cmd.omitFields, "omit_fields");
  throwIfViolations(mergeViolations(cmd.decodingViolations ?? [], violations));

  let returnFields: string[] | undefined;
  if (cmd.returnFields.length > 0 || cmd.omitFields.length > 0) {
    const omitted = new Set(cmd.omitFields);
    const base = cmd.returnFields.length > 0 ? [...new Set(cmd.returnFields)] : metadata;
    returnFields = base.filter((name) => !omitted.has(name));
  }
  const efRuntime = vectorSpec.algorithm === "HNSW" && cmd.efRuntime !== 0 ? cmd.efRuntime : undefined;
  return { returnFields, efRuntime };
}
