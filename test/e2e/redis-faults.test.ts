/**
 * Redis faults end to end (issue 16), on the RESP stand-in taught to fail like a real server
 * (test/support/redis-standin/faults.ts): frozen behind an open socket, answering LOADING after a
 * restart, and coming back empty (restart on an empty data set, or FLUSHALL). A vecrec server on
 * 127.0.0.1 port 0 over the Redis store, the generated client and gRPC health; every test bounded in
 * time and stopping what it starts.
 */
import {
  credentials,
  Metadata,
  status,
  type ServiceError,
} from "@grpc/grpc-js";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { VectorServiceClient, type GetIndexResponse, type UpsertResponse } from "../../src/gen/vecrec/v1/vecrec.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { DeadlineExceededError } from "../../src/domain/errors.js";
import { createRedisStore, type RedisStoreOptions } from "../../src/store/redis/redis-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { startRedisStandInCluster } from "../support/redis-standin/cluster.js";
import { keySlot } from "../support/redis-standin/hash-slot.js";
import { startRedisStandIn, type RedisStandIn } from "../support/redis-standin/index.js";
import { connectRawResp } from "../support/redis-standin/raw-resp-client.js";
import { failure, unary } from "./harness.js";
import { healthChecker } from "./health-client.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Running {
  readonly standIn: RedisStandIn;
  readonly store: VectorStore;
  readonly client: VectorServiceClient;
  health(): Promise<string | number>;
  upsert(id: string, deadlineMs?: number): Promise<UpsertResponse>;
  getIndex(deadlineMs?: number): Promise<GetIndexResponse>;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A stand-in, a Redis store on it (index "faults" created) and a vecrec server over the store. */
async function start(options: Partial<RedisStoreOptions> = {}): Promise<Running> {
  const standIn = await startRedisStandIn();
  stops.push(() => standIn.close());
  const store = await createRedisStore({ url: standIn.url, keyPrefix: "faults:", ...options });
  stops.push(() => store.close());
  const logger = pino({ level: process.env.VECREC_TEST_LOG_LEVEL ?? "silent" });
  const server: RunningServer = await startServer({ store, listen: "127.0.0.1:0", logger });
  stops.push(() => server.close({ graceMs: 200 }));
  const address = `127.0.0.1:${server.port}`;
  const client = new VectorServiceClient(address, credentials.createInsecure());
  const healthClient = healthChecker(address);
  stops.push(() => {
    client.close();
    healthClient.close();
    return Promise.resolve();
  });
  const options_ = (deadlineMs?: number) => (deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs });
  const running: Running = {
    standIn,
    store,
    client,
    health: () => healthClient.check(""),
    upsert: (id, deadlineMs) =>
      unary<UpsertResponse>((cb) =>
        client.upsert(
          { indexName: "faults", items: [{ id, vector: { encoding: { $case: "float32Values", value: { values: [0.5, 0.25, 1] } } }, fields: {} }] },
          new Metadata(),
          options_(deadlineMs),
          cb,
        ),
      ),
    getIndex: (deadlineMs) =>
      unary<GetIndexResponse>((cb) => client.getIndex({ indexName: "faults" }, new Metadata(), options_(deadlineMs), cb)),
  };
  await unary((cb) =>
    client.index({ indexName: "faults", defaultVectorDimension: 3, fields: [] }, new Metadata(), { deadline: Date.now() + 2_000 }, cb),
  );
  expect(await running.health()).toBe("SERVING");
  return running;
}

/** Polls `probe` every 20 ms until true; returns the ms it took, fails after `limitMs`. */
async function within(limitMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (await probe()) return Date.now() - started;
    await sleep(20);
  }
  throw new Error(`condition not met within ${limitMs} ms`);
}

