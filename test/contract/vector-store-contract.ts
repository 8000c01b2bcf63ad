/**
 * The VectorStore contract: one suite every backend must pass (the embedded engine, the Redis backend
 * against the RESP stand-in, standalone and cluster, and real servers when VECREC_TEST_REDIS_URL /
 * VECREC_TEST_REDIS_CLUSTER_URL are set).
 *
 * The suite lives in test/contract/suite/, one file per concern; this file only composes it:
 *
 *   context.ts         the store under test, fresh index names, cleanup (ContractContext)
 *   builders.ts        schemas, items, queries, distance references and checks
 *   indexes.ts         create, describe, list, drop; interests on an index
 *   items.ts           upsert, get, replace, delete, scan
 *   interest-tags.ts   setInterestTags (nested in "items")
 *   item-updates.ts    updateItems: set/remove fields, replace the vector, missing items
 *   export.ts          exportItems: id order, batches, filter, resume after an id
 *   search-ranking.ts  KNN: metrics, ties, id order, k, pre-filter, exclusions, fields, abort
 *   range-search.ts    maxDistance: VECTOR_RANGE radius per metric, cap, filter, exclusions
 *   diversity.ts       Search's MMR diversity (use case over the store): 0 = KNN, clusters, reference
 *   element-types.ts   FLOAT64/FLOAT16/BFLOAT16: values kept as rounded, distances per type
 *   filters.ts         tag, numeric, text filters and and/or/not; filter-only paging
 *   walk-through.ts    the blog's recommendation flow
 *   interactions.ts    record, dedupe, order, page, several users, per index
 *   unknown-index.ts   IndexNotFoundError from every method
 *   aliases.ts         aliases: create, move, delete, resolution, namespace; every use case through one
 *
 * To add a test, put it in the file of its concern (a new concern: a new file with a
 * `describeX(ctx: ContractContext)` called below). Create every index with `ctx.createIndex`, so the
 * suite can share a Redis with other runs. Field values and filters come from test/support
 * (field-values.ts, filter-builders.ts).
 */
import { describe } from "vitest";
import { describeAliases } from "./suite/aliases.js";
import { useContractStore, type ContractStoreHandle } from "./suite/context.js";
import { describeDiversity } from "./suite/diversity.js";
import { describeElementTypes } from "./suite/element-types.js";
import { describeFilters } from "./suite/filters.js";
import { describeIndexes } from "./suite/indexes.js";
import { describeInteractions } from "./suite/interactions.js";
import { describeExport } from "./suite/export.js";
import { describeItemUpdates } from "./suite/item-updates.js";
import { describeItems } from "./suite/items.js";
import { describeRangeSearch } from "./suite/range-search.js";
import { describeSearchRanking } from "./suite/search-ranking.js";
import { describeUnknownIndex } from "./suite/unknown-index.js";
import { describeWalkThrough } from "./suite/walk-through.js";

export type { ContractStoreHandle } from "./suite/context.js";

export function describeVectorStoreContract(name: string, makeStore: () => Promise<ContractStoreHandle>): void {
  describe(`VectorStore contract: ${name}`, () => {
    const ctx = useContractStore(makeStore);
    describeIndexes(ctx);
    describeItems(ctx);
    describeItemUpdates(ctx);
    describeExport(ctx);
    describeSearchRanking(ctx);
    describeRangeSearch(ctx);
    describeDiversity(ctx);
    describeElementTypes(ctx);
    describeFilters(ctx);
    describeWalkThrough(ctx);
    describeInteractions(ctx);
    describeUnknownIndex(ctx);
    describeAliases(ctx);
  });
}
