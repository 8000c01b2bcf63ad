/**
 * The recommendation suite on the Redis backend, on every Redis test backend (the RESP stand-in as a
 * standalone server and as a 3-node cluster, and the real servers configured), plus the round-trip
 * budget of Recommend on Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MATCH_ALL } from "../../src/domain/filter/filter.js";
import { createRecommender } from "../../src/usecases/recommend.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { startRedisStandIn } from "../support/redis-standin/index.js";
import { openRedisStore, realServerNotes, redisTestBackends } from "../support/redis-test-backends.js";
import { describeRecommendSuite, loadRecommendFixture, recommendCommand } from "./recommend-suite.js";
import { startRoundTripCounter, type RoundTripCounter } from "./round-trip-counter.js";

interface StandIn {
  url: string;
  port: number;
  commandLog: string[][];
  close(): Promise<void>;
}

for (const note of realServerNotes()) console.log(`recommend (redis): ${note}`);

for (const backend of redisTestBackends()) {
  describeRecommendSuite(backend.name, () => openRedisStore(backend, "rec"));
}

{
  /**
   * What is counted: (a) the commands the stand-in receives during one recommend() call (its commandLog),
   * and (b) the round trips, measured by a TCP proxy between node-redis and the stand-in (a round trip =
   * a burst of commands written before any reply comes back; pipelined commands count once).
   * The index definition is cached by the store (VectorStore.getIndexSpec, warmed by a first call), so
   * what remains is the data path: HMGET user, FT.SEARCH, one ZRANGE per history, pipelined.
   */
  describe("recommend round trips on Redis (stand-in)", () => {
    let standIn: StandIn;
    let proxy: RoundTripCounter;
    let store: VectorStore;
    const INDEX = "rt";

    beforeAll(async () => {
      standIn = await startRedisStandIn();
      proxy = await startRoundTripCounter(standIn.port);
      store = await createRedisStore({ url: proxy.url, keyPrefix: "rt:", definitionCacheMs: 600_000 });
      await loadRecommendFixture(store, INDEX);
    });
    afterAll(async () => {
      await store.close();
      await proxy.close();
      await standIn.close();
    });

    async function measure(run: () => Promise<unknown>): Promise<{ commands: string[]; roundTrips: number }> {
      const start = standIn.commandLog.length;
      proxy.reset();
      await run();
      return {
        commands: standIn.commandLog.slice(start).map((argv) => (argv[0] ?? "").toUpperCase()),
        roundTrips: proxy.roundTrips(),
      };
    }

    it("recommends for a stored user in 3 round trips: user, KNN, every history in one pipeline", async () => {
      const recommender = createRecommender(store);
      const command = recommendCommand(INDEX, { neighborCount: 3 });
      // The index was created through this store, whose spec cache (the only one) took the definition
      // then: even the first call reads no definition.
      const first = await measure(() => recommender.recommend(command));
      expect(first.roundTrips).toBe(3);
      const { commands, roundTrips } = await measure(() => recommender.recommend(command));
      // 3 neighbours + the user = 4 histories
      expect(commands).toEqual(["HMGET", "FT.SEARCH", "ZRANGE", "ZRANGE", "ZRANGE", "ZRANGE"]);
      expect(roundTrips).toBe(3);
    });

    it("keeps 3 round trips with 20 neighbours (the history read does not grow with them)", async () => {
      const recommender = createRecommender(store);
      const command = recommendCommand(INDEX, { neighborCount: 20, neighborFilter: MATCH_ALL });
      await recommender.recommend(command);
      const { commands, roundTrips } = await measure(() => recommender.recommend(command));
      // the fixture has 4 other users: 4 neighbours + the user
      expect(commands.filter((c) => c === "ZRANGE")).toHaveLength(5);
      expect(commands.length).toBe(7);
      expect(roundTrips).toBe(3);
    });

    it("needs 2 round trips for a raw interest vector (no user to read, nothing owned)", async () => {
      const recommender = createRecommender(store);
      const command = recommendCommand(INDEX, { user: { vector: new Float32Array([1, 1]) }, neighborCount: 3 });
      await recommender.recommend(command);
      const { commands, roundTrips } = await measure(() => recommender.recommend(command));
      expect(commands).toEqual(["FT.SEARCH", "ZRANGE", "ZRANGE", "ZRANGE"]);
      expect(roundTrips).toBe(2);
    });
  });
}