/** The item keys the stand-in holds for index "faults" (through a connection of its own). */
async function storedItemKeys(standIn: RedisStandIn): Promise<string[]> {
  const raw = await connectRawResp(standIn.port);
  try {
    const [reply] = await raw.send([[Buffer.from("KEYS"), Buffer.from("faults:faults:item:*")]]);
    return (Array.isArray(reply) ? reply : []).map((key) => JSON.stringify(key));
  } finally {
    await raw.close();
  }
}

describe("Redis faults (stand-in)", () => {
  it(
    "a frozen Redis: NOT_SERVING within 2 s, a call without deadline answered within the maximum, " +
      "a call's deadline bounds its commands, SERVING again once it answers",
    async () => {
      const r = await start({ commandTimeoutMs: 2_500 });
      await r.upsert("before");
      r.standIn.freeze();
      const frozenAt = Date.now();
      // Sent before the freeze is noticed: written into the open socket, never answered.
      const noDeadline = failure(r.getIndex()).then((error) => ({ error, ms: Date.now() - frozenAt }));
      const withSignal = r.store
        .upsert("faults", [{ id: "signal", vector: new Float32Array([1, 0, 0]), fields: {} }], { signal: deadlineSignal(300) })
        .then(
          () => ({ error: undefined as unknown, ms: Date.now() - frozenAt }),
          (error: unknown) => ({ error, ms: Date.now() - frozenAt }),
        );

      const noticedMs = await within(2_000, async () => (await r.health()) === "NOT_SERVING");
      expect(noticedMs).toBeLessThan(2_000);
      // Once noticed, calls fail at once and send nothing.
      const started = Date.now();
      const failed = await failure(r.upsert("while-frozen"));
      expect(failed.code).toBe(status.UNAVAILABLE);
      expect(failed.details).toMatch(/did not answer PING within 1000 ms/);
      expect(Date.now() - started).toBeLessThan(500);

      const signalled = await withSignal;
      expect(signalled.error).toBeInstanceOf(DeadlineExceededError);
      expect(signalled.ms).toBeLessThan(1_000);

      const { error, ms } = await noDeadline;
      expect(error.code).toBe(status.UNAVAILABLE);
      expect(error.details).toMatch(/did not answer within 2500 ms/);
      expect(ms).toBeGreaterThanOrEqual(2_400);
      expect(ms).toBeLessThan(3_500);

      r.standIn.thaw();
      await within(2_000, async () => (await r.health()) === "SERVING");
      expect(await r.upsert("after")).toEqual({ upsertedCount: 1 });
    },
    15_000,
  );

  it(
    "LOADING after a restart: NOT_SERVING until Redis answers, so no call fails while health says SERVING",
    async () => {
      const r = await start();
      r.standIn.restart({ loadingMs: 1_500 });
      const restartedAt = Date.now();
      let failedWhileServing = 0;
      let failedAtAll = 0;
      let sawNotServing = false;
      let n = 0;
      while (Date.now() - restartedAt < 3_000) {
        const before = await r.health();
        const outcome = await r.upsert(`loading-${n++}`, 2_000).then(
          () => undefined,
          (error: ServiceError) => error,
        );
        const after = await r.health();
        if (before === "NOT_SERVING" || after === "NOT_SERVING") sawNotServing = true;
        if (outcome !== undefined) {
          failedAtAll++;
          expect(outcome.code).toBe(status.UNAVAILABLE);
          if (before === "SERVING" && after === "SERVING") failedWhileServing++;
        }
        await sleep(10);
      }
      expect(failedWhileServing).toBe(0);
      expect(sawNotServing).toBe(true);
      expect(failedAtAll).toBeGreaterThan(0);
      expect(await r.health()).toBe("SERVING");
      expect(await r.upsert("loaded")).toEqual({ upsertedCount: 1 });
    },
    15_000,
  );

  it(
    "came back empty after a restart: no write acknowledged into the vanished index, and the error says why",
    async () => {
      const r = await start({ definitionCacheMs: 60_000 });
      await r.upsert("kept");
      r.standIn.restart({ empty: true });
      const restartedAt = Date.now();
      const acknowledged: string[] = [];
      const errors: ServiceError[] = [];
      let n = 0;
      while (Date.now() - restartedAt < 1_500) {
        const id = `after-${n++}`;
        await r.upsert(id, 2_000).then(
          () => acknowledged.push(id),
          (error: ServiceError) => errors.push(error),
        );
        await sleep(10);
      }
      expect(acknowledged).toEqual([]);
      expect(errors.every((e) => e.code === status.NOT_FOUND || e.code === status.UNAVAILABLE)).toBe(true);
      const notFound = errors.filter((e) => e.code === status.NOT_FOUND);
      expect(notFound.length).toBeGreaterThan(0);
      expect(notFound[notFound.length - 1]?.details).toMatch(
        /index "faults" does not exist: Redis has lost every vecrec index definition.*restarted without its data, failed over to an empty replica, or was flushed/,
      );
      expect(await storedItemKeys(r.standIn)).toEqual([]);
    },
    15_000,
  );

  it(
    "flushed under a cached spec (FLUSHALL, the connection never drops): no write acknowledged, none left behind",
    async () => {
      const r = await start({ definitionCacheMs: 60_000 });
      await r.upsert("kept");
      const raw = await connectRawResp(r.standIn.port);
      stops.push(() => raw.close());
      await raw.send([[Buffer.from("FLUSHALL")]]);
      const acknowledged: string[] = [];
      const errors: ServiceError[] = [];
      for (let n = 0; n < 5; n++) {
        const id = `flushed-${n}`;
        await r.upsert(id, 2_000).then(
          () => acknowledged.push(id),
          (error: ServiceError) => errors.push(error),
        );
      }
      expect(acknowledged).toEqual([]);
      expect(errors.map((e) => e.code)).toEqual(Array(5).fill(status.NOT_FOUND));
      expect(errors[0]?.details).toMatch(/Redis has lost every vecrec index definition/);
      expect(await storedItemKeys(r.standIn)).toEqual([]);
    },
    15_000,
  );
});

