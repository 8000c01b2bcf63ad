/**
 * The Recommend and interactions use cases, run against any VectorStore: called once per backend
 * (embedded, and the Redis backend on the stand-in). Expected scores are worked out by hand in comments.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/domain/errors.js";
import type { FilterNode } from "../../src/domain/filter/filter.js";
import { MATCH_ALL } from "../../src/domain/filter/filter.js";
import type { InteractionKind } from "../../src/domain/interaction.js";
import { normalizeIndexSpec } from "../../src/domain/index-spec.js";
import type { Item } from "../../src/domain/item.js";
import { deriveInterests } from "../../src/domain/interests.js";
import type { IndexSpec } from "../../src/domain/schema.js";
import { createInteractionService } from "../../src/usecases/interactions.js";
import type { InteractionInput } from "../../src/usecases/interactions.js";
import { createRecommender } from "../../src/usecases/recommend.js";
import type { RecommendDraft, RecommendResult } from "../../src/usecases/recommend.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { violatedFields } from "../support/violations.js";

export type MakeStore = () => Promise<{ store: VectorStore; cleanup: () => Promise<void> }>;

export const NOW = 1_700_000_000_000;

/**
 * L2 index, dimension 2, interests books/comics (threshold 0.4). Squared distances to u [1,1] and
 * similarities 1/(1+d):
 *   n1 [1,0] d=1  sim 1/2   labels books   interests books
 *   n2 [1,3] d=4  sim 1/5   labels comics  interests books, comics
 *   n3 [1,4] d=9  sim 1/10  labels books   interests books, comics
 *   far [10,10] d=162 sim 1/163 labels books
 * u's interests: books, comics.
 */
export function recommendFixtureSpec(name: string): IndexSpec {
  return normalizeIndexSpec({
    name,
    fields: [
      { name: "labels", type: "tag", separator: "", caseSensitive: false },
      { name: "time", type: "numeric" },
      { name: "vec", type: "vector", dimension: 2, metric: "L2" },
    ],
    defaultVectorDimension: 0,
    interests: { categoryNames: ["books", "comics"], tagField: "" },
  });
}

function user(spec: IndexSpec, id: string, vector: number[], labels: string[]): Item {
  const v = new Float32Array(vector);
  return {
    id,
    vector: v,
    fields: {
      labels: { type: "tag", values: labels },
      interests: { type: "tag", values: deriveInterests(v, spec.interests!) },
    },
  };
}

function act(userId: string, itemId: string, kind: InteractionKind, weight: number, occurredAtMs = NOW): InteractionInput {
  return { userId, itemId, kind, weight, occurredAtMs };
}

/**
 * u: i-own view 1
 * n1: i-a purchase 1 ; i-own purchase 1 ; i-b view 2 (20 s old)
 * n2: i-a like 2 ; i-c purchase 1 ; i-t2 purchase 1 ; i-t1 purchase 1
 * n3: i-b purchase 1 ; i-c view 1
 * far: i-far purchase 100
 */
export const FIXTURE_INTERACTIONS: InteractionInput[] = [
  act("u", "i-own", "view", 1),
  act("n1", "i-a", "purchase", 1),
  act("n1", "i-own", "purchase", 1),
  act("n1", "i-b", "view", 2, NOW - 20_000),
  act("n2", "i-a", "like", 2),
  act("n2", "i-c", "purchase", 1),
  act("n2", "i-t2", "purchase", 1),
  act("n2", "i-t1", "purchase", 1),
  act("n3", "i-b", "purchase", 1),
  act("n3", "i-c", "view", 1),
  act("far", "i-far", "purchase", 100),
];

