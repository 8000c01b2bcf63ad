import { describe, expect, it } from "vitest";
import type { Interaction, InteractionKind } from "../../src/domain/interaction.js";
import { recencyDecay, scoreRecommendations, sharedInterests, similarityFromDistance } from "../../src/domain/scoring.js";
import type { ScoringInput } from "../../src/domain/scoring.js";

const NOW = 1_000_000_000;

function act(userId: string, itemId: string, kind: InteractionKind, weight: number, occurredAtMs = NOW): Interaction {
  return { userId, itemId, kind, weight, occurredAtMs };
}

/**
 * L2 fixture: a at distance 1 (similarity 1/(1+1) = 0.5), b at distance 3 (1/(1+3) = 0.25).
 * a: x purchase 1, y view 2.   b: x like 2, z purchase 1.
 */
function fixture(overrides: Partial<ScoringInput> = {}): ScoringInput {
  return {
    metric: "L2",
    neighbors: [
      { id: "a", distance: 1, interests: ["books", "comics"] },
      { id: "b", distance: 3, interests: ["comics"] },
    ],
    histories: new Map([
      ["a", [act("a", "x", "purchase", 1), act("a", "y", "view", 2)]],
      ["b", [act("b", "x", "like", 2), act("b", "z", "purchase", 1)]],
    ]),
    userInterests: ["books", "comics"],
    excludedItemIds: new Set(),
    kindWeights: undefined,
    recencyHalfLifeSeconds: 0,
    nowMs: NOW,
    limit: 10,
    ...overrides,
  };
}

describe("similarityFromDistance", () => {
  it("maps COSINE distance to 1 - d/2", () => {
    expect(similarityFromDistance("COSINE", 0)).toBe(1);
    expect(similarityFromDistance("COSINE", 0.4)).toBeCloseTo(0.8, 15);
    expect(similarityFromDistance("COSINE", 2)).toBe(0);
  });
  it("maps squared L2 distance to 1 / (1 + d)", () => {
    expect(similarityFromDistance("L2", 0)).toBe(1);
    expect(similarityFromDistance("L2", 4)).toBe(0.2);
  });
  it("maps IP distance back to the dot product", () => {
    expect(similarityFromDistance("IP", -0.5)).toBe(1.5);
    expect(similarityFromDistance("IP", 1.5)).toBe(-0.5);
  });
  it("keeps NaN as NaN", () => {
    expect(similarityFromDistance("COSINE", Number.NaN)).toBeNaN();
  });
});

describe("recencyDecay", () => {
  it("halves once per half-life", () => {
    expect(recencyDecay(10_000, 10)).toBe(0.5);
    expect(recencyDecay(20_000, 10)).toBe(0.25);
    expect(recencyDecay(0, 10)).toBe(1);
  });
  it("does not decay without a half-life", () => {
    expect(recencyDecay(1e12, 0)).toBe(1);
  });
  it("counts interactions dated in the future fully", () => {
    expect(recencyDecay(-50_000, 10)).toBe(1);
  });
});

describe("sharedInterests", () => {
  it("intersects in the user's order", () => {
    expect(sharedInterests(["books", "comics", "computers"], ["computers", "books"])).toEqual(["books", "computers"]);
    expect(sharedInterests([], ["books"])).toEqual([]);
  });
});

