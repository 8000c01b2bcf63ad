/**
 * How a use case gets the spec it validates against: from the store (VectorStore.getIndexSpec, whose
 * cache is the only one), and only for a well-formed index name. Violations found without the spec are
 * reported before an unknown index.
 */
import { IndexNotFoundError } from "../domain/errors.js";
import { indexNameViolations } from "../domain/request-limits.js";
import type { IndexSpec } from "../domain/schema.js";
import type { ViolationCollector } from "../domain/violations.js";
import type { VectorStore } from "../store/vector-store.js";

/**
 * The spec of `indexName`; undefined when the name is malformed (not looked up) or the index does not
 * exist. A store's not-found that names its cause (a subclass of IndexNotFoundError, e.g. Redis lost
 * every definition) is thrown as it is: it matters more than the request's own mistakes.
 */
export async function lookUpIndexSpec(store: VectorStore, indexName: string, signal?: AbortSignal): Promise<IndexSpec | undefined> {
  if (indexNameViolations(indexName).length > 0) return undefined;
  try {
    return await store.getIndexSpec(indexName, { signal });
  } catch (error) {
    if (error instanceof IndexNotFoundError && error.constructor === IndexNotFoundError) return undefined;
    throw error;
  }
}

/**
 * The end of a validation against a looked-up spec: throws every violation collected, or, when there is
 * none and the spec was not found, IndexNotFoundError.
 */
export function throwIfInvalid(
  violations: ViolationCollector,
  indexName: string,
  spec: IndexSpec | undefined,
): asserts spec is IndexSpec {
  violations.throwIfAny();
  if (spec === undefined) throw new IndexNotFoundError(indexName);
}

/**
 * The index's own name for `indexName`, which may be an alias (VectorStore.getIndexSpec resolves it):
 * for the calls that do not validate against the spec, so that every call resolves an alias once, at
 * its start. `indexName` must be well-formed (checked by the caller).
 * @throws IndexNotFoundError
 */
export async function resolveIndexName(store: VectorStore, indexName: string, signal?: AbortSignal): Promise<string> {
  return (await store.getIndexSpec(indexName, { signal })).name;
}
