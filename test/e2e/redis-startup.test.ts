/**
 * Starting before Redis: the server listens with health NOT_SERVING, calls fail promptly with
 * UNAVAILABLE, and once Redis comes up the store connects by itself and health turns SERVING (and back
 * to NOT_SERVING during a later outage). Redis is the RESP stand-in on a port chosen in advance.
 */
import {
  credentials,
  Metadata,
  status,
} from "@grpc/grpc-js";
import { Writable } from "node:stream";
import { createClient } from "redis";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { VectorServiceClient, type ListIndexesResponse } from "../../src/gen/vecrec/v1/vecrec.js";
import { defaultIndexSpec } from "../../src/domain/index-spec.js";
import type { Interaction } from "../../src/domain/interaction.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { createStore } from "../../src/store/create-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { startRedisStandInCluster } from "../support/redis-standin/cluster.js";
import { keySlot } from "../support/redis-standin/hash-slot.js";
import { startRedisStandIn, type RedisStandIn } from "../support/redis-standin/index.js";
import { failure, unary } from "./harness.js";
import { eventually, healthChecker, type HealthChecker } from "./health-client.js";
import { closedPort } from "../support/closed-port.js";

describe("starting while Redis is down", () => {
  let store: VectorStore | undefined;
  let server: RunningServer | undefined;
  let client: VectorServiceClient | undefined;
  let health: HealthChecker | undefined;
  const standIns: RedisStandIn[] = [];

  afterAll(async () => {
    client?.close();
    health?.close();
    await server?.close({ graceMs: 1_000 });
    await store?.close();
    for (const standIn of standIns) await standIn.close();
  });

  it("listens NOT_SERVING with UNAVAILABLE calls, turns SERVING when Redis comes up, NOT_SERVING when it goes", async () => {
    const port = await closedPort();
    const lines: { msg: string; level: number }[] = [];
    const logger = pino(
      { level: "info" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as { msg: string; level: number });
          done();
        },
      }),
    );
    const redisLines = () => lines.map((line) => line.msg).filter((msg) => /Redis (is unreachable|connected)/.test(msg));

    // createStore returns after the first failed attempt instead of rejecting.
    store = await createStore({ redisUrl: `redis://127.0.0.1:${port}`, logger });
    expect(store.isAvailable?.()).toBe(false);
    server = await startServer({ store, listen: "127.0.0.1:0", logger });
    const address = `127.0.0.1:${server.port}`;
    client = new VectorServiceClient(address, credentials.createInsecure());
    health = healthChecker(address);
    const check = (service: string) => (health as HealthChecker).check(service);
    // A call that waited for Redis instead of failing would end DEADLINE_EXCEEDED, not UNAVAILABLE.
    const listIndexes = () =>
      unary<ListIndexesResponse>((cb) => client?.listIndexes({}, new Metadata(), { deadline: Date.now() + 2_000 }, cb));

    expect(await check("")).toBe("NOT_SERVING");
    expect(await check("vecrec.v1.VectorService")).toBe("NOT_SERVING");
    expect((await failure(listIndexes())).code).toBe(status.UNAVAILABLE);
    expect(redisLines()).toEqual(["Redis is unreachable: calls fail with UNAVAILABLE until it is, connecting in the background"]);

    // Redis comes up on that port: the store connects by itself (backoff capped at 2 s).
    standIns.push(await startRedisStandIn({ port }));
    await eventually(async () => (await check("")) === "SERVING");
    expect(await check("vecrec.v1.VectorService")).toBe("SERVING");
    expect(await listIndexes()).toMatchObject({ indexes: [] });
    expect(redisLines()).toEqual([
      "Redis is unreachable: calls fail with UNAVAILABLE until it is, connecting in the background",
      "Redis connected",
    ]);

    // A later outage: NOT_SERVING again, calls UNAVAILABLE.
    await standIns.pop()?.close();
    await eventually(async () => (await check("")) === "NOT_SERVING");
    expect(await check("vecrec.v1.VectorService")).toBe("NOT_SERVING");
    expect((await failure(listIndexes())).code).toBe(status.UNAVAILABLE);

    // And back.
    standIns.push(await startRedisStandIn({ port }));
    await eventually(async () => (await check("vecrec.v1.VectorService")) === "SERVING");
    expect(await listIndexes()).toMatchObject({ indexes: [] });

    // Shutdown is NOT_SERVING for good, Redis up or not.
    await server.close({ graceMs: 1_000 });
    expect(store.isAvailable?.()).toBe(true);
  });
});

