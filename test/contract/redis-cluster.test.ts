/**
 * The Redis backend on a Redis OSS Cluster: the VectorStore contract on the 3-node cluster stand-in
 * (whose nodes refuse any command, MULTI/EXEC or WATCH spanning two hash slots with CROSSSLOT, and
 * redirect keys they do not own with MOVED/ASK, as the real cluster recorded in
 * test/conformance/recordings does) and, when VECREC_TEST_REDIS_CLUSTER_URL names a node of a real
 * cluster, on that cluster too. Then what only a cluster has: mode detection, a shard going down and
 * coming back, slots moving under load.
 */
import { createCluster } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/domain/errors.js";
import { MATCH_ALL } from "../../src/domain/filter/filter.js";
import type { Item } from "../../src/domain/item.js";
import type { IndexSpec } from "../../src/domain/schema.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import { startRedisStandInCluster, type RedisStandInCluster } from "../support/redis-standin/cluster.js";
import { openRedisStore, redisTestBackends } from "../support/redis-test-backends.js";
import { describeVectorStoreContract } from "./vector-store-contract.js";

for (const backend of redisTestBackends().filter((b) => b.cluster)) {
  describeVectorStoreContract(backend.name, () => openRedisStore(backend, "contract"));
}

const spec: IndexSpec = {
  name: "shop",
  fields: [
    { name: "labels", type: "tag", separator: ",", caseSensitive: false },
    { name: "vec", type: "vector", dimension: 2, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" },
  ],
};

function item(i: number): Item {
  return { id: `item-${i}`, vector: new Float32Array([i, 1]), fields: { labels: { type: "tag", values: [i % 2 === 0 ? "even" : "odd"] } } };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("redis cluster (stand-in): detection, shards down, slots moving", () => {
  let cluster: RedisStandInCluster;

  beforeAll(async () => {
    cluster = await startRedisStandInCluster();
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it("finds the cluster from one seed URL, says so in the log, and spreads items over every shard", async () => {
    const logged: string[] = [];
    const logger = {
      warn: (_details: object, message: string) => void logged.push(`warn: ${message}`),
      info: (_details: object, message: string) => void logged.push(`info: ${message}`),
    };
    const store = await createRedisStore({ url: cluster.urls[1] as string, keyPrefix: "detect:", logger });
    try {
      expect(logged).toContain("info: Redis mode: cluster with 3 primaries");
      expect((store as unknown as { mode: string }).mode).toBe("cluster");
      await store.createIndex(spec);
      await store.upsert("shop", Array.from({ length: 30 }, (_, i) => item(i)));
      const nodesWritten = new Set(cluster.commandLog.filter((c) => c.argv[0] === "HSET" && c.argv[1]?.startsWith("detect:")).map((c) => c.node));
      expect([...nodesWritten].sort()).toEqual([0, 1, 2]);
      expect((await store.getIndex("shop")).itemCount).toBe(30);
      const { hits, totalMatches } = await store.search("shop", {
        vector: new Float32Array([10, 1]),
        k: 3,
        offset: 0,
        filter: { op: "tag", field: "labels", values: ["even"] },
        includeVectors: false,
      });
      expect(hits.map((h) => h.id)).toEqual(["item-10", "item-12", "item-8"]);
      expect(totalMatches).toBe(3);
      await store.dropIndex("shop", { deleteItems: true });
    } finally {
      await store.close();
    }
  });

  it("finds the cluster through HELLO where an ACL refuses INFO (a user with -@dangerous), and works on it", async () => {
    const guarded = await startRedisStandInCluster({ deniedCommands: ["INFO"] });
    const store = await createRedisStore({ url: guarded.urls[0] as string, keyPrefix: "acl:" });
    try {
      expect(guarded.commandLog.some((c) => c.argv[0]?.toUpperCase() === "INFO")).toBe(true); // asked, refused
      expect((store as unknown as { mode: string }).mode).toBe("cluster");
      await store.createIndex(spec);
      await store.upsert("shop", Array.from({ length: 30 }, (_, i) => item(i)));
      expect((await store.getIndex("shop")).itemCount).toBe(30);
    } finally {
      await store.close();
      await guarded.close();
    }
  });

  it("accepts comma-separated seeds, the first of them down", async () => {
    const store = await createRedisStore({ url: `redis://127.0.0.1:1,${cluster.urls[2] as string}`, keyPrefix: "seeds:", connectTimeoutMs: 500 });
    try {
      await until(() => store.isAvailable?.() === true, "the cluster to be available");
      expect(await store.listIndexes()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("a shard that is down: its calls fail with UNAVAILABLE (no hang), availability says so, and it recovers by itself", async () => {
    const store = await createRedisStore({ url: cluster.url, keyPrefix: "down:", clusterProbeIntervalMs: 50 });
    try {
      await store.createIndex(spec);
      const items = Array.from({ length: 30 }, (_, i) => item(i));
      await store.upsert("shop", items);
      expect(store.isAvailable?.()).toBe(true);

      await cluster.stopNode(2);
      await until(() => store.isAvailable?.() === false, "availability to drop");
      // Every call that needs the stopped shard fails promptly with UnavailableError.
      await expect(store.getItems("shop", items.map((i) => i.id), { includeVectors: false })).rejects.toBeInstanceOf(UnavailableError);
      await expect(
        store.search("shop", { vector: new Float32Array([1, 1]), k: 5, offset: 0, filter: MATCH_ALL, includeVectors: false }),
      ).rejects.toBeInstanceOf(UnavailableError);
      await expect(store.upsert("shop", items)).rejects.toBeInstanceOf(UnavailableError);

      await cluster.startNode(2);
      await until(() => store.isAvailable?.() === true, "availability to come back");
      await until(async () => {
        try {
          return (await store.getItems("shop", items.map((i) => i.id), { includeVectors: false })).every((x) => x !== undefined);
        } catch {
          return false;
        }
      }, "the items to be readable again");
      expect((await store.getIndex("shop")).itemCount).toBe(30);
      await store.dropIndex("shop", { deleteItems: true });
    } finally {
      await store.close();
    }
  });

  it("slots moved between nodes mid-load (ASK, then MOVED): every acknowledged write is kept", async () => {
    const store = await createRedisStore({ url: cluster.url, keyPrefix: "reshard:" });
    try {
      await store.createIndex(spec);
      const acknowledged: string[] = [];
      let next = 0;
      let stop = false;
      const writer = async (): Promise<void> => {
        while (!stop) {
          const batch = Array.from({ length: 5 }, () => item(next++));
          try {
            await store.upsert("shop", batch);
            acknowledged.push(...batch.map((b) => b.id));
          } catch {
            // not acknowledged: nothing promised
          }
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      };
      const writers = [writer(), writer()];
      await until(() => acknowledged.length >= 50, "some writes before the move");
      await cluster.migrateSlots(0, 1, 0, 5460, { ask: true });
      const during = acknowledged.length;
      await until(() => acknowledged.length >= during + 50, "writes while the slots are half-way");
      await cluster.finishMigration();
      const after = acknowledged.length;
      await until(() => acknowledged.length >= after + 50, "writes after the move");
      stop = true;
      await Promise.all(writers);

      const found = await store.getItems("shop", acknowledged, { includeVectors: false });
      expect(found.filter((x) => x === undefined)).toHaveLength(0);
      const { totalMatches } = await store.search("shop", { k: 1, offset: 0, filter: MATCH_ALL, includeVectors: false });
      expect(totalMatches).toBeGreaterThanOrEqual(acknowledged.length);
      // The redirections really happened.
      expect(cluster.commandLog.some((c) => c.argv[0] === "ASKING")).toBe(true);
      await store.dropIndex("shop", { deleteItems: true });
    } finally {
      await store.close();
    }
  });
});

describe("redis cluster (stand-in): a write racing a DropIndex with delete_items", () => {
  it("checks its index once its writes answered, and deletes them when a drop marked the index meanwhile", async () => {
    const spec: IndexSpec = {
      name: "late",
      fields: [{ name: "vec", type: "vector", dimension: 2, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" }],
    };
    const ids = ["a", "b", "c", "d", "e", "f"];
    let armed = false;
    let checkedAfter: boolean | undefined;
    let log: RedisStandInCluster["commandLog"] = [];
    // The drop, played on the node of the definitions hash just before the write's check reaches it.
    const beforeCommand = (_node: number, argv: readonly string[]): string[][] | undefined => {
      if (!armed || argv[0]?.toUpperCase() !== "HMGET" || argv[1] !== "race:indexes") return undefined;
      armed = false;
      const writes = log.filter(({ argv: a }) => a[0]?.toUpperCase() === "HSET" && a[1]?.startsWith("race:late:item:"));
      checkedAfter = writes.length === ids.length;
      return [
        ["HSET", "race:indexes", "~dropped:late", String(Date.now())],
        ["HDEL", "race:indexes", "late"],
      ];
    };
    const cluster = await startRedisStandInCluster({ beforeCommand });
    log = cluster.commandLog;
    const store = await createRedisStore({ url: cluster.url, keyPrefix: "race:" });
    const raw = createCluster({ rootNodes: [{ url: cluster.url }] });
    await raw.connect();
    try {
      await store.createIndex(spec);
      armed = true;
      const items: Item[] = ids.map((id) => ({ id, vector: new Float32Array([1, 2]), fields: {} }));
      await expect(store.upsert("late", items)).rejects.toThrow(/dropped with its items/);
      expect(checkedAfter).toBe(true);
      for (const id of ids) expect(await raw.exists(`race:late:item:${id}`)).toBe(0);
    } finally {
      await raw.close();
      await store.close();
      await cluster.close();
    }
  });
});
