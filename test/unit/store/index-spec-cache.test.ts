/**
 * VectorStore.getIndexSpec, the one index-spec cache: the embedded engine answers from memory; the Redis
 * store reuses a definition for definitionCacheMs, sees its own changes at once, another replica's
 * within that time, and forgets an index any call found missing. Two Redis stores with one key prefix
 * on one stand-in are two replicas.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IndexNotFoundError } from "../../../src/domain/errors.js";
import { MATCH_ALL } from "../../../src/domain/filter/filter.js";
import { defaultIndexSpec } from "../../../src/domain/index-spec.js";
import { createEmbeddedStore } from "../../../src/store/embedded/embedded-store.js";
import { createRedisStore } from "../../../src/store/redis/redis-store.js";
import type { VectorStore } from "../../../src/store/vector-store.js";
import { startRedisStandIn, type RedisStandIn } from "../../support/redis-standin/index.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("index spec of the embedded store", () => {
  it("answers from memory and follows every change at once", async () => {
    const store = createEmbeddedStore();
    await expect(store.getIndexSpec("a")).rejects.toBeInstanceOf(IndexNotFoundError);
    await store.createIndex(defaultIndexSpec("a", 2));
    expect(await store.getIndexSpec("a")).toEqual(defaultIndexSpec("a", 2));
    await store.dropIndex("a", { deleteItems: true });
    await expect(store.getIndexSpec("a")).rejects.toBeInstanceOf(IndexNotFoundError);
    await store.createIndex(defaultIndexSpec("a", 3));
    expect(await store.getIndexSpec("a")).toEqual(defaultIndexSpec("a", 3));
    await store.close();
  });
});

describe("index spec cache of the Redis store (stand-in, two replicas)", () => {
  const CACHE_MS = 300;
  let standIn: RedisStandIn;
  let mine: VectorStore;
  let other: VectorStore;

  beforeAll(async () => {
    standIn = await startRedisStandIn();
    mine = await createRedisStore({ url: standIn.url, keyPrefix: "spec-cache:", definitionCacheMs: CACHE_MS });
    other = await createRedisStore({ url: standIn.url, keyPrefix: "spec-cache:", definitionCacheMs: CACHE_MS });
  });
  afterAll(async () => {
    await mine?.close();
    await other?.close();
    await standIn?.close();
  });

  const definitionReads = (since: number) =>
    standIn.commandLog.slice(since).filter((argv) => (argv[0] ?? "").toUpperCase() === "HGET" && argv[1] === "spec-cache:indexes").length;
  const aliasReads = (since: number) =>
    standIn.commandLog.slice(since).filter((argv) => (argv[0] ?? "").toUpperCase() === "HGET" && argv[1] === "spec-cache:aliases").length;

  it("never caches an alias: each resolution reads it, so a move is seen by the other replica at once", async () => {
    await mine.createIndex(defaultIndexSpec("alias_a", 2));
    await mine.createIndex(defaultIndexSpec("alias_b", 3));
    await mine.createAlias("alias_live", "alias_a");
    expect(await other.getIndexSpec("alias_live")).toEqual(defaultIndexSpec("alias_a", 2));
    const start = standIn.commandLog.length;
    await mine.updateAlias("alias_live", "alias_b");
    expect(await other.getIndexSpec("alias_live")).toEqual(defaultIndexSpec("alias_b", 3));
    expect(await other.getIndexSpec("alias_live")).toEqual(defaultIndexSpec("alias_b", 3));
    // Each resolution of the alias read it; the index behind it came from the cache after the first time.
    expect(aliasReads(start)).toBeGreaterThanOrEqual(2);
    await mine.deleteAlias("alias_live");
    await expect(other.getIndexSpec("alias_live")).rejects.toBeInstanceOf(IndexNotFoundError);
  });

  it("reads a definition once per cache time, not per call", async () => {
    await mine.createIndex(defaultIndexSpec("once", 2));
    const start = standIn.commandLog.length;
    for (let i = 0; i < 5; i++) expect(await other.getIndexSpec("once")).toEqual(defaultIndexSpec("once", 2));
    expect(definitionReads(start)).toBe(1);
  });

  it("sees its own changes at once and another replica's within the cache time", async () => {
    await mine.createIndex(defaultIndexSpec("moving", 2));
    expect(await other.getIndexSpec("moving")).toEqual(defaultIndexSpec("moving", 2));
    await mine.dropIndex("moving", { deleteItems: true });
    await mine.createIndex(defaultIndexSpec("moving", 3));
    expect(await mine.getIndexSpec("moving")).toEqual(defaultIndexSpec("moving", 3));
    // The other replica may still answer from its copy, but not for longer than the cache time.
    await sleep(CACHE_MS + 50);
    expect(await other.getIndexSpec("moving")).toEqual(defaultIndexSpec("moving", 3));
  });

  it("does not remember an unknown index", async () => {
    await expect(other.getIndexSpec("later")).rejects.toBeInstanceOf(IndexNotFoundError);
    await mine.createIndex(defaultIndexSpec("later", 2));
    expect(await other.getIndexSpec("later")).toEqual(defaultIndexSpec("later", 2));
  });

  it("forgets an index a call found missing, before the cache time is over", async () => {
    await mine.createIndex(defaultIndexSpec("gone", 2));
    expect(await other.getIndexSpec("gone")).toEqual(defaultIndexSpec("gone", 2));
    await mine.dropIndex("gone", { deleteItems: true });
    await expect(
      other.search("gone", { vector: Float32Array.from([1, 0]), k: 1, offset: 0, filter: MATCH_ALL, includeVectors: false }),
    ).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(other.getIndexSpec("gone")).rejects.toBeInstanceOf(IndexNotFoundError);
  });
});