describe("on a Redis Cluster (stand-in) whose shard goes down", () => {
  it("says SERVING, NOT_SERVING while a primary is down (calls UNAVAILABLE, none hanging), then SERVING again by itself", async () => {
    const cluster = await startRedisStandInCluster();
    const logger = pino({ level: "silent" });
    const clusterStore = await createStore({ redisUrl: cluster.url, logger });
    const running = await startServer({ store: clusterStore, listen: "127.0.0.1:0", logger });
    const address = `127.0.0.1:${running.port}`;
    const vectors = new VectorServiceClient(address, credentials.createInsecure());
    const healthClient = healthChecker(address);
    const check = (service: string) => healthClient.check(service);
    const listIndexes = () =>
      unary<ListIndexesResponse>((cb) => vectors.listIndexes({}, new Metadata(), { deadline: Date.now() + 2_000 }, cb));
    try {
      await eventually(async () => (await check("")) === "SERVING");
      expect(await listIndexes()).toMatchObject({ indexes: [] });

      // Stop the shard holding the definitions hash (the default slot split: 0-5460, 5461-10922, rest),
      // which ListIndexes needs.
      const slot = keySlot("vecrec:indexes");
      const definitionsNode = slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2;
      await cluster.stopNode(definitionsNode);
      await eventually(async () => (await check("")) === "NOT_SERVING");
      expect(await check("vecrec.v1.VectorService")).toBe("NOT_SERVING");
      expect((await failure(listIndexes())).code).toBe(status.UNAVAILABLE);

      await cluster.startNode(definitionsNode);
      await eventually(async () => (await check("vecrec.v1.VectorService")) === "SERVING");
      await eventually(async () => (await listIndexes().then(() => true, () => false)));
    } finally {
      vectors.close();
      healthClient.close();
      await running.close({ graceMs: 1_000 });
      await clusterStore.close();
      await cluster.close();
    }
  });
});

describe("--redis-key-prefix", () => {
  it("puts every key and index of the deployment under its prefix, so two deployments share one Redis apart", async () => {
    const standIn = await startRedisStandIn();
    const logger = pino({ level: "silent" });
    const storeA = await createStore({ redisUrl: standIn.url, redisKeyPrefix: "shop-a:", logger });
    const storeB = await createStore({ redisUrl: standIn.url, redisKeyPrefix: "shop-b:", logger });
    try {
      const spec = defaultIndexSpec("products", 2);
      await storeA.createIndex(spec);
      await storeA.upsert("products", [{ id: "p1", vector: Float32Array.from([1, 0]), fields: {} }]);
      expect((await storeA.listIndexes()).map((info) => info.spec.name)).toEqual(["products"]);
      expect(await storeB.listIndexes()).toEqual([]);
      // The same name in the other deployment is another index.
      await storeB.createIndex(spec);
      expect((await storeB.getItems("products", ["p1"], { includeVectors: false }))[0]).toBeUndefined();
      const direct = createClient({ url: standIn.url });
      await direct.connect();
      try {
        const keys: string[] = [];
        for await (const batch of direct.scanIterator({ COUNT: 100 })) keys.push(...batch);
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.every((key) => key.startsWith("shop-a:") || key.startsWith("shop-b:"))).toBe(true);
        expect(keys.some((key) => key.startsWith("shop-a:") && key.includes("p1"))).toBe(true);
        const indexes = await direct.sendCommand<string[]>(["FT._LIST"]);
        expect(indexes.length).toBe(2);
        expect(indexes.every((name) => name.startsWith("shop-a:") || name.startsWith("shop-b:"))).toBe(true);
      } finally {
        await direct.quit();
      }
    } finally {
      await storeA.close();
      await storeB.close();
      await standIn.close();
    }
  });
});

describe("writes to an index that does not exist", () => {
  it("leave nothing in Redis (RecordInteractions' bookkeeping included)", async () => {
    const standIn = await startRedisStandIn();
    const store = await createStore({ redisUrl: standIn.url, logger: pino({ level: "silent" }) });
    const direct = createClient({ url: standIn.url });
    await direct.connect();
    try {
      const interaction: Interaction = { userId: "u", itemId: "a", kind: "view", weight: 1, occurredAtMs: 1 };
      await expect(store.recordInteractions("nowhere", [interaction])).rejects.toThrow(/does not exist/);
      await expect(store.upsert("nowhere", [{ id: "a", vector: Float32Array.from([1, 0]), fields: {} }])).rejects.toThrow(/does not exist/);
      expect(await direct.dbSize()).toBe(0);
    } finally {
      await direct.quit();
      await store.close();
      await standIn.close();
    }
  });
});