describe("scoreRecommendations", () => {
  it("sums similarity x weight over neighbours and breaks ties by item id", () => {
    // x = 0.5*1 + 0.25*2 = 1.0 ; y = 0.5*2 = 1.0 ; z = 0.25*1 = 0.25 -> x and y tie, x first by id
    const items = scoreRecommendations(fixture());
    expect(items.map((i) => [i.itemId, i.score, i.rank])).toEqual([
      ["x", 1.0, 1],
      ["y", 1.0, 2],
      ["z", 0.25, 3],
    ]);
    // x: a adds 0.5, b adds 0.5 -> equal shares, ties by neighbour id
    expect(items[0]!.contributions).toEqual([
      { neighborId: "a", similarity: 0.5, distance: 1, contribution: 0.5, scoreShare: 0.5, sharedInterests: ["books", "comics"] },
      { neighborId: "b", similarity: 0.25, distance: 3, contribution: 0.5, scoreShare: 0.5, sharedInterests: ["comics"] },
    ]);
    expect(items[2]!.contributions.map((c) => [c.neighborId, c.scoreShare])).toEqual([["b", 1]]);
  });

  it("applies kind weights and ignores kinds not listed", () => {
    // purchase x3, view x0.5, like absent (0): x = 0.5*1*3 = 1.5 ; y = 0.5*2*0.5 = 0.5 ; z = 0.25*1*3 = 0.75
    const items = scoreRecommendations(
      fixture({ kindWeights: new Map<InteractionKind, number>([["purchase", 3], ["view", 0.5]]) }),
    );
    expect(items.map((i) => [i.itemId, i.score])).toEqual([
      ["x", 1.5],
      ["z", 0.75],
      ["y", 0.5],
    ]);
    expect(items[0]!.contributions.map((c) => c.neighborId)).toEqual(["a"]);
  });

  it("leaves out excluded items and items whose score is 0", () => {
    const items = scoreRecommendations(
      fixture({ excludedItemIds: new Set(["x"]), kindWeights: new Map<InteractionKind, number>([["view", 1], ["like", 1]]) }),
    );
    // x excluded; y = 0.5*2 = 1.0 ; z only purchased (weight 0 here) -> left out
    expect(items.map((i) => [i.itemId, i.score])).toEqual([["y", 1.0]]);
  });

  it("decays old interactions with the half-life", () => {
    // half-life 10 s; a's y view is 20 s old (x0.25), b's z purchase 10 s old (x0.5)
    const histories = new Map([
      ["a", [act("a", "x", "purchase", 1), act("a", "y", "view", 2, NOW - 20_000)]],
      ["b", [act("b", "x", "like", 2), act("b", "z", "purchase", 1, NOW - 10_000)]],
    ]);
    const items = scoreRecommendations(fixture({ histories, recencyHalfLifeSeconds: 10 }));
    // x = 0.5 + 0.5 = 1.0 ; y = 0.5*2*0.25 = 0.25 ; z = 0.25*1*0.5 = 0.125
    expect(items.map((i) => [i.itemId, i.score])).toEqual([
      ["x", 1.0],
      ["y", 0.25],
      ["z", 0.125],
    ]);
  });

  it("sums several interactions of one neighbour with one item", () => {
    const histories = new Map([["a", [act("a", "x", "view", 1), act("a", "x", "purchase", 3, NOW - 1)]]]);
    // x = 0.5 * (1 + 3) = 2
    const items = scoreRecommendations(fixture({ histories }));
    expect(items).toHaveLength(1);
    expect(items[0]!.score).toBe(2);
    expect(items[0]!.contributions).toHaveLength(1);
  });

  it("gives neighbours with similarity <= 0 nothing to say (IP)", () => {
    // IP: distance -0.5 -> similarity 1.5 ; distance 1.5 -> similarity -0.5 (ignored) ; distance 1 -> 0 (ignored)
    const items = scoreRecommendations(
      fixture({
        metric: "IP",
        neighbors: [
          { id: "a", distance: -0.5, interests: [] },
          { id: "b", distance: 1.5, interests: [] },
          { id: "c", distance: 1, interests: [] },
        ],
        histories: new Map([
          ["a", [act("a", "x", "view", 1)]],
          ["b", [act("b", "x", "view", 10), act("b", "z", "view", 10)]],
          ["c", [act("c", "w", "view", 10)]],
        ]),
      }),
    );
    expect(items.map((i) => [i.itemId, i.score])).toEqual([["x", 1.5]]);
    expect(items[0]!.contributions.map((c) => [c.neighborId, c.similarity, c.scoreShare])).toEqual([["a", 1.5, 1]]);
  });

  it("ignores neighbours whose distance is NaN (zero vectors under COSINE)", () => {
    const items = scoreRecommendations(
      fixture({
        metric: "COSINE",
        neighbors: [
          { id: "a", distance: Number.NaN, interests: [] },
          { id: "b", distance: 0.4, interests: [] },
        ],
      }),
    );
    // b: similarity 1 - 0.4/2 = 0.8 ; x = 0.8*2 = 1.6 ; z = 0.8*1 = 0.8
    expect(items.map((i) => i.itemId)).toEqual(["x", "z"]);
    expect(items[0]!.score).toBeCloseTo(1.6, 12);
    expect(items[1]!.score).toBeCloseTo(0.8, 12);
  });

  it("orders contributions by share and makes shares add up to 1", () => {
    const histories = new Map([
      ["a", [act("a", "x", "view", 1)]],
      ["b", [act("b", "x", "view", 3)]],
    ]);
    // a: 0.5*1 = 0.5 ; b: 0.25*3 = 0.75 ; score 1.25 ; shares 0.6 (b), 0.4 (a)
    const [x] = scoreRecommendations(fixture({ histories }));
    expect(x!.score).toBe(1.25);
    expect(x!.contributions.map((c) => [c.neighborId, c.scoreShare])).toEqual([
      ["b", 0.6],
      ["a", 0.4],
    ]);
  });

  it("returns at most limit items, and fewer when fewer exist", () => {
    expect(scoreRecommendations(fixture({ limit: 2 })).map((i) => i.itemId)).toEqual(["x", "y"]);
    expect(scoreRecommendations(fixture({ limit: 100 }))).toHaveLength(3);
    expect(scoreRecommendations(fixture({ neighbors: [] }))).toEqual([]);
  });

  it("compares ids by code point (compareIds, UTF-8 byte order), not locale", () => {
    const histories = new Map([["a", [act("a", "b", "view", 1), act("a", "B", "view", 1), act("a", "a", "view", 1)]]]);
    expect(scoreRecommendations(fixture({ histories })).map((i) => i.itemId)).toEqual(["B", "a", "b"]);
  });
});