/** Creates the fixture index, its users and their interactions. */
export async function loadRecommendFixture(store: VectorStore, indexName: string): Promise<void> {
  const spec = recommendFixtureSpec(indexName);
  await store.createIndex(spec);
  await store.upsert(indexName, [
    user(spec, "u", [1, 1], ["books", "comics"]),
    user(spec, "n1", [1, 0], ["books"]),
    user(spec, "n2", [1, 3], ["comics"]),
    user(spec, "n3", [1, 4], ["books"]),
    user(spec, "far", [10, 10], ["books"]),
  ]);
  await createInteractionService(store).record(indexName, FIXTURE_INTERACTIONS);
}

export function recommendCommand(indexName: string, overrides: Partial<RecommendDraft> = {}): RecommendDraft {
  return {
    indexName,
    user: { userId: "u" },
    neighborCount: 3,
    neighborFilter: MATCH_ALL,
    neighborFilterField: "neighbor_filter",
    limit: 10,
    interactionWeights: undefined,
    recencyHalfLifeSeconds: 0,
    includeOwned: false,
    nowMs: NOW,
    ...overrides,
  };
}

function ranking(result: RecommendResult): [string, number][] {
  return result.items.map((i) => [i.itemId, i.score]);
}

/** Asserts `actual` equals `expected` pairwise, scores to 12 decimals. */
function expectRanking(result: RecommendResult, expected: [string, number][]): void {
  const actual = ranking(result);
  expect(actual.map(([id]) => id)).toEqual(expected.map(([id]) => id));
  actual.forEach(([, score], i) => expect(score).toBeCloseTo(expected[i]![1], 12));
  result.items.forEach((item, i) => expect(item.rank).toBe(i + 1));
}

