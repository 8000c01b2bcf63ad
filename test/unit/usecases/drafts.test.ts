/**
 * Drafts with values the transport could not decode: each Undecodable is reported once, with every
 * other violation of the request, and never stands in for a value (no "missing" next to it, no check of
 * a stand-in). What needs no spec is reported before an unknown index.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { IndexNotFoundError } from "../../../src/domain/errors.js";
import { searchDraft } from "../../support/search-draft.js";
import { MATCH_ALL } from "../../../src/domain/filter/filter.js";
import { Undecodable } from "../../../src/domain/violations.js";
import { createEmbeddedStore } from "../../../src/store/embedded/embedded-store.js";
import { createUseCases, type UseCases } from "../../../src/usecases/use-cases.js";
import type { RecommendDraft } from "../../../src/usecases/recommend.js";
import type { SearchDraft } from "../../../src/usecases/search.js";
import { violatedFields } from "../../support/violations.js";

const v = (...values: number[]): Float32Array => Float32Array.from(values);
const undecodable = (field: string) => new Undecodable({ field, description: "cannot be decoded" });

const search = (overrides: Partial<SearchDraft>): SearchDraft => searchDraft("d", overrides);

const recommend = (overrides: Partial<RecommendDraft>): RecommendDraft => ({
  indexName: "d",
  user: { userId: "a" },
  neighborCount: 0,
  neighborFilter: MATCH_ALL,
  neighborFilterField: "neighbor_filter",
  limit: 0,
  recencyHalfLifeSeconds: 0,
  includeOwned: false,
  ...overrides,
});

describe("use cases over drafts", () => {
  let useCases: UseCases;
  beforeAll(async () => {
    useCases = createUseCases(createEmbeddedStore());
    await useCases.indexAdmin.createIndex({ name: "d", fields: [], defaultVectorDimension: 2 });
  });

  it("Upsert: an undecodable vector or value is reported once, with the rest of the batch", async () => {
    const fields = await violatedFields(
      useCases.items.upsert("d", [
        { id: "a", vector: undecodable("items[0].vector.float32_le"), fields: {} },
        { id: "", vector: v(1, 0), fields: { labels: undecodable("items[1].fields.labels"), nope: { type: "numeric", value: 1 } } },
        { id: "c", vector: undefined, fields: {} },
      ]),
    );
    expect(fields).toEqual([
      "items[0].vector.float32_le",
      "items[1].id",
      "items[1].fields.labels",
      "items[1].fields.nope",
      "items[2].vector",
    ]);
  });

  it("Search: an undecodable vector and filter are reported with k, offset and field names", async () => {
    const draft = search({
      query: { vector: undecodable("vector.float32_le") },
      k: 0,
      offset: 1,
      filter: undecodable("filter_query"),
      filterField: "filter_query",
      returnFields: ["nope"],
    });
    expect(await violatedFields(useCases.search.search(draft))).toEqual([
      "k",
      "offset",
      "vector.float32_le",
      "filter_query",
      "return_fields[0]",
    ]);
  });

  it("Recommend: no user, undecodable kinds, duplicate kinds and bad weights, each at its own index", async () => {
    expect(await violatedFields(useCases.recommender.recommend(recommend({ user: undefined })))).toEqual(["user"]);
    const draft = recommend({
      user: { vector: undecodable("interest_vector.float32_le") },
      interactionWeights: [
        { kind: undecodable("interaction_weights[0].kind"), weight: 1 },
        { kind: "view", weight: -1 },
        { kind: "click", weight: -2 },
        { kind: "click", weight: 1 },
      ],
    });
    expect(await violatedFields(useCases.recommender.recommend(draft))).toEqual([
      "interest_vector.float32_le",
      "interaction_weights[0].kind",
      "interaction_weights[1].weight",
      "interaction_weights[2].weight",
      "interaction_weights[3].kind",
    ]);
  });

  it("RecordInteractions: an undecodable kind or time does not hide the other fields", async () => {
    const fields = await violatedFields(
      useCases.interactions.record("d", [
        { userId: "", itemId: "i", kind: undecodable("interactions[0].kind"), weight: 1, occurredAtMs: 0 },
        { userId: "u", itemId: "i", kind: "view", weight: -1, occurredAtMs: undecodable("interactions[1].occurred_at") },
      ]),
    );
    expect(fields).toEqual(["interactions[0].kind", "interactions[0].user_id", "interactions[1].weight", "interactions[1].occurred_at"]);
  });

  it("reports what needs no spec before an unknown index, and NOT_FOUND for an otherwise valid request", async () => {
    expect(
      await violatedFields(useCases.items.upsert("missing", [{ id: "a", vector: undecodable("items[0].vector.float32_le"), fields: {} }])),
    ).toEqual(["items[0].vector.float32_le"]);
    expect(await violatedFields(useCases.search.search(search({ indexName: "missing", k: 0 })))).toEqual(["k"]);
    await expect(useCases.search.search(search({ indexName: "missing" }))).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(useCases.recommender.recommend(recommend({ indexName: "missing" }))).rejects.toBeInstanceOf(IndexNotFoundError);
  });

  it("creates no index from a spec with an undecodable enum, reporting the schema's other problems too", async () => {
    const fields = await violatedFields(
      useCases.indexAdmin.createIndex({
        name: "e",
        fields: [{ name: "v", type: "vector", dimension: 0, metric: undecodable("fields[0].vector.distance_metric") }],
        defaultVectorDimension: 0,
      }),
    );
    expect(fields).toEqual(["fields[0].vector.dimension", "fields[0].vector.distance_metric"]);
  });
});
