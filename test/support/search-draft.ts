/**
 * A Search use-case draft as the transport makes one for a request that sets only what `overrides`
 * sets: no filter, every metadata field returned, no vectors, the index's ef_runtime, first page. For
 * tests and benches that call the use case directly.
 */
import { MATCH_ALL } from "../../src/domain/filter/filter.js";
import type { SearchDraft } from "../../src/usecases/search.js";

export function searchDraft(indexName: string, overrides: Partial<SearchDraft> = {}): SearchDraft {
  return {
    indexName,
    query: undefined,
    k: 10,
    offset: 0,
    filter: MATCH_ALL,
    filterField: "filter",
    returnFields: [],
    omitFields: [],
    includeVectors: false,
    efRuntime: 0,
    ...overrides,
  };
}