describe("Redis faults (stand-in cluster)", () => {
  it(
    "a frozen primary: unavailable within 2 s, a call needing it answered within the maximum, available again once it answers",
    async () => {
      const cluster = await startRedisStandInCluster();
      stops.push(() => cluster.close());
      const store = await createRedisStore({ url: cluster.url, keyPrefix: "faults:", commandTimeoutMs: 1_500 });
      stops.push(() => store.close());
      await store.createIndex({
        name: "faults",
        fields: [
          { name: "vec", type: "vector", dimension: 2, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" },
        ],
      });
      await within(2_000, () => Promise.resolve(store.isAvailable?.() === true));
      // An item whose key lives on node 1 (slots 5461-10922 in the default split).
      let id = 0;
      while (keySlot(`faults:faults:item:${id}`) < 5461 || keySlot(`faults:faults:item:${id}`) > 10922) id++;
      cluster.freezeNode(1);
      const frozenAt = Date.now();
      const read = store.getItems("faults", [String(id)], { includeVectors: false }).then(
        () => ({ error: undefined as unknown, ms: Date.now() - frozenAt }),
        (error: unknown) => ({ error, ms: Date.now() - frozenAt }),
      );
      expect(await within(2_000, () => Promise.resolve(store.isAvailable?.() === false))).toBeLessThan(2_000);
      const { error, ms } = await read;
      expect((error as Error).message).toMatch(/did not answer within 1500 ms/);
      expect(ms).toBeLessThan(2_500);
      cluster.thawNode(1);
      await within(3_000, () => Promise.resolve(store.isAvailable?.() === true));
      expect(await store.getItems("faults", [String(id)], { includeVectors: false })).toEqual([undefined]);
    },
    15_000,
  );
});

/** A signal aborted with DeadlineExceededError after `ms`, as a gRPC call's signal is. */
function deadlineSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new DeadlineExceededError()), ms).unref();
  return controller.signal;
}
