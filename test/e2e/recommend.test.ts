/**
 * Recommend, RecordInteractions and GetInteractions over gRPC, on every backend of the e2e harness.
 * Same fixture as test/recommend/recommend-suite.ts (L2, similarities 1/(1+d)), scores worked out by hand.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  InteractionKind,
  type Interaction,
  type RecommendRequest,
  type RecommendResponse,
} from "../../src/gen/vecrec/v1/vecrec.js";
import { BACKENDS, collect, failure, startHarness, unary, vectorBytes, violatedFields, type Harness } from "./harness.js";

const INDEX = "e2e-recs";
const NOW = 1_700_000_000_000;

const USERS: [string, number[], string][] = [
  ["u", [1, 1], "books"],
  ["n1", [1, 0], "books"], // d=1  sim 1/2
  ["n2", [1, 3], "comics"], // d=4  sim 1/5
  ["n3", [1, 4], "books"], // d=9  sim 1/10
  ["far", [10, 10], "books"], // d=162
];

function act(userId: string, itemId: string, kind: InteractionKind, weight: number, at = NOW): Interaction {
  return { userId, itemId, kind, weight, occurredAt: new Date(at) };
}
const { INTERACTION_KIND_VIEW: VIEW, INTERACTION_KIND_PURCHASE: PURCHASE, INTERACTION_KIND_LIKE: LIKE } = InteractionKind;

function request(overrides: Partial<RecommendRequest>): RecommendRequest {
  return {
    indexName: INDEX,
    user: { $case: "userId", value: "u" },
    neighborCount: 3,
    neighborFilter: undefined,
    neighborFilterQuery: "",
    itemIndexName: "",
    itemFilterQuery: "",
    excludeItemIds: [],
    limit: 10,
    interactionWeights: [],
    recencyHalfLifeSeconds: 0,
    includeOwned: false,
    ...overrides,
  };
}

for (const backend of BACKENDS) {
  describe(`Recommend over gRPC (${backend.name})`, () => {
    let h: Harness;

    beforeAll(async () => {
      h = await startHarness(backend);
      await unary((cb) =>
        h.client.index(
          {
            indexName: INDEX,
            fields: [
              { name: "labels", type: { $case: "tag", value: { separator: "", caseSensitive: false } } },
              {
                name: "vec",
                type: { $case: "vector", value: { dimension: 2, algorithm: 0, distanceMetric: 2, elementType: 0, hnsw: undefined } },
              },
            ],
            defaultVectorDimension: 0,
            interests: { categoryNames: ["books", "comics"], threshold: undefined, tagField: "" },
          },
          cb,
        ),
      );
      await unary((cb) =>
        h.client.upsert(
          {
            indexName: INDEX,
            items: USERS.map(([id, vec, label]) => ({
              id,
              vector: vectorBytes(vec),
              fields: { labels: { kind: { $case: "tags", value: { values: [label] } } } },
            })),
          },
          cb,
        ),
      );
      await unary((cb) =>
        h.client.recordInteractions(
          {
            indexName: INDEX,
            interactions: [
              act("u", "i-own", VIEW, 1),
              act("n1", "i-a", PURCHASE, 1),
              act("n1", "i-own", PURCHASE, 1),
              act("n1", "i-b", VIEW, 2, NOW - 20_000),
              act("n2", "i-a", LIKE, 2),
              act("n2", "i-c", PURCHASE, 1),
              act("n3", "i-b", PURCHASE, 1),
              act("n3", "i-c", VIEW, 1),
              act("far", "i-far", PURCHASE, 100),
            ],
          },
          cb,
        ),
      );
    });
    afterAll(async () => {
      await h.close();
    });

    it("streams the best items first with explanations, and says when fewer exist", async () => {
      const { messages, trailers, error } = await collect<RecommendResponse>(h.client.recommend(request({})));
      expect(error).toBeUndefined();
      // i-b = 0.5*2 + 0.1*1 = 1.1 ; i-a = 0.5*1 + 0.2*2 = 0.9 ; i-c = 0.2*1 + 0.1*1 = 0.3 ; i-own is u's
      expect(messages.map((m) => [m.itemId, m.rank])).toEqual([
        ["i-b", 1],
        ["i-a", 2],
        ["i-c", 3],
      ]);
      expect(messages.map((m) => m.score)).toEqual([expect.closeTo(1.1, 12), expect.closeTo(0.9, 12), expect.closeTo(0.3, 12)]);
      const [ib] = messages;
      expect(ib!.contributions.map((c) => [c.neighborId, c.similarity, c.distance, c.sharedInterests])).toEqual([
        ["n1", 0.5, 1, ["books"]],
        ["n3", 0.1, 9, ["books", "comics"]],
      ]);
      expect(ib!.contributions.reduce((s, c) => s + c.scoreShare, 0)).toBeCloseTo(1, 12);
      expect(trailers?.get("vecrec-recommendations-short")).toEqual(["3/10"]);
    });

    it("shapes the list with exclude_item_ids, an item filter on the users' own index and a category cap, explained in trailers", async () => {
      // The items are not in the item index named ("recs" holds users): every candidate is dropped and counted.
      const missing = await collect<RecommendResponse>(
        h.client.recommend(request({ itemIndexName: INDEX, itemFilterQuery: "@labels:{books}", excludeItemIds: ["i-a"] })),
      );
      expect(missing.error).toBeUndefined();
      expect(missing.messages).toEqual([]);
      expect(missing.trailers?.get("vecrec-recommend-excluded")).toEqual(["1"]);
      expect(missing.trailers?.get("vecrec-recommend-not-in-item-index")).toEqual(["2"]);
      expect(missing.trailers?.get("vecrec-recommend-filtered-out")).toEqual([]);
      const bad = await collect<RecommendResponse>(
        h.client.recommend(request({ itemFilterQuery: "@labels:{books}", categoryCap: { field: "labels", maxPerValue: 0 } })),
      );
      expect(bad.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(bad.error && violatedFields(bad.error)).toEqual(["category_cap", "item_filter_query"]);
    });

    it("sends no short trailer when the limit is met", async () => {
      const { messages, trailers } = await collect<RecommendResponse>(h.client.recommend(request({ limit: 2 })));
      expect(messages.map((m) => m.itemId)).toEqual(["i-b", "i-a"]);
      expect(trailers?.get("vecrec-recommendations-short")).toEqual([]);
    });

    it("applies kind weights, recency, include_owned and the neighbour filter", async () => {
      const weighted = await collect<RecommendResponse>(
        h.client.recommend(request({ interactionWeights: [{ kind: PURCHASE, weight: 2 }], includeOwned: true })),
      );
      // purchases only, x2: i-a = 0.5*2 = 1.0 ; i-own = 0.5*2 = 1.0 ; i-c = 0.2*2 = 0.4 ; i-b = 0.1*2 = 0.2
      expect(weighted.messages.map((m) => [m.itemId, m.score])).toEqual([
        ["i-a", 1],
        ["i-own", 1],
        ["i-c", 0.4],
        ["i-b", expect.closeTo(0.2, 12)],
      ]);
      const decayed = await collect<RecommendResponse>(h.client.recommend(request({ recencyHalfLifeSeconds: 1e9 })));
      // a half-life of ~31 years: decay is ~1 for interactions of 2023
      expect(decayed.messages.map((m) => m.itemId)).toEqual(["i-b", "i-a", "i-c"]);
      const books = await collect<RecommendResponse>(h.client.recommend(request({ neighborFilterQuery: "@labels:{books}" })));
      // n1, n3, far: i-b = 1.1 ; i-far = 100/163 ; i-a = 0.5 ; i-c = 0.1
      expect(books.messages.map((m) => [m.itemId, m.score])).toEqual([
        ["i-b", expect.closeTo(1.1, 12)],
        ["i-far", expect.closeTo(0.6134969325153374, 12)],
        ["i-a", 0.5],
        ["i-c", expect.closeTo(0.1, 12)],
      ]);
    });

    it("recommends for a raw interest vector", async () => {
      const { messages } = await collect<RecommendResponse>(
        h.client.recommend(request({ user: { $case: "interestVector", value: vectorBytes([1, 1]) } })),
      );
      // u (sim 1), n1 (1/2), n2 (1/5): i-own = 1 + 0.5 = 1.5 ; i-b = 1.0 ; i-a = 0.9 ; i-c = 0.2
      expect(messages.map((m) => m.itemId)).toEqual(["i-own", "i-b", "i-a", "i-c"]);
      expect(messages[0]!.score).toBe(1.5);
    });

    it("rejects bad requests with INVALID_ARGUMENT naming the fields", async () => {
      const bad = await collect(h.client.recommend(request({ neighborCount: 1001, limit: 5000 })));
      expect(bad.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(violatedFields(bad.error!)).toEqual(["limit", "neighbor_count"]);
      const badVector = await collect(
        h.client.recommend(request({ user: { $case: "interestVector", value: vectorBytes([1, 2, 3]) } })),
      );
      expect(violatedFields(badVector.error!)).toEqual(["interest_vector"]);
      const badFilter = await collect(h.client.recommend(request({ neighborFilterQuery: "@nope:{x}" })));
      expect(badFilter.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(violatedFields(badFilter.error!)).toEqual(["neighbor_filter_query"]);
      const badWeights = await collect(
        h.client.recommend(
          request({
            interactionWeights: [
              { kind: VIEW, weight: -1 },
              { kind: LIKE, weight: Number.NaN },
              { kind: PURCHASE, weight: 2 },
            ],
            recencyHalfLifeSeconds: -5,
          }),
        ),
      );
      expect(badWeights.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(violatedFields(badWeights.error!)).toEqual([
        "interaction_weights[0].weight",
        "interaction_weights[1].weight",
        "recency_half_life_seconds",
      ]);
    });

    it("answers NOT_FOUND for an unknown user", async () => {
      const { error } = await collect(h.client.recommend(request({ user: { $case: "userId", value: "ghost" } })));
      expect(error?.code).toBe(status.NOT_FOUND);
    });

    it("records interactions and reads them back newest first, paged", async () => {
      const page = await unary<{ interactions: Interaction[]; totalCount: number }>((cb) =>
        h.client.getInteractions({ indexName: INDEX, userId: "n1", limit: 2, offset: 0 }, cb),
      );
      expect(page.totalCount).toBe(3);
      expect(page.interactions.map((i) => [i.itemId, i.kind, i.weight, i.occurredAt?.getTime()])).toEqual([
        ["i-a", PURCHASE, 1, NOW],
        ["i-own", PURCHASE, 1, NOW],
      ]);
      const rest = await unary<{ interactions: Interaction[]; totalCount: number }>((cb) =>
        h.client.getInteractions({ indexName: INDEX, userId: "n1", limit: 2, offset: 2 }, cb),
      );
      expect(rest.interactions.map((i) => [i.itemId, i.weight])).toEqual([["i-b", 2]]);
    });

    it("rejects bad interactions with INVALID_ARGUMENT naming each one", async () => {
      const record = (interactions: Interaction[]) =>
        failure(unary((cb) => h.client.recordInteractions({ indexName: INDEX, interactions }, cb)));
      const error = await record([act("", "x", VIEW, 1), act("u", "x", VIEW, 1), act("u", "x", VIEW, -1)]);
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(violatedFields(error)).toEqual(["interactions[0].user_id", "interactions[2].weight"]);
      const unknownKind = await record([act("u", "x", VIEW, 1), act("u", "x", InteractionKind.INTERACTION_KIND_UNSPECIFIED, 1)]);
      expect(unknownKind.code).toBe(status.INVALID_ARGUMENT);
      expect(violatedFields(unknownKind)).toEqual(["interactions[1].kind"]);
      const empty = await record([]);
      expect(violatedFields(empty)).toEqual(["interactions"]);
      // nothing of the rejected batches was written
      const page = await unary<{ interactions: Interaction[]; totalCount: number }>((cb) =>
        h.client.getInteractions({ indexName: INDEX, userId: "u", limit: 100, offset: 0 }, cb),
      );
      expect(page.interactions.map((i) => i.itemId)).toEqual(["i-own"]);
    });

    // Last: it records an interaction the tests above do not expect.
    it("never recommends the user to themselves, include_owned or not", async () => {
      // A neighbour interacted with the user (users are items too: people follow people).
      await unary((cb) => h.client.recordInteractions({ indexName: INDEX, interactions: [act("n1", "u", LIKE, 5)] }, cb));
      for (const includeOwned of [false, true]) {
        const { messages, error } = await collect<RecommendResponse>(h.client.recommend(request({ includeOwned })));
        expect(error).toBeUndefined();
        expect(messages.map((m) => m.itemId), `include_owned ${includeOwned}`).not.toContain("u");
        expect(messages.length).toBeGreaterThan(0);
      }
      // For a raw vector there is no user: "u" is an item like any other.
      const raw = await collect<RecommendResponse>(
        h.client.recommend(request({ user: { $case: "interestVector", value: vectorBytes([1, 0]) } })),
      );
      expect(raw.messages.map((m) => m.itemId)).toContain("u");
    });
  });
}
