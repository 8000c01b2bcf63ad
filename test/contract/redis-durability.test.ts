/**
 * Durable acknowledgements on the Redis backend (src/store/redis/durability.ts), against the RESP
 * stand-in: the WAITAOF goes after the call's writes, on every primary that received them, before the
 * call resolves; AOF off is refused with a clear FAILED_PRECONDITION; a call's own durability wins over
 * the store's default.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../../src/domain/errors.js";
import type { IndexSpec } from "../../src/domain/schema.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { openLmdbPersistence } from "../../src/store/embedded/lmdb-persistence.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { startRedisStandIn, type RedisStandIn } from "../support/redis-standin/index.js";
import { startRedisStandInCluster, type RedisStandInCluster } from "../support/redis-standin/cluster.js";

const spec: IndexSpec = {
  name: "dur",
  fields: [
    { name: "labels", type: "tag", separator: ",", caseSensitive: false },
    { name: "vec", type: "vector", dimension: 2, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" },
  ],
};
const item = (id: string) => ({ id, vector: new Float32Array([1, 2]), fields: {} });

describe("durable writes (stand-in)", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function standalone(options: { appendOnly: boolean; durability?: "none" | "local" | "replicas" }): Promise<{
    standIn: RedisStandIn;
    store: VectorStore;
  }> {
    const standIn = await startRedisStandIn({ appendOnly: options.appendOnly });
    cleanups.push(() => standIn.close());
    const store = await createRedisStore({ url: standIn.url, keyPrefix: "dur:", durability: options.durability });
    cleanups.push(() => store.close());
    await store.createIndex(spec);
    return { standIn, store };
  }

  const names = (log: readonly (readonly string[])[]) => log.map((argv) => argv[0]?.toUpperCase());

  it("durability LOCAL: WAITAOF 1 0 is sent after the writes, on their connection, before the call resolves", async () => {
    const { standIn, store } = await standalone({ appendOnly: true });
    for (const [name, write] of [
      ["upsert", () => store.upsert("dur", [item("a"), item("b")], { durability: "local" })],
      [
        "record",
        () =>
          store.recordInteractions("dur", [{ userId: "u", itemId: "a", kind: "view", weight: 1, occurredAtMs: 1000 }], {
            durability: "local",
          }),
      ],
      ["delete", () => store.deleteItems("dur", ["b"], { durability: "local" })],
    ] as const) {
      const before = standIn.commandLog.length;
      let logAtResolve = -1;
      await write().then(() => {
        logAtResolve = standIn.commandLog.length;
      });
      const log = standIn.commandLog.slice(before);
      const waits = log.flatMap((argv, i) => (argv[0]?.toUpperCase() === "WAITAOF" ? [i] : []));
      expect(waits, name).toHaveLength(1);
      const at = waits[0] as number;
      expect(log[at]?.slice(1, 3), name).toEqual(["1", "0"]);
      const lastWrite = Math.max(...names(log).flatMap((n, i) => (["HSET", "DEL", "ZADD", "SADD", "EXEC"].includes(n ?? "") ? [i] : [])));
      expect(at, name).toBeGreaterThan(lastWrite);
      expect(before + at, name).toBeLessThan(logAtResolve);
    }
  });

  it("durability NONE (the default) sends no WAITAOF", async () => {
    const { standIn, store } = await standalone({ appendOnly: true });
    const before = standIn.commandLog.length;
    await store.upsert("dur", [item("a")]);
    await store.upsert("dur", [item("b")], { durability: "none" });
    expect(names(standIn.commandLog.slice(before))).not.toContain("WAITAOF");
  });

  it("the call's durability wins over the store's default, both ways", async () => {
    const { standIn, store } = await standalone({ appendOnly: true, durability: "local" });
    let before = standIn.commandLog.length;
    await store.upsert("dur", [item("a")]);
    expect(names(standIn.commandLog.slice(before))).toContain("WAITAOF");
    before = standIn.commandLog.length;
    await store.upsert("dur", [item("b")], { durability: "none" });
    expect(names(standIn.commandLog.slice(before))).not.toContain("WAITAOF");
  });

  it("durability REPLICAS asks for a replica's fsync (WAITAOF 1 1) and fails UNAVAILABLE when none confirms", async () => {
    const { standIn, store } = await standalone({ appendOnly: true });
    const before = standIn.commandLog.length;
    const error = await store.upsert("dur", [item("a")], { durability: "replicas" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "unavailable" });
    expect((error as Error).message).toMatch(/applied but not confirmed durable/);
    expect(standIn.commandLog.slice(before).find((argv) => argv[0] === "WAITAOF")?.slice(1, 3)).toEqual(["1", "1"]);
    // It was applied all the same.
    expect((await store.getItems("dur", ["a"], { includeVectors: false }))[0]?.id).toBe("a");
  });

  it("AOF off: durability LOCAL is refused with FAILED_PRECONDITION saying so; CONFIG SET appendonly yes makes it pass", async () => {
    const { standIn, store } = await standalone({ appendOnly: false });
    const error = await store.upsert("dur", [item("a")], { durability: "local" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedPreconditionError);
    expect((error as Error).message).toMatch(/AOF off \(appendonly no/);
    expect((error as Error).message).toMatch(/WAITAOF cannot be used when numlocal is set but appendonly is disabled/);
    const client = createClient({ url: standIn.url });
    await client.connect();
    expect(await client.sendCommand(["CONFIG", "SET", "appendonly", "yes"])).toBe("OK");
    await client.close();
    await store.upsert("dur", [item("a")], { durability: "local" });
  });

  it("on a cluster, one WAITAOF per primary that received writes of the call, after them", async () => {
    const cluster: RedisStandInCluster = await startRedisStandInCluster();
    cleanups.push(() => cluster.close());
    for (const node of cluster.nodes) {
      const client = createClient({ url: node.url });
      await client.connect();
      await client.sendCommand(["CONFIG", "SET", "appendonly", "yes"]);
      await client.close();
    }
    const store = await createRedisStore({ url: cluster.urls.join(","), keyPrefix: "dur:" });
    cleanups.push(() => store.close());
    await store.createIndex(spec);
    const before = cluster.commandLog.length;
    await store.upsert("dur", Array.from({ length: 30 }, (_, i) => item(`i${i}`)), { durability: "local" });
    const log = cluster.commandLog.slice(before);
    // Items lacking schema fields are written by RESTORE (or, where refused, a script: EVALSHA, or EVAL the first time on a node).
    const writes = new Set(["HSET", "EVALSHA", "EVAL", "RESTORE"]);
    const writtenOn = new Set(log.filter((c) => writes.has(c.argv[0]?.toUpperCase() ?? "")).map((c) => c.node));
    const waits = log.filter((c) => c.argv[0]?.toUpperCase() === "WAITAOF");
    expect(writtenOn.size).toBe(cluster.nodes.length);
    expect(waits.map((c) => c.node).sort()).toEqual([...writtenOn].sort());
    for (const wait of waits) {
      const lastWriteThere = log.findLastIndex((c) => c.node === wait.node && writes.has(c.argv[0]?.toUpperCase() ?? ""));
      expect(log.indexOf(wait)).toBeGreaterThan(lastWriteThere);
    }
    // One item: one primary.
    const single = cluster.commandLog.length;
    await store.upsert("dur", [item("x")], { durability: "local" });
    expect(cluster.commandLog.slice(single).filter((c) => c.argv[0]?.toUpperCase() === "WAITAOF")).toHaveLength(1);
  });

  it("the embedded engine refuses durability other than NONE (memory only), writing nothing", async () => {
    const store = createEmbeddedStore();
    await store.createIndex(spec);
    const error = await store.upsert("dur", [item("a")], { durability: "local" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedPreconditionError);
    expect((error as Error).message).toMatch(/memory only/);
    expect(await store.getItems("dur", ["a"], { includeVectors: false })).toEqual([undefined]);
    await store.upsert("dur", [item("a")], { durability: "none" });
    await expect(store.deleteItems("dur", ["a"], { durability: "replicas" })).rejects.toBeInstanceOf(FailedPreconditionError);
    await store.close();
  });

  it("the embedded engine on a data directory accepts LOCAL (every write is fsynced) and refuses REPLICAS, writing nothing", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vecrec-dur-"));
    try {
      const store = createEmbeddedStore({ persistence: await openLmdbPersistence(dir) });
      await store.createIndex(spec);
      await store.upsert("dur", [item("a")], { durability: "local" });
      const error = await store.upsert("dur", [item("b")], { durability: "replicas" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FailedPreconditionError);
      expect((error as Error).message).toMatch(/no replicas/);
      expect((await store.getItems("dur", ["a", "b"], { includeVectors: false })).map((i) => i?.id)).toEqual(["a", undefined]);
      await store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