export function describeRecommendSuite(name: string, makeStore: MakeStore): void {
  describe(`recommend (${name})`, () => {
    let store: VectorStore;
    let cleanup: () => Promise<void>;
    const INDEX = "recs";

    beforeAll(async () => {
      ({ store, cleanup } = await makeStore());
      await loadRecommendFixture(store, INDEX);
    });
    afterAll(async () => {
      await cleanup();
    });

    it("scores what the nearest neighbours did, leaving out the user's items, best first, ties by id", async () => {
      const result = await createRecommender(store).recommend(recommendCommand(INDEX));
      // neighbours n1 (1/2), n2 (1/5), n3 (1/10); i-own is owned by u
      // i-b  = 0.5*2 + 0.1*1 = 1.1
      // i-a  = 0.5*1 + 0.2*2 = 0.9
      // i-c  = 0.2*1 + 0.1*1 = 0.3
      // i-t1 = i-t2 = 0.2*1 = 0.2 (tie: by id)
      expectRanking(result, [
        ["i-b", 1.1],
        ["i-a", 0.9],
        ["i-c", 0.3],
        ["i-t1", 0.2],
        ["i-t2", 0.2],
      ]);
      expect(result.requested).toBe(10);
    });

    describe("shaped by the request", () => {
      const CATALOG = "recs_catalog";
      beforeAll(async () => {
        // The items' own index: i-own, i-t2 are absent (dropped and counted); i-far is never reached.
        await store.createIndex(
          normalizeIndexSpec({
            name: CATALOG,
            fields: [
              { name: "category", type: "tag", separator: ",", caseSensitive: false },
              { name: "stock", type: "numeric" },
              { name: "vec", type: "vector", dimension: 2, metric: "L2" },
            ],
            defaultVectorDimension: 0,
          }),
        );
        const product = (id: string, category: string, stock: number): Item => ({
          id,
          vector: new Float32Array([1, 1]),
          fields: { category: { type: "tag", values: [category] }, stock: { type: "numeric", value: stock } },
        });
        await store.upsert(CATALOG, [product("i-b", "books", 0), product("i-a", "Books", 3), product("i-c", "comics", 5), product("i-t1", "books", 2)]);
      });

      it("leaves out exclude_item_ids and counts those it would have recommended", async () => {
        const result = await createRecommender(store).recommend(recommendCommand(INDEX, { excludeItemIds: ["i-a", "nope"] }));
        expectRanking(result, [
          ["i-b", 1.1],
          ["i-c", 0.3],
          ["i-t1", 0.2],
          ["i-t2", 0.2],
        ]);
        expect(result.shaping).toEqual({ excluded: 1, notInItemIndex: 0, filteredOut: 0, capped: 0 });
      });

      it("filters on the item index's metadata, dropping items it does not hold, the next best moving up", async () => {
        const inStock: FilterNode = { op: "numeric", field: "stock", min: 1, max: Infinity, minExclusive: false, maxExclusive: false };
        const result = await createRecommender(store).recommend(
          recommendCommand(INDEX, { itemIndexName: CATALOG, itemFilter: inStock, itemFilterField: "item_filter", limit: 2 }),
        );
        // i-b has no stock, then i-a and i-c pass: the limit is filled, i-t1/i-t2 are never looked at.
        expectRanking(result, [
          ["i-a", 0.9],
          ["i-c", 0.3],
        ]);
        expect(result.shaping).toEqual({ excluded: 0, notInItemIndex: 0, filteredOut: 1, capped: 0 });
        const all = await createRecommender(store).recommend(recommendCommand(INDEX, { itemIndexName: CATALOG, itemFilter: inStock, itemFilterField: "item_filter" }));
        expect(all.items.map((i) => i.itemId)).toEqual(["i-a", "i-c", "i-t1"]);
        expect(all.shaping).toEqual({ excluded: 0, notInItemIndex: 1, filteredOut: 1, capped: 0 });
      });

      it("caps the items per category value (case-insensitive tags) before the limit", async () => {
        const result = await createRecommender(store).recommend(
          recommendCommand(INDEX, { itemIndexName: CATALOG, categoryCap: { field: "category", maxPerValue: 1 } }),
        );
        // books: i-b kept, i-a ("Books") and i-t1 capped; comics: i-c; i-t2 is not in the catalogue.
        expectRanking(result, [
          ["i-b", 1.1],
          ["i-c", 0.3],
        ]);
        expect(result.shaping).toEqual({ excluded: 0, notInItemIndex: 1, filteredOut: 0, capped: 2 });
      });

      it("names the field of every bad shaping input", async () => {
        const bad = (overrides: Partial<RecommendDraft>) => createRecommender(store).recommend(recommendCommand(INDEX, overrides));
        const tagOnly: FilterNode = { op: "tag", field: "category", values: ["books"] };
        expect(await violatedFields(bad({ itemFilter: tagOnly, itemFilterField: "item_filter" }))).toEqual(["item_filter"]);
        expect(await violatedFields(bad({ categoryCap: { field: "category", maxPerValue: 1 } }))).toEqual(["category_cap"]);
        expect(await violatedFields(bad({ itemIndexName: CATALOG, categoryCap: { field: "stock", maxPerValue: 0 } }))).toEqual([
          "category_cap.field",
          "category_cap.max_per_value",
        ]);
        expect(await violatedFields(bad({ itemIndexName: CATALOG, itemFilter: { op: "tag", field: "labels", values: ["x"] }, itemFilterField: "item_filter" }))).toEqual([
          "item_filter",
        ]);
        expect(await violatedFields(bad({ excludeItemIds: ["ok", ""] }))).toEqual(["exclude_item_ids[1]"]);
        await expect(bad({ itemIndexName: "no_such_catalog", categoryCap: { field: "category", maxPerValue: 1 } })).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    it("explains each item: neighbours by share, shares add up to 1, contributions sum to the score", async () => {
      const result = await createRecommender(store).recommend(recommendCommand(INDEX));
      const ib = result.items[0]!;
      // i-b: n1 adds 1.0 (share 1/1.1), n3 adds 0.1 (share 0.1/1.1)
      expect(ib.contributions.map((c) => c.neighborId)).toEqual(["n1", "n3"]);
      expect(ib.contributions[0]!.scoreShare).toBeCloseTo(0.909090909090909, 12);
      expect(ib.contributions[1]!.scoreShare).toBeCloseTo(0.0909090909090909, 12);
      expect(ib.contributions[0]!.distance).toBe(1);
      expect(ib.contributions[0]!.similarity).toBe(0.5);
      expect(ib.contributions[1]!.distance).toBe(9);
      expect(ib.contributions[1]!.similarity).toBe(0.1);
      expect(ib.contributions[0]!.sharedInterests).toEqual(["books"]);
      expect(ib.contributions[1]!.sharedInterests).toEqual(["books", "comics"]);
      for (const item of result.items) {
        const shares = item.contributions.reduce((s, c) => s + c.scoreShare, 0);
        expect(shares).toBeCloseTo(1, 12);
        for (const c of item.contributions) expect(c.scoreShare).toBeGreaterThan(0);
      }
      // i-a: n1 0.5 (share 0.5/0.9), n2 0.4 (share 0.4/0.9)
      const ia = result.items[1]!;
      expect(ia.contributions.map((c) => [c.neighborId, c.similarity])).toEqual([
        ["n1", 0.5],
        ["n2", 0.2],
      ]);
      expect(ia.contributions.map((c) => c.scoreShare * ia.score)).toEqual([
        expect.closeTo(0.5, 12),
        expect.closeTo(0.4, 12),
      ]);
    });

    it("never counts the user as their own neighbour", async () => {
      const result = await createRecommender(store).recommend(recommendCommand(INDEX, { includeOwned: true }));
      for (const item of result.items) {
        expect(item.contributions.map((c) => c.neighborId)).not.toContain("u");
      }
    });

    it("keeps owned items with include_owned", async () => {
      const result = await createRecommender(store).recommend(recommendCommand(INDEX, { includeOwned: true }));
      // i-own = 0.5*1 (n1's purchase; u's own view is not a neighbour's)
      expectRanking(result, [
        ["i-b", 1.1],
        ["i-a", 0.9],
        ["i-own", 0.5],
        ["i-c", 0.3],
        ["i-t1", 0.2],
        ["i-t2", 0.2],
      ]);
    });

    it("draws only on neighbours that match the filter", async () => {
      const books: FilterNode = { op: "tag", field: "labels", values: ["books"] };
      const result = await createRecommender(store).recommend(recommendCommand(INDEX, { neighborFilter: books }));
      // neighbours labelled books: n1 (1/2), n3 (1/10), far (1/163)
      // i-b = 0.5*2 + 0.1*1 = 1.1 ; i-far = 100/163 = 0.6134969325153374 ; i-a = 0.5*1 = 0.5 ; i-c = 0.1*1 = 0.1
      expectRanking(result, [
        ["i-b", 1.1],
        ["i-far", 0.6134969325153374],
        ["i-a", 0.5],
        ["i-c", 0.1],
      ]);
      expect(result.items[1]!.contributions.map((c) => [c.neighborId, c.distance])).toEqual([["far", 162]]);
    });

    it("weights interactions by kind and ignores kinds left out", async () => {
      const weights: { kind: InteractionKind; weight: number }[] = [
        { kind: "purchase", weight: 2 },
        { kind: "like", weight: 1 },
      ];
      const result = await createRecommender(store).recommend(recommendCommand(INDEX, { interactionWeights: weights }));
      // views count 0
      // i-a = 0.5*1*2 + 0.2*2*1 = 1.4 ; i-c = 0.2*1*2 = 0.4 ; i-t1 = i-t2 = 0.4 ; i-b = 0.1*1*2 = 0.2
      expectRanking(result, [
        ["i-a", 1.4],
        ["i-c", 0.4],
        ["i-t1", 0.4],
        ["i-t2", 0.4],
        ["i-b", 0.2],
      ]);
    });

    it("decays old interactions by the recency half-life", async () => {
      const result = await createRecommender(store).recommend(recommendCommand(INDEX, { recencyHalfLifeSeconds: 10 }));
      // n1's i-b view is 20 s old: x 0.5^2 = 0.25 -> i-b = 0.5*2*0.25 + 0.1*1 = 0.35 ; the rest is from NOW
      expectRanking(result, [
        ["i-a", 0.9],
        ["i-b", 0.35],
        ["i-c", 0.3],
        ["i-t1", 0.2],
        ["i-t2", 0.2],
      ]);
    });

    it("returns fewer items than asked when fewer exist, and at most limit", async () => {
      const short = await createRecommender(store).recommend(recommendCommand(INDEX, { limit: 50 }));
      expect(short.items).toHaveLength(5);
      expect(short.requested).toBe(50);
      const two = await createRecommender(store).recommend(recommendCommand(INDEX, { limit: 2 }));
      expect(two.items.map((i) => i.itemId)).toEqual(["i-b", "i-a"]);
      expect(two.requested).toBe(2);
    });

    it("uses defaults for zero neighbour count and limit", async () => {
      const result = await createRecommender(store).recommend(recommendCommand(INDEX, { neighborCount: 0, limit: 0 }));
      // 20 neighbours = all four others: far adds i-far = 100/163
      expect(result.requested).toBe(10);
      expect(result.items.map((i) => i.itemId)).toEqual(["i-b", "i-a", "i-far", "i-c", "i-t1", "i-t2"]);
    });

    it("recommends for a raw interest vector, leaving nothing out", async () => {
      const result = await createRecommender(store).recommend(
        recommendCommand(INDEX, { user: { vector: new Float32Array([1, 1]) } }),
      );
      // neighbours u (d=0, sim 1), n1 (1/2), n2 (1/5)
      // i-own = 1*1 + 0.5*1 = 1.5 ; i-b = 0.5*2 = 1.0 ; i-a = 0.5*1 + 0.2*2 = 0.9 ; i-c = i-t1 = i-t2 = 0.2
      expectRanking(result, [
        ["i-own", 1.5],
        ["i-b", 1.0],
        ["i-a", 0.9],
        ["i-c", 0.2],
        ["i-t1", 0.2],
        ["i-t2", 0.2],
      ]);
      expect(result.items[0]!.contributions.map((c) => [c.neighborId, c.distance, c.sharedInterests])).toEqual([
        ["u", 0, ["books", "comics"]],
        ["n1", 1, ["books"]],
      ]);
    });

    it("returns nothing when no neighbour matches", async () => {
      const none: FilterNode = { op: "tag", field: "labels", values: ["nobody"] };
      const result = await createRecommender(store).recommend(recommendCommand(INDEX, { neighborFilter: none }));
      expect(result).toEqual({ items: [], requested: 10 });
    });

    it("rejects bad input with the offending field paths", async () => {
      const rec = createRecommender(store);
      expect(await violatedFields(rec.recommend(recommendCommand(INDEX, { neighborCount: 1001 })))).toEqual(["neighbor_count"]);
      expect(await violatedFields(rec.recommend(recommendCommand(INDEX, { limit: 1001 })))).toEqual(["limit"]);
      expect(await violatedFields(rec.recommend(recommendCommand(INDEX, { user: { userId: "" } })))).toEqual(["user_id"]);
      expect(
        await violatedFields(rec.recommend(recommendCommand(INDEX, { user: { vector: new Float32Array([1, 2, 3]) } }))),
      ).toEqual(["interest_vector"]);
      expect(
        await violatedFields(rec.recommend(recommendCommand(INDEX, { user: { vector: new Float32Array([1, Number.NaN]) } }))),
      ).toEqual(["interest_vector"]);
      const weights: { kind: InteractionKind; weight: number }[] = [
        { kind: "view", weight: 1 },
        { kind: "purchase", weight: -1 },
      ];
      expect(await violatedFields(rec.recommend(recommendCommand(INDEX, { interactionWeights: weights })))).toEqual([
        "interaction_weights[1].weight",
      ]);
      expect(await violatedFields(rec.recommend(recommendCommand(INDEX, { recencyHalfLifeSeconds: -1 })))).toEqual([
        "recency_half_life_seconds",
      ]);
      const unknownField: FilterNode = { op: "tag", field: "nope", values: ["x"] };
      expect(await violatedFields(rec.recommend(recommendCommand(INDEX, { neighborFilter: unknownField })))).toEqual([
        "neighbor_filter",
      ]);
      expect(
        await violatedFields(
          rec.recommend(
            recommendCommand(INDEX, { neighborFilter: unknownField, neighborFilterField: "neighbor_filter_query" }),
          ),
        ),
      ).toEqual(["neighbor_filter_query"]);
      // several at once
      expect(await violatedFields(rec.recommend(recommendCommand(INDEX, { neighborCount: -1, limit: 2.5 })))).toEqual([
        "neighbor_count",
        "limit",
      ]);
    });

    it("throws NotFoundError for an unknown user or index", async () => {
      const rec = createRecommender(store);
      await expect(rec.recommend(recommendCommand(INDEX, { user: { userId: "ghost" } }))).rejects.toBeInstanceOf(NotFoundError);
      await expect(rec.recommend(recommendCommand("no-such-index"))).rejects.toBeInstanceOf(NotFoundError);
    });

    it("stops when the signal is aborted", async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(
        createRecommender(store).recommend(recommendCommand(INDEX, { signal: controller.signal })),
      ).rejects.toMatchObject({ kind: "cancelled" });
    });
  });

  describe(`recommend on COSINE and IP (${name})`, () => {
    let store: VectorStore;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ store, cleanup } = await makeStore());
      for (const metric of ["COSINE", "IP"] as const) {
        const indexName = `m-${metric.toLowerCase()}`;
        await store.createIndex(
          normalizeIndexSpec({
            name: indexName,
            fields: [{ name: "vec", type: "vector", dimension: 2, metric }],
            defaultVectorDimension: 0,
          }),
        );
        await store.upsert(indexName, [
          { id: "u", vector: new Float32Array([1, 0]), fields: {} },
          { id: "same", vector: new Float32Array([0.6, 0.8]), fields: {} },
          { id: "opposite", vector: new Float32Array([-1, 0]), fields: {} },
        ]);
        await createInteractionService(store).record(indexName, [
          act("same", "x", "purchase", 1),
          act("opposite", "y", "purchase", 1),
        ]);
      }
    });
    afterAll(async () => {
      await cleanup();
    });

    it("COSINE: similarity is 1 - d/2", async () => {
      const result = await createRecommender(store).recommend(recommendCommand("m-cosine", { neighborCount: 2 }));
      // same: cos 0.6 -> d 0.4 -> sim 0.8 ; opposite: cos -1 -> d 2 -> sim 0 (contributes nothing)
      expect(result.items.map((i) => i.itemId)).toEqual(["x"]);
      expect(result.items[0]!.score).toBeCloseTo(0.8, 6);
      const [c] = result.items[0]!.contributions;
      expect(c!.distance).toBeCloseTo(0.4, 6);
      expect(c!.similarity).toBe(1 - c!.distance / 2);
      expect(c!.sharedInterests).toEqual([]);
    });

    it("IP: similarity is the dot product, negative ones contribute nothing", async () => {
      const result = await createRecommender(store).recommend(recommendCommand("m-ip", { neighborCount: 2 }));
      // same: dot 0.6 -> d 0.4 -> sim 0.6 ; opposite: dot -1 -> sim -1 (nothing)
      expect(result.items.map((i) => i.itemId)).toEqual(["x"]);
      expect(result.items[0]!.score).toBeCloseTo(0.6, 6);
    });
  });

  describe(`interactions (${name})`, () => {
    let store: VectorStore;
    let cleanup: () => Promise<void>;
    const INDEX = "acts";

    beforeAll(async () => {
      ({ store, cleanup } = await makeStore());
      await store.createIndex(recommendFixtureSpec(INDEX));
      const spec = recommendFixtureSpec(INDEX);
      await store.upsert(INDEX, [user(spec, "alice", [1, 0], []), user(spec, "bob", [0, 1], [])]);
    });
    afterAll(async () => {
      await cleanup();
    });

    it("records a batch and reads it back newest first, paged, with the total", async () => {
      const service = createInteractionService(store);
      const recorded = await service.record(INDEX, [
        act("alice", "book-1", "view", 1, NOW - 3000),
        act("alice", "book-2", "purchase", 2.5, NOW - 1000),
        act("alice", "book-3", "like", 1, NOW - 2000),
        act("bob", "book-1", "click", 1, NOW),
      ]);
      expect(recorded).toBe(4);
      const first = await service.get(INDEX, "alice", { limit: 2, offset: 0 });
      expect(first.totalCount).toBe(3);
      expect(first.interactions).toEqual([
        { userId: "alice", itemId: "book-2", kind: "purchase", weight: 2.5, occurredAtMs: NOW - 1000 },
        { userId: "alice", itemId: "book-3", kind: "like", weight: 1, occurredAtMs: NOW - 2000 },
      ]);
      const second = await service.get(INDEX, "alice", { limit: 2, offset: 2 });
      expect(second.interactions.map((i) => i.itemId)).toEqual(["book-1"]);
      const all = await service.get(INDEX, "alice", { limit: 0, offset: 0 });
      expect(all.interactions).toHaveLength(3);
    });

    it("reads an empty page for a user without interactions", async () => {
      const page = await createInteractionService(store).get(INDEX, "nobody", { limit: 10, offset: 0 });
      expect(page).toEqual({ interactions: [], totalCount: 0 });
    });

    it("deletes a user's interactions with the user", async () => {
      const service = createInteractionService(store);
      await service.record(INDEX, [act("bob", "book-9", "view", 1, NOW - 5)]);
      expect((await service.get(INDEX, "bob", { limit: 10, offset: 0 })).totalCount).toBe(2);
      expect(await store.deleteItems(INDEX, ["bob"])).toBe(1);
      expect(await service.get(INDEX, "bob", { limit: 10, offset: 0 })).toEqual({ interactions: [], totalCount: 0 });
    });

    it("rejects bad interactions, writing nothing", async () => {
      const service = createInteractionService(store);
      const fields = await violatedFields(
        service.record(INDEX, [
          { ...act("", "book-1", "view", 1) },
          act("alice", "", "view", 1),
          act("alice", "book-1", "view", -1),
          { ...act("alice", "book-1", "view", 1), kind: "stare" as InteractionKind },
          act("alice", "book-1", "view", Number.NaN),
        ]),
      );
      expect(fields).toEqual([
        "interactions[0].user_id",
        "interactions[1].item_id",
        "interactions[2].weight",
        "interactions[3].kind",
        "interactions[4].weight",
      ]);
      expect(await violatedFields(service.record(INDEX, []))).toEqual(["interactions"]);
      expect(await violatedFields(service.get(INDEX, "alice", { limit: 10_001, offset: 0 }))).toEqual(["limit"]);
      expect(await violatedFields(service.get(INDEX, "", { limit: 1, offset: -1 }))).toEqual(["user_id", "offset"]);
      // nothing of the rejected batch was written
      const page = await service.get(INDEX, "alice", { limit: 100, offset: 0 });
      expect(page.interactions.some((i) => i.weight === -1 || i.itemId === "")).toBe(false);
    });

    it("throws NotFoundError for an unknown index", async () => {
      const service = createInteractionService(store);
      await expect(service.record("no-such-index", [act("a", "b", "view", 1)])).rejects.toBeInstanceOf(NotFoundError);
      await expect(service.get("no-such-index", "a", { limit: 1, offset: 0 })).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}
