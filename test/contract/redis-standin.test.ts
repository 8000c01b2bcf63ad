/**
 * The VectorStore contract against the Redis backend talking to the RESP stand-in
 * (test/support/redis-standin), plus what only the Redis backend has: fail-fast UNAVAILABLE, round
 * trips counted in the stand-in's command log, and the exact commands it sends.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CancelledError, DeadlineExceededError, FailedPreconditionError, IndexNotFoundError, UnavailableError } from "../../src/domain/errors.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import type { FilterNode } from "../../src/domain/filter/filter.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import { startRedisStandIn, type RedisStandIn, type RedisStandInOptions } from "../support/redis-standin/index.js";
import { describeVectorStoreContract } from "./vector-store-contract.js";
import { closedPort } from "../support/closed-port.js";
import { tags } from "../support/field-values.js";

describeVectorStoreContract("redis (stand-in)", async () => {
  const standIn = await startRedisStandIn();
  const store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-contract:" });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await standIn.close();
    },
  };
});


const rawClient = (url: string) => createClient({ url });
type RawClient = ReturnType<typeof rawClient>;

/** A stand-in started with `options`, a store on it under `keyPrefix` and a raw client, all closed after `run`. */
async function onOwnStandIn(
  options: RedisStandInOptions,
  keyPrefix: string,
  run: (store: VectorStore, standIn: RedisStandIn, raw: RawClient) => Promise<void>,
): Promise<void> {
  const standIn = await startRedisStandIn(options);
  const store = await createRedisStore({ url: standIn.url, keyPrefix });
  const raw = rawClient(standIn.url);
  await raw.connect();
  try {
    await run(store, standIn, raw);
  } finally {
    await raw.close();
    await store.close();
    await standIn.close();
  }
}

describe("redis backend (stand-in)", () => {
  let standIn: RedisStandIn;
  let store: VectorStore;

  beforeAll(async () => {
    standIn = await startRedisStandIn();
    store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-rt:" });
  });

  afterAll(async () => {
    await store?.close();
    await standIn?.close();
  });

  const spec = {
    name: "rt",
    fields: [
      { name: "labels", type: "tag" as const, separator: ",", caseSensitive: false },
      { name: "vec", type: "vector" as const, dimension: 2, algorithm: "FLAT" as const, metric: "L2" as const, elementType: "FLOAT32" as const },
    ],
  };

  it("refuses a URL that selects a database other than 0 (the Query Engine indexes only database 0) before connecting", async () => {
    const before = standIn.commandLog.length;
    const error: unknown = await createRedisStore({ url: `${standIn.url}/2`, keyPrefix: "vecrec-db2:" }).then(
      (s) => s.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FailedPreconditionError);
    expect((error as Error).message).toMatch(/database 0/);
    expect(standIn.commandLog.length).toBe(before);
    // Database 0 written out is fine.
    const zero = await createRedisStore({ url: `${standIn.url}/0`, keyPrefix: "vecrec-db0:" });
    await zero.close();
  });

  it("starts while nothing listens on the port: unavailable, calls fail with UnavailableError, connects once Redis is up", async () => {
    const port = await closedPort();
    const logged: string[] = [];
    const logger = {
      warn: (_details: object, message: string) => void logged.push(`warn: ${message}`),
      info: (_details: object, message: string) => void logged.push(`info: ${message}`),
    };
    const own = await createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: "vecrec-late:", logger });
    let later: RedisStandIn | undefined;
    try {
      expect(own.isAvailable?.()).toBe(false);
      await expect(own.listIndexes()).rejects.toBeInstanceOf(UnavailableError);
      await expect(own.setInterestTags("late", [], "interests")).rejects.toBeInstanceOf(UnavailableError);
      expect(logged).toEqual(["warn: Redis is unreachable: calls fail with UNAVAILABLE until it is, connecting in the background"]);

      const changes: boolean[] = [];
      const connected = new Promise<void>((resolve) => {
        own.onAvailabilityChange?.((available) => {
          changes.push(available);
          if (available) resolve();
        });
      });
      later = await startRedisStandIn({ port });
      await connected; // the client retries by itself with a backoff capped at 2 s
      expect(own.isAvailable?.()).toBe(true);
      expect(await own.listIndexes()).toEqual([]);
      expect(changes).toEqual([true]);
      expect(logged).toEqual([
        "warn: Redis is unreachable: calls fail with UNAVAILABLE until it is, connecting in the background",
        "info: Redis connected",
        "info: Redis mode: standalone server",
      ]);

      const disconnected = new Promise<void>((resolve) => {
        own.onAvailabilityChange?.((available) => {
          if (!available) resolve();
        });
      });
      await later.close();
      later = undefined;
      await disconnected;
      expect(own.isAvailable?.()).toBe(false);
      await expect(own.listIndexes()).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      await own.close();
      await later?.close();
    }
    expect(own.isAvailable?.()).toBe(false);
  });

  it("fails at startup when Redis refuses the handshake (configuration, not availability)", async () => {
    // The stand-in knows only the user "default": HELLO 3 AUTH answers WRONGPASS.
    const error: unknown = await createRedisStore({ url: `redis://someone:secret@127.0.0.1:${standIn.port}` }).then(
      (s) => s.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toMatch(/WRONGPASS/);
  });

  it("started while Redis is down, says so once and keeps retrying when Redis then refuses its credentials", async () => {
    const port = await closedPort();
    const logged: string[] = [];
    const logger = {
      warn: (_details: object, message: string) => void logged.push(message),
      info: (_details: object, message: string) => void logged.push(message),
    };
    // The stand-in knows only the user "default": "someone" is refused once it is up.
    const store = await createRedisStore({ url: `redis://someone:secret@127.0.0.1:${port}`, keyPrefix: "vecrec-refused:", logger });
    const server = await startRedisStandIn({ port });
    try {
      const refusals = () => server.commandLog.filter((argv) => argv[0]?.toUpperCase() === "HELLO").length;
      const deadline = Date.now() + 10_000;
      while (refusals() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      // Retried (at least twice), logged once, and the store stays unavailable.
      expect(refusals()).toBeGreaterThanOrEqual(2);
      expect(logged.filter((message) => message.startsWith("Redis refuses vecrec's connection"))).toHaveLength(1);
      expect(store.isAvailable?.()).toBe(false);
      await expect(store.listIndexes()).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      await store.close();
      await server.close();
    }
  });

  it("fails fast while Redis is down and reconnects by itself when it is back", async () => {
    const server = await startRedisStandIn();
    const port = server.port;
    const logged: string[] = [];
    const logger = {
      warn: (_details: object, message: string) => void logged.push(`warn: ${message}`),
      info: (_details: object, message: string) => void logged.push(`info: ${message}`),
    };
    const own = await createRedisStore({ url: server.url, keyPrefix: "vecrec-reconnect:", logger });
    expect(own.isAvailable?.()).toBe(true);
    try {
      await own.createIndex({ ...spec, name: "rc" });
      await server.close();
      // No offline queue: were the calls queued until a reconnect, they would hang while Redis is down.
      await expect(own.getIndex("rc")).rejects.toBeInstanceOf(UnavailableError);
      await expect(own.upsert("rc", [{ id: "a", vector: new Float32Array([1, 0]), fields: {} }])).rejects.toBeInstanceOf(
        UnavailableError,
      );

      const again = await startRedisStandIn({ port });
      try {
        // The stand-in starts empty; the client comes back on its own (backoff <= 2 s per attempt).
        let info: unknown;
        for (let attempt = 0; attempt < 100 && info === undefined; attempt++) {
          info = await own.listIndexes().catch(async (error: unknown) => {
            expect(error).toBeInstanceOf(UnavailableError);
            await new Promise((resolve) => setTimeout(resolve, 50));
            return undefined;
          });
        }
        expect(info).toEqual([]);
        // One warning per outage however many reconnect attempts failed, and one line when it is over.
        expect(logged).toEqual([
          "info: Redis mode: standalone server",
          "warn: Redis connection error; reconnecting",
          "info: Redis connection restored",
        ]);
      } finally {
        await own.close();
        await again.close();
      }
    } finally {
      await own.close();
    }
  });

  it("matches tag values and excludes ids as a real server would: backslashes survive, ids with edge spaces are still excluded", async () => {
    // RediSearch unescapes a tag query value, parameters included (`\\-` looks up `-`), and looks it up
    // untrimmed while indexed tags are trimmed (the stand-in models both: vecrec-filter.ts).
    await store.createIndex({ ...spec, name: "edges" });
    await store.upsert("edges", [
      { id: "a", vector: new Float32Array([1, 0]), fields: { labels: tags("plain") } },
      { id: " a", vector: new Float32Array([1, 0.01]), fields: { labels: tags("x\\-y") } },
      { id: "c\\-d", vector: new Float32Array([1, 0.02]), fields: { labels: tags("c:\\dir\\") } },
      { id: "b", vector: new Float32Array([0, 1]), fields: { labels: tags("plain") } },
    ]);
    const knn = (excludeIds: string[], k = 2) =>
      store.search("edges", { vector: new Float32Array([1, 0]), k, offset: 0, filter: { op: "all" }, excludeIds, includeVectors: false });
    const ids = async (excludeIds: string[], k = 2) => (await knn(excludeIds, k)).hits.map((h) => h.id);
    expect(await ids([" a"])).toEqual(["a", "c\\-d"]);
    // Not asserted: excluding "a" hides " a" too on a real server (both index as the tag "a"); only
    // rejecting ids with edge whitespace at the door would make that exact.
    expect(await ids(["c\\-d"], 3)).toEqual(["a", " a", "b"]);
    expect(await ids([" a"], 10)).toEqual(["a", "c\\-d", "b"]);
    expect((await knn([" a"], 10)).totalMatches).toBe(3);
    const byTag = async (value: string) =>
      (
        await store.search("edges", {
          k: 10,
          offset: 0,
          filter: { op: "tag", field: "labels", values: [value] },
          includeVectors: false,
        })
      ).hits.map((h) => h.id);
    expect(await byTag("x\\-y")).toEqual([" a"]);
    expect(await byTag("c:\\dir\\")).toEqual(["c\\-d"]);
  });

  it("sets interests when the FT index already has the tag field (a setInterests that died between FT.ALTER and saving the definition)", async () => {
    const raw = createClient({ url: standIn.url });
    await raw.connect();
    try {
      await store.createIndex({ ...spec, name: "altered" });
      await raw.sendCommand(["FT.ALTER", "vecrec-rt:idx:altered", "SCHEMA", "ADD", "interests", "TAG", "SEPARATOR", ","]);
      const interests = { categoryNames: ["x", "y"], threshold: 0.4, tagField: "interests" };
      const info = await store.setInterests("altered", interests);
      expect(info.spec.interests).toEqual(interests);
      expect(info.spec.fields.map((f) => f.name)).toEqual(["labels", "vec", "interests"]);
    } finally {
      raw.destroy();
    }
  });

  it("repairs an index whose FT index or definition was removed by hand", async () => {
    const raw = createClient({ url: standIn.url });
    await raw.connect();
    try {
      const repaired = { ...spec, name: "repair" };
      await store.createIndex(repaired);
      await store.upsert("repair", [{ id: "a", vector: new Float32Array([1, 0]), fields: { labels: { type: "tag", values: ["x"] } } }]);

      // Definition left without its FT index: searches and createIndex rebuild it.
      await raw.sendCommand(["FT.DROPINDEX", "vecrec-rt:idx:repair"]);
      const knn = { vector: new Float32Array([1, 0]), k: 1, offset: 0, filter: { op: "all" as const }, includeVectors: false };
      expect((await store.search("repair", knn)).hits.map((h) => h.id)).toEqual(["a"]);
      await raw.sendCommand(["FT.DROPINDEX", "vecrec-rt:idx:repair"]);
      expect((await store.createIndex(repaired)).created).toBe(false);
      expect((await store.getIndex("repair")).itemCount).toBe(1);

      // FT index left without its definition (a create that died half-way): createIndex takes it over.
      await raw.sendCommand(["HDEL", "vecrec-rt:indexes", "repair"]);
      await expect(store.getIndex("repair")).rejects.toBeInstanceOf(IndexNotFoundError);
      expect((await store.createIndex(repaired)).created).toBe(true);
      expect((await store.search("repair", knn)).hits.map((h) => h.id)).toEqual(["a"]);
    } finally {
      raw.destroy();
    }
  });

  it("pages interactions with equal times across page edges without repeating or skipping one", async () => {
    await store.createIndex({ ...spec, name: "ties" });
    const at = (itemId: string, occurredAtMs: number) => ({ userId: "u", itemId, kind: "view" as const, weight: 1, occurredAtMs });
    await store.recordInteractions("ties", [at("z", 9), at("e", 5), at("c", 5), at("a", 5), at("d", 5), at("b", 5), at("y", 1)]);
    const expected = ["z", "a", "b", "c", "d", "e", "y"];
    for (const limit of [1, 2, 3, 4]) {
      const seen: string[] = [];
      for (let offset = 0; offset < expected.length; offset += limit) {
        const page = await store.getInteractions("ties", "u", { offset, limit });
        expect(page.totalCount).toBe(7);
        seen.push(...page.interactions.map((i) => i.itemId));
      }
      expect(seen, `limit ${limit}`).toEqual(expected);
    }
  });

  it("closes idempotently; calls after close fail with UnavailableError", async () => {
    const own = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-close:" });
    await own.close();
    await own.close();
    await expect(own.listIndexes()).rejects.toBeInstanceOf(UnavailableError);
  });

  it("reads the interactions of many users in one pipelined batch of ZRANGEs", async () => {
    await store.createIndex(spec);
    const users = ["u1", "u2", "u3", "u4", "u5"];
    await store.recordInteractions(
      "rt",
      users.map((userId, i) => ({ userId, itemId: `i${i}`, kind: "view" as const, weight: 1, occurredAtMs: 1000 + i })),
    );
    const before = standIn.commandLog.length;
    const result = await store.getInteractionsOfUsers("rt", users);
    const sent = standIn.commandLog.slice(before);
    // The definition is cached from recordInteractions: exactly one ZRANGE per user, no other command.
    expect(sent.map((c) => c[0]?.toUpperCase())).toEqual(users.map(() => "ZRANGE"));
    expect(result.get("u3")?.map((x) => x.itemId)).toEqual(["i2"]);
  });

  it("passes every filter value as a parameter, never inside the query text", async () => {
    await store.createIndex(spec).catch(() => undefined);
    const tricky = "a}|{-@x:(y) *";
    const before = standIn.commandLog.length;
    await store
      .search("rt", {
        vector: new Float32Array([1, 0]),
        k: 3,
        offset: 0,
        filter: { op: "tag", field: "labels", values: [tricky] },
        excludeIds: ["id with spaces"],
        includeVectors: false,
      })
      .catch(() => undefined); // only the command matters here
    const search = standIn.commandLog.slice(before).find((c) => c[0] === "FT.SEARCH");
    expect(search?.[2]).toBe("((@labels:{$p0} -@__vecrec_id:{$p1}))=>[KNN $knn_k @vec $knn_vec AS __vecrec_distance]");
    expect(search).toContain(tricky);
    expect(search).toContain("id with spaces");
    expect(search?.slice(-2)).toEqual(["DIALECT", "2"]);
  });
});

describe("redis backend (stand-in): background indexing of existing items, as Redis does it", () => {
  it("reports the progress of the scan after createIndex over items that are already stored", async () => {
    // One existing key is indexed before each later command, like Redis's background scan.
    const standIn = await startRedisStandIn({ scanKeysPerCommand: 1 });
    const store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-bg:" });
    try {
      const spec = {
        name: "bg",
        fields: [
          { name: "vec", type: "vector" as const, dimension: 2, algorithm: "FLAT" as const, metric: "L2" as const, elementType: "FLOAT32" as const },
        ],
      };
      await store.createIndex(spec);
      const items = Array.from({ length: 20 }, (_, i) => ({ id: `i${i}`, vector: new Float32Array([i, 1]), fields: {} }));
      await store.upsert("bg", items);
      await store.dropIndex("bg", { deleteItems: false });

      const created = await store.createIndex(spec);
      expect(created.created).toBe(true);
      expect(created.info.indexing).toBe(true);
      expect(created.info.indexingProgress).toBeGreaterThan(0);
      expect(created.info.indexingProgress).toBeLessThan(1);
      expect(created.info.itemCount).toBeLessThan(20);
      let info = await store.getIndex("bg");
      for (let i = 0; i < 40 && info.indexing; i++) {
        expect(info.indexingProgress).toBeLessThan(1);
        info = await store.getIndex("bg");
      }
      expect(info).toMatchObject({ indexing: false, indexingProgress: 1, itemCount: 20, indexingFailures: 0 });
    } finally {
      await store.close();
      await standIn.close();
    }
  });
});

describe("redis backend (stand-in): a new index skips Redis's keyspace scan unless items of it are stored", () => {
  const vectorSpec = (name: string) => ({
    name,
    fields: [{ name: "vec", type: "vector" as const, dimension: 2, algorithm: "FLAT" as const, metric: "L2" as const, elementType: "FLOAT32" as const }],
  });
  const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `i${i}`, vector: new Float32Array([i, 1]), fields: {} }));
  const creates = (log: readonly string[][], name: string) => log.filter((argv) => argv[0]?.toUpperCase() === "FT.CREATE" && argv[1]?.endsWith(`idx:${name}`));
  /** A store on a stand-in that indexes existing keys one per later command, as Redis's background scan. */
  const onStandIn = async (run: (store: VectorStore, standIn: RedisStandIn) => Promise<void>): Promise<void> => {
    const standIn = await startRedisStandIn({ scanKeysPerCommand: 1 });
    const store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-skip:" });
    try {
      await run(store, standIn);
    } finally {
      await store.close();
      await standIn.close();
    }
  };

  it("creates an index with SKIPINITIALSCAN when none of its items is stored: not indexing, however many other keys", async () => {
    await onStandIn(async (store, standIn) => {
      await store.createIndex(vectorSpec("other"));
      await store.upsert("other", items(30));
      const created = await store.createIndex(vectorSpec("fresh"));
      expect(created.info).toMatchObject({ indexing: false, indexingProgress: 1, itemCount: 0 });
      const sent = creates(standIn.commandLog, "fresh");
      expect(sent).toHaveLength(1);
      expect(sent[0]?.slice(0, 9)).toEqual(["FT.CREATE", "vecrec-skip:idx:fresh", "ON", "HASH", "PREFIX", "1", "vecrec-skip:fresh:item:", "SKIPINITIALSCAN", "SCHEMA"]);
      // Items written afterwards are indexed as they are written.
      await store.upsert("fresh", items(5));
      expect(await store.getIndex("fresh")).toMatchObject({ indexing: false, itemCount: 5 });
    });
  });

  it("creates it again without SKIPINITIALSCAN when items of it are stored, so that the scan indexes them", async () => {
    await onStandIn(async (store, standIn) => {
      await store.createIndex(vectorSpec("kept"));
      await store.upsert("kept", items(10));
      await store.dropIndex("kept", { deleteItems: false });
      const before = standIn.commandLog.length;
      await store.createIndex(vectorSpec("kept"));
      const log = standIn.commandLog.slice(before).filter((argv) => argv[0]?.toUpperCase().startsWith("FT.") && argv[0]?.toUpperCase() !== "FT.INFO");
      expect(log.map((argv) => [argv[0]?.toUpperCase(), argv.includes("SKIPINITIALSCAN"), argv.includes("DD")])).toEqual([
        ["FT.CREATE", true, false],
        ["FT.DROPINDEX", false, false],
        ["FT.CREATE", false, false],
      ]);
      let info = await store.getIndex("kept");
      for (let i = 0; i < 40 && info.indexing; i++) info = await store.getIndex("kept");
      expect(info).toMatchObject({ indexing: false, itemCount: 10 });
    });
  });

  it("adds the interests tag field with FT.ALTER SKIPINITIALSCAN: the stored items are not indexed again", async () => {
    await onStandIn(async (store, standIn) => {
      await store.createIndex(vectorSpec("tagged"));
      await store.upsert("tagged", items(10));
      const before = standIn.commandLog.length;
      const info = await store.setInterests("tagged", { categoryNames: ["a", "b"], threshold: 0.5, tagField: "interests" });
      const alters = standIn.commandLog.slice(before).filter((argv) => argv[0]?.toUpperCase() === "FT.ALTER");
      expect(alters.map((argv) => argv.slice(2, 6))).toEqual([["SKIPINITIALSCAN", "SCHEMA", "ADD", "interests"]]);
      expect(info).toMatchObject({ indexing: false, itemCount: 10 });
    });
  });

  it("a create whose look for stored items cannot finish fails and leaves neither definition nor FT index", async () => {
    const standIn = await startRedisStandIn();
    const store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-skip:" });
    const raw = createClient({ url: standIn.url });
    raw.on("error", () => undefined);
    await raw.connect();
    try {
      // Freeze the server as soon as the FT.CREATE arrives: the SCAN after it waits, the call ends.
      const controller = new AbortController();
      const log = standIn.commandLog;
      const push = log.push.bind(log);
      log.push = (...entries: string[][]): number => {
        const length = push(...entries);
        if (entries.some((argv) => argv[0]?.toUpperCase() === "FT.CREATE")) {
          standIn.freeze();
          setTimeout(() => {
            controller.abort();
            setTimeout(() => standIn.thaw(), 50);
          }, 20);
        }
        return length;
      };
      const failed = await store.createIndex(vectorSpec("cut"), { signal: controller.signal }).catch((error: unknown) => error);
      log.push = push;
      expect(failed).toBeInstanceOf(Error);
      await expect(store.getIndex("cut")).rejects.toBeInstanceOf(IndexNotFoundError);
      expect(await raw.sendCommand(["FT._LIST"])).toEqual([]);
      // Created again, it works.
      expect((await store.createIndex(vectorSpec("cut"))).created).toBe(true);
    } finally {
      await raw.close();
      await store.close();
      await standIn.close();
    }
  });

  it("takes over an FT index left without its definition even when another replica drops or recreates it meanwhile", async () => {
    // Another replica's repair, played by commands the stand-in runs just before the store's own.
    let race: "drop" | "create" | undefined;
    const spec = vectorSpec("orphan");
    const beforeCommand = (argv: readonly string[]): string[][] | undefined => {
      const cmd = argv[0]?.toUpperCase();
      if (race === "drop" && cmd === "FT.DROPINDEX" && argv[1] === "vecrec-race:idx:orphan") {
        race = undefined;
        return [["FT.DROPINDEX", "vecrec-race:idx:orphan"]];
      }
      if (race === "create" && cmd === "FT.CREATE" && argv[1] === "vecrec-race:idx:orphan" && !argv.includes("SKIPINITIALSCAN")) {
        race = undefined;
        return [["FT.CREATE", "vecrec-race:idx:orphan", "ON", "HASH", "PREFIX", "1", "vecrec-race:orphan:item:", "SCHEMA", "vec", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "2", "DISTANCE_METRIC", "L2"]];
      }
      return undefined;
    };
    await onOwnStandIn({ beforeCommand }, "vecrec-race:", async (store, _standIn, raw) => {
      await store.createIndex(spec);
      await store.upsert("orphan", items(3));
      const knn = { vector: new Float32Array([0, 1]), k: 3, offset: 0, filter: { op: "all" as const }, includeVectors: false };
      for (const which of ["drop", "create"] as const) {
        await raw.sendCommand(["HDEL", "vecrec-race:indexes", "orphan"]);
        race = which;
        expect((await store.createIndex(spec)).created, which).toBe(true);
        expect(race, which).toBeUndefined(); // the race was played
        expect((await store.search("orphan", knn)).hits.map((h) => h.id), which).toEqual(["i0", "i1", "i2"]);
      }
    });
  });
});

describe("redis backend (stand-in): DropIndex with delete_items", () => {
  it("drops the FT index without DD, sweeps every item, and drops again an FT index a search repaired meanwhile", async () => {
    const spec = {
      name: "gone",
      fields: [{ name: "vec", type: "vector" as const, dimension: 2, algorithm: "FLAT" as const, metric: "L2" as const, elementType: "FLOAT32" as const }],
    };
    let repair = false;
    // A search's repair (ensureFtIndex: FT.CREATE with the scan) played when the sweep starts.
    const beforeCommand = (argv: readonly string[]): string[][] | undefined => {
      if (!repair || argv[0]?.toUpperCase() !== "UNLINK" || !argv[1]?.startsWith("vecrec-dd:gone:item:")) return undefined;
      repair = false;
      return [["FT.CREATE", "vecrec-dd:idx:gone", "ON", "HASH", "PREFIX", "1", "vecrec-dd:gone:item:", "SCHEMA", "vec", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "2", "DISTANCE_METRIC", "L2"]];
    };
    await onOwnStandIn({ beforeCommand }, "vecrec-dd:", async (store, standIn, raw) => {
      await store.createIndex(spec);
      await store.upsert("gone", Array.from({ length: 20 }, (_, i) => ({ id: `i${i}`, vector: new Float32Array([i, 1]), fields: {} })));
      await raw.sendCommand(["HSET", "vecrec-dd:gone:item:bad", "vec", "not a vector"]); // an indexing failure: not in the FT index's documents
      const before = standIn.commandLog.length;
      repair = true;
      await store.dropIndex("gone", { deleteItems: true });
      expect(repair).toBe(false); // the repair was played
      const drops = standIn.commandLog.slice(before).filter((argv) => argv[0]?.toUpperCase() === "FT.DROPINDEX");
      expect(drops.map((argv) => argv.slice(1))).toEqual([["vecrec-dd:idx:gone"], ["vecrec-dd:idx:gone"]]);
      expect(await raw.sendCommand(["FT._LIST"])).toEqual([]);
      expect(await raw.keys("vecrec-dd:gone:*")).toEqual([]);
      await expect(store.getIndex("gone")).rejects.toBeInstanceOf(IndexNotFoundError);
    });
  });
});

describe("redis backend (stand-in): writes racing a DropIndex", () => {
  const spec = {
    name: "late",
    fields: [{ name: "vec", type: "vector" as const, dimension: 2, algorithm: "FLAT" as const, metric: "L2" as const, elementType: "FLOAT32" as const }],
  };
  const item = (id: string) => ({ id, vector: new Float32Array([1, 2]), fields: {} });
  /** Plays, just before the first command `meets` picks once armed, what another replica's DropIndex did meanwhile. */
  const playDropWhen = (meets: (argv: readonly string[]) => boolean, drop: () => string[][]) => {
    let armed = false;
    return {
      arm: () => (armed = true),
      played: () => !armed,
      beforeCommand: (argv: readonly string[]): string[][] | undefined => {
        if (!armed || !meets(argv)) return undefined;
        armed = false;
        return drop();
      },
    };
  };
  /** What a drop with delete_items leaves once past its sweeps: its mark, and no definition. */
  const markedAndGone = (): string[][] => [
    ["HSET", "vecrec-late:indexes", "~dropped:late", String(Date.now())],
    ["HDEL", "vecrec-late:indexes", "late"],
  ];
  // The item's key: RESTORE's or HSET's first argument, a script's first key (EVALSHA sha 1 key).
  const playDrop = (id: string, drop: () => string[][]) => playDropWhen((argv) => argv.slice(1, 4).includes(`vecrec-late:late:item:${id}`), drop);

  it("an Upsert whose items land behind the sweep of a drop with delete_items fails NOT_FOUND and deletes them", async () => {
    // The whole drop (mark, FT.DROPINDEX, sweep, definition deleted) between the Upsert's read of the
    // definition and its writes: before, the check ran ahead of the writes and acknowledged them.
    const race = playDrop("b", () => [
      ["HSET", "vecrec-late:indexes", "~dropped:late", String(Date.now())],
      ["FT.DROPINDEX", "vecrec-late:idx:late"],
      ["DEL", "vecrec-late:late:item:a"],
      ["HDEL", "vecrec-late:indexes", "late"],
    ]);
    await onOwnStandIn({ beforeCommand: race.beforeCommand }, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex(spec);
      await store.upsert("late", [item("a")]);
      race.arm();
      const failed = await store.upsert("late", [item("b"), item("c")]).catch((error: unknown) => error);
      expect(race.played()).toBe(true);
      expect(failed).toBeInstanceOf(IndexNotFoundError);
      expect((failed as Error).message).toMatch(/dropped with its items/);
      expect(await raw.keys("vecrec-late:late:*")).toEqual([]);
      // Created again, the index takes writes: the claim removed the drop's mark.
      await store.createIndex(spec);
      expect(await raw.hGet("vecrec-late:indexes", "~dropped:late")).toBeNull();
      await store.upsert("late", [item("d")]);
      expect(await raw.keys("vecrec-late:late:*")).toEqual(["vecrec-late:late:item:d"]);
      expect((await store.listIndexes()).map((i) => i.spec.name)).toEqual(["late"]);
    });
  });

  it("an UpdateItems that creates items behind such a sweep fails the same way and deletes them", async () => {
    const race = playDrop("n", markedAndGone);
    await onOwnStandIn({ beforeCommand: race.beforeCommand }, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex(spec);
      race.arm();
      const update = { id: "n", vector: new Float32Array([3, 4]), set: {}, remove: [] };
      await expect(store.updateItems("late", [update], { createMissing: true })).rejects.toBeInstanceOf(IndexNotFoundError);
      expect(race.played()).toBe(true);
      expect(await raw.keys("vecrec-late:late:*")).toEqual([]);
    });
  });

  it("a RecordInteractions whose history writes land behind such a sweep fails the same way and deletes the keys it wrote", async () => {
    const race = playDropWhen(
      (argv) => argv[0]?.toUpperCase() === "ZADD" && argv[1] === "vecrec-late:late:interactions:u1",
      () => [
        ["HSET", "vecrec-late:indexes", "~dropped:late", String(Date.now())],
        ["DEL", "vecrec-late:late:interactions:u0", "vecrec-late:late:item-users:a"],
        ["HDEL", "vecrec-late:indexes", "late"],
      ],
    );
    await onOwnStandIn({ beforeCommand: race.beforeCommand }, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex(spec);
      const seen = (userId: string, itemId: string) => ({ userId, itemId, kind: "view" as const, weight: 1, occurredAtMs: 1_000 });
      await store.recordInteractions("late", [seen("u0", "a")]);
      race.arm();
      await expect(store.recordInteractions("late", [seen("u1", "a"), seen("u1", "b")])).rejects.toBeInstanceOf(IndexNotFoundError);
      expect(race.played()).toBe(true);
      expect(await raw.keys("vecrec-late:late:*")).toEqual([]);
    });
  });

  it("a RecordInteractions that meets such a drop in its first round trip stops there: no history written, its item-users sets deleted", async () => {
    const race = playDropWhen((argv) => argv[0]?.toUpperCase() === "SADD" && argv[1] === "vecrec-late:late:item-users:a", markedAndGone);
    await onOwnStandIn({ beforeCommand: race.beforeCommand }, "vecrec-late:", async (store, standIn, raw) => {
      await store.createIndex(spec);
      const before = standIn.commandLog.length;
      race.arm();
      const seen = { userId: "u1", itemId: "a", kind: "view" as const, weight: 1, occurredAtMs: 1_000 };
      await expect(store.recordInteractions("late", [seen])).rejects.toThrow(/dropped with its items/);
      expect(race.played()).toBe(true);
      expect(standIn.commandLog.slice(before).some((argv) => argv[0]?.toUpperCase() === "ZADD")).toBe(false);
      expect(await raw.keys("vecrec-late:late:*")).toEqual([]);
    });
  });

  it("a write cancelled once its commands went out is checked again in the background, and what it left behind a drop is deleted", async () => {
    const call = new AbortController();
    const race = playDrop("b", () => {
      call.abort(new CancelledError()); // the client goes away while its write is in flight
      return [
        ["HSET", "vecrec-late:indexes", "~dropped:late", String(Date.now())],
        ["HDEL", "vecrec-late:indexes", "late"],
      ];
    });
    await onOwnStandIn({ beforeCommand: race.beforeCommand }, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex({ ...spec, name: "other" });
      await store.createIndex(spec);
      race.arm();
      await expect(store.upsert("late", [item("b")], { signal: call.signal })).rejects.toBeInstanceOf(CancelledError);
      expect(race.played()).toBe(true);
      const deadline = Date.now() + 5000;
      while ((await raw.keys("vecrec-late:late:*")).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await raw.keys("vecrec-late:late:*")).toEqual([]);
    });
  });

  it("the sweep deletes the index's items, histories and item-users sets only: other keys its SCAN pattern matches stay", async () => {
    await onOwnStandIn({}, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex(spec);
      await store.upsert("late", [item("a")]);
      await store.recordInteractions("late", [{ userId: "u", itemId: "a", kind: "view", weight: 1, occurredAtMs: 1 }]);
      await raw.set("vecrec-late:late:ifoo", "not vecrec's");
      await raw.set("vecrec-late:lately:item:a", "another index's");
      await store.dropIndex("late", { deleteItems: true });
      expect((await raw.keys("vecrec-late:late*")).sort()).toEqual(["vecrec-late:late:ifoo", "vecrec-late:lately:item:a"]);
    });
  });

  it("creating the index again clears the drop's mark where Redis refuses scripts too", async () => {
    await onOwnStandIn({ deniedCommands: ["EVAL", "EVALSHA"] }, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex(spec);
      await store.dropIndex("late", { deleteItems: true });
      expect(await raw.hGet("vecrec-late:indexes", "~dropped:late")).not.toBeNull();
      expect((await store.createIndex(spec)).created).toBe(true);
      expect(await raw.hGet("vecrec-late:indexes", "~dropped:late")).toBeNull();
    });
  });

  it("CreateIndex of a name whose drop with delete_items runs answers UNAVAILABLE; once that drop is over or died, it creates", async () => {
    for (const deniedCommands of [[], ["EVAL", "EVALSHA"]]) {
      await onOwnStandIn({ deniedCommands }, "vecrec-late:", async (store, _standIn, raw) => {
        const mark = (value: string) => raw.hSet("vecrec-late:indexes", "~dropped:late", value);
        const minutesAgo = (m: number) => String(Date.now() - m * 60_000);
        await mark(`dropping:${minutesAgo(0)}`);
        await expect(store.createIndex(spec), deniedCommands.join()).rejects.toBeInstanceOf(UnavailableError);
        expect(await raw.hGet("vecrec-late:indexes", "late")).toBeNull();
        // Its definition not deleted yet (the drop's first sweep): the same answer, not "exists".
        await mark(`dropped:${minutesAgo(0)}`);
        await store.createIndex(spec);
        await mark(`dropping:${minutesAgo(1)}`);
        await expect(store.createIndex(spec), deniedCommands.join()).rejects.toThrow(/is being dropped/);
        await raw.hDel("vecrec-late:indexes", "late");
        // A drop that died (its mark past the lease) holds nothing off.
        await mark(`dropping:${minutesAgo(20)}`);
        expect((await store.createIndex(spec)).created).toBe(true);
        expect(await raw.hGet("vecrec-late:indexes", "~dropped:late")).toBeNull();
      });
    }
  });

  it("a DropIndex with delete_items repeated after one that stopped once the definition was gone finishes it", async () => {
    await onOwnStandIn({}, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex(spec);
      await store.upsert("late", [item("a"), item("b")]);
      // What a drop that died after deleting the definition leaves: its mark, the items, the FT index.
      await raw.hSet("vecrec-late:indexes", "~dropped:late", `dropping:${Date.now()}`);
      await raw.hDel("vecrec-late:indexes", "late");
      await expect(store.dropIndex("late", { deleteItems: false })).rejects.toBeInstanceOf(IndexNotFoundError);
      await store.dropIndex("late", { deleteItems: true });
      expect(await raw.keys("vecrec-late:late:*")).toEqual([]);
      expect(await raw.sendCommand(["FT._LIST"])).toEqual([]);
      expect(await raw.hGet("vecrec-late:indexes", "~dropped:late")).toMatch(/^dropped:\d+$/);
      await expect(store.dropIndex("late", { deleteItems: true })).rejects.toBeInstanceOf(IndexNotFoundError);
      expect((await store.createIndex(spec)).created).toBe(true);
    });
  });

  it("an Upsert racing a drop without delete_items fails NOT_FOUND and leaves its items, as that drop leaves the others", async () => {
    const race = playDrop("b", () => [
      ["FT.DROPINDEX", "vecrec-late:idx:late"],
      ["HDEL", "vecrec-late:indexes", "late"],
    ]);
    await onOwnStandIn({ beforeCommand: race.beforeCommand }, "vecrec-late:", async (store, _standIn, raw) => {
      // Another index keeps the definitions hash (without any, the store would take Redis for emptied).
      await store.createIndex({ ...spec, name: "other" });
      await store.createIndex(spec);
      race.arm();
      const failed = await store.upsert("late", [item("b")]).catch((error: unknown) => error);
      expect(race.played()).toBe(true);
      expect(failed).toBeInstanceOf(IndexNotFoundError);
      expect((failed as Error).message).not.toMatch(/dropped with its items/);
      expect(await raw.keys("vecrec-late:late:*")).toEqual(["vecrec-late:late:item:b"]);
    });
  });

  it("DropIndex with delete_items marks the index first, sweeps again once its definition is gone, and prunes marks over an hour old", async () => {
    // A write that checked while the definition still existed (so it is acknowledged) but landed
    // behind the first sweep: played when the definition is deleted, between the two sweeps.
    let late = false;
    const beforeCommand = (argv: readonly string[]): string[][] | undefined => {
      if (!late || argv[0]?.toUpperCase() !== "HDEL" || argv[1] !== "vecrec-late:indexes" || argv[2] !== "late") return undefined;
      late = false;
      return [["HSET", "vecrec-late:late:item:z", "__vecrec_id", "z"]];
    };
    await onOwnStandIn({ beforeCommand }, "vecrec-late:", async (store, standIn, raw) => {
      await store.createIndex(spec);
      await store.upsert("late", [item("a")]);
      const before = standIn.commandLog.length;
      late = true;
      await store.dropIndex("late", { deleteItems: true });
      expect(late).toBe(false);
      const log = standIn.commandLog.slice(before).map((argv) => argv.slice(0, 3).join(" "));
      const marked = log.indexOf("HSET vecrec-late:indexes ~dropped:late");
      expect(marked).toBeGreaterThanOrEqual(0);
      expect(marked).toBeLessThan(log.findIndex((line) => line.startsWith("FT.DROPINDEX")));
      expect(await raw.keys("vecrec-late:late:*")).toEqual([]);
      expect(await raw.hGet("vecrec-late:indexes", "~dropped:late")).not.toBeNull();
      expect(await store.listIndexes()).toEqual([]);
      // A later drop prunes the marks over an hour old.
      await store.createIndex(spec);
      await raw.hSet("vecrec-late:indexes", "~dropped:old", String(Date.now() - 2 * 60 * 60 * 1000));
      await store.dropIndex("late", { deleteItems: true });
      expect((await raw.hKeys("vecrec-late:indexes")).sort()).toEqual(["~dropped:late", "~keep"]);
    });
  });

  it("a drop's pruning keeps a mark another drop wrote after the pruning read it (old marks pruned, also where Redis refuses scripts)", async () => {
    for (const deniedCommands of [[], ["EVAL", "EVALSHA"]]) {
      // Another index's drop marks "old" afresh between the pruning's read of the marks and its delete.
      let fresh: string | undefined;
      const beforeCommand = (argv: readonly string[]): string[][] | undefined => {
        const verb = argv[0]?.toUpperCase();
        if (fresh !== undefined || !(verb === "EVAL" || verb === "HDEL") || !argv.includes("~dropped:old")) return undefined;
        fresh = `dropping:${Date.now()}`;
        return [["HSET", "vecrec-late:indexes", "~dropped:old", fresh]];
      };
      await onOwnStandIn({ beforeCommand, deniedCommands }, "vecrec-late:", async (store, _standIn, raw) => {
        await store.createIndex(spec);
        const hoursAgo = (h: number) => String(Date.now() - h * 60 * 60 * 1000);
        await raw.hSet("vecrec-late:indexes", { "~dropped:old": `dropped:${hoursAgo(2)}`, "~dropped:older": `dropped:${hoursAgo(3)}` });
        await store.dropIndex("late", { deleteItems: true });
        expect(fresh, deniedCommands.join()).toBeDefined();
        expect(await raw.hGet("vecrec-late:indexes", "~dropped:older"), deniedCommands.join()).toBeNull();
        if (deniedCommands.length === 0) expect(await raw.hGet("vecrec-late:indexes", "~dropped:old")).toBe(fresh);
        // Without scripts the race stays open (a plain HDEL of what was read): the fresh mark is lost.
        else expect(await raw.hGet("vecrec-late:indexes", "~dropped:old")).toBeNull();
      });
    }
  });

  it("a DropIndex without delete_items leaves no FT index behind when a racing call recreates it (before or after the definition is deleted)", async () => {
    // A Search that found the definition but not the FT index (ensureFtIndex) recreates it: played
    // just before the drop deletes the definition.
    let createArgs: string[] | undefined;
    let play = false;
    const beforeCommand = (argv: readonly string[]): string[][] | undefined => {
      if (argv[0]?.toUpperCase() === "FT.CREATE") createArgs ??= [...argv];
      if (!play || argv[0]?.toUpperCase() !== "HDEL" || argv[2] !== "late") return undefined;
      play = false;
      return [createArgs as string[]];
    };
    await onOwnStandIn({ beforeCommand }, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex({ ...spec, name: "other" });
      await store.createIndex(spec);
      await store.upsert("late", [item("a")]);
      createArgs = undefined;
      await store.createIndex(spec); // idempotent: no FT.CREATE; the next one seen is late's own below
      await raw.sendCommand(["FT.DROPINDEX", "vecrec-late:idx:late"]);
      // A read repairs the missing FT index (FT.CREATE captured), then the drop races a repeat of it.
      await store.search("late", { vector: new Float32Array([1, 2]), k: 1, offset: 0, filter: { op: "all" }, includeVectors: false }).catch(() => undefined);
      expect(createArgs).toBeDefined();
      play = true;
      await store.dropIndex("late", { deleteItems: false });
      expect(play).toBe(false);
      expect(await raw.sendCommand(["FT._LIST"])).toEqual(["vecrec-late:idx:other"]);
      expect(await raw.keys("vecrec-late:late:*")).toEqual(["vecrec-late:late:item:a"]);
    });
  });

  it("an UpdateInterests racing a DropIndex does not bring the dropped index back: NOT_FOUND", async () => {
    // The drop (FT index, then definition) played between setInterests' read and its write.
    let play = false;
    const beforeCommand = (argv: readonly string[]): string[][] | undefined => {
      const verb = argv[0]?.toUpperCase();
      if (!play || !(verb === "EVAL" || verb === "FT.ALTER" || verb === "HSET") || !argv.includes("late")) return undefined;
      if (verb === "HSET" && argv[1] !== "vecrec-late:indexes") return undefined;
      play = false;
      return [
        ["FT.DROPINDEX", "vecrec-late:idx:late"],
        ["HDEL", "vecrec-late:indexes", "late"],
      ];
    };
    await onOwnStandIn({ beforeCommand }, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex({ ...spec, name: "other" });
      await store.createIndex(spec);
      play = true;
      const interests = { categoryNames: ["a", "b"], threshold: 0.5, tagField: "interests" };
      await expect(store.setInterests("late", interests, { recomputeTagField: "interests" })).rejects.toBeInstanceOf(IndexNotFoundError);
      expect(play).toBe(false);
      expect(await raw.hGet("vecrec-late:indexes", "late")).toBeNull();
      expect(await raw.hGet("vecrec-late:indexes", "~recompute:late")).toBeNull();
      expect(await raw.sendCommand(["FT._LIST"])).toEqual(["vecrec-late:idx:other"]);
      await expect(store.getIndex("late")).rejects.toBeInstanceOf(IndexNotFoundError);
    });
  });

  it("leaves no alias on an index dropped while an alias was moved or created onto it, from either side", async () => {
    // Played when the named command is about to be sent.
    let play: { when: (argv: readonly string[]) => boolean; commands: string[][] } | undefined;
    const beforeCommand = (argv: readonly string[]): string[][] | undefined => {
      if (play === undefined || !play.when(argv)) return undefined;
      const { commands } = play;
      play = undefined;
      return commands;
    };
    await onOwnStandIn({ beforeCommand }, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex({ ...spec, name: "other" });
      await store.createIndex(spec);
      await store.createAlias("al", "other");
      // The alias side: its check found "late", the drop ran before its write; it puts the alias back.
      play = {
        when: (argv) => argv[0]?.toUpperCase() === "HSET" && argv[1] === "vecrec-late:aliases" && argv[3] === "late",
        commands: [
          ["FT.DROPINDEX", "vecrec-late:idx:late"],
          ["HDEL", "vecrec-late:indexes", "late"],
        ],
      };
      await expect(store.updateAlias("al", "late")).rejects.toBeInstanceOf(IndexNotFoundError);
      expect(play).toBeUndefined();
      expect(await raw.hGetAll("vecrec-late:aliases")).toEqual({ al: "other" });
      // The drop side: an alias that checked and wrote while the drop ran goes with the index.
      await store.createIndex(spec);
      play = {
        when: (argv) => argv[0]?.toUpperCase() === "HDEL" && argv[1] === "vecrec-late:indexes" && argv[2] === "late",
        commands: [["HSET", "vecrec-late:aliases", "al2", "late"]],
      };
      await store.dropIndex("late", { deleteItems: false });
      expect(play).toBeUndefined();
      expect(await raw.hGetAll("vecrec-late:aliases")).toEqual({ al: "other" });
    });
  });

  it("dropping the last index does not make NOT_FOUND blame Redis for losing its data", async () => {
    await onOwnStandIn({}, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex(spec);
      await store.upsert("late", [item("a")]);
      await store.dropIndex("late", { deleteItems: false });
      expect(await raw.exists("vecrec-late:indexes")).toBe(1);
      for (const call of [store.getIndex("late"), store.getIndex("typo"), store.upsert("late", [item("b")])]) {
        const error = await call.then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(IndexNotFoundError);
        expect((error as Error).message).not.toMatch(/lost every/);
      }
      expect(await store.listIndexes()).toEqual([]);
    });
  });

  it("a DropIndex drops the mark of a recompute its index left, and creating an index clears a stale one", async () => {
    await onOwnStandIn({}, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex(spec);
      await store.setInterests("late", { categoryNames: ["a", "b"], threshold: 0.5, tagField: "interests" }, { recomputeTagField: "interests" });
      expect(await raw.hGet("vecrec-late:indexes", "~recompute:late")).toBe("interests");
      await store.dropIndex("late", { deleteItems: false });
      expect(await raw.hGet("vecrec-late:indexes", "~recompute:late")).toBeNull();
      // One a drop of an older vecrec left: the claim of the name clears it.
      await raw.hSet("vecrec-late:indexes", "~recompute:late", "interests");
      expect((await store.createIndex(spec)).created).toBe(true);
      expect(await raw.hGet("vecrec-late:indexes", "~recompute:late")).toBeNull();
      expect(await store.pendingInterestRecomputes()).toEqual(new Map());
    });
  });

  it("a DropIndex cut short after its mark leaves the index taking writes, its items kept", async () => {
    const drop = new AbortController();
    const beforeCommand = (argv: readonly string[]): string[][] | undefined => {
      if (argv[0]?.toUpperCase() === "FT.DROPINDEX") drop.abort(new CancelledError());
      return undefined;
    };
    await onOwnStandIn({ beforeCommand }, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex(spec);
      await store.upsert("late", [item("a")]);
      await expect(store.dropIndex("late", { deleteItems: true, signal: drop.signal })).rejects.toBeInstanceOf(CancelledError);
      expect(await raw.hGet("vecrec-late:indexes", "~dropped:late")).not.toBeNull();
      await store.upsert("late", [item("b")]);
      const update = { id: "a", vector: new Float32Array([5, 6]), set: {}, remove: [] };
      expect(await store.updateItems("late", [update], { createMissing: false })).toEqual(["updated"]);
      expect((await raw.keys("vecrec-late:late:*")).sort()).toEqual(["vecrec-late:late:item:a", "vecrec-late:late:item:b"]);
    });
  });

  it("checks again after commands it sent a second time (scripts unknown to Redis, sent again as EVAL)", async () => {
    // The drop played before the EVAL that resends the UpdateItems script the server did not know:
    // the check sent with the first pipeline found the definition, only a second one sees the drop.
    const race = playDropWhen((argv) => argv[0]?.toUpperCase() === "EVAL" && argv.includes("vecrec-late:late:item:n"), markedAndGone);
    await onOwnStandIn({ beforeCommand: race.beforeCommand }, "vecrec-late:", async (store, _standIn, raw) => {
      await store.createIndex({ ...spec, name: "other" });
      await store.createIndex(spec);
      await raw.sendCommand(["SCRIPT", "FLUSH"]);
      race.arm();
      const update = { id: "n", vector: new Float32Array([3, 4]), set: {}, remove: [] };
      await expect(store.updateItems("late", [update], { createMissing: true })).rejects.toThrow(/dropped with its items/);
      expect(race.played()).toBe(true);
      expect(await raw.keys("vecrec-late:late:*")).toEqual([]);
    });
  });
});

describe("redis backend (stand-in): rebuilding a lost FT index in the background", () => {
  it("fails searches with UnavailableError until the rebuilt index holds every item, instead of answering from part of them", async () => {
    const standIn = await startRedisStandIn({ scanKeysPerCommand: 1 });
    const store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-rebuild:" });
    const raw = createClient({ url: standIn.url });
    raw.on("error", () => undefined);
    await raw.connect();
    try {
      const spec = {
        name: "rb",
        fields: [
          { name: "vec", type: "vector" as const, dimension: 2, algorithm: "FLAT" as const, metric: "L2" as const, elementType: "FLOAT32" as const },
        ],
      };
      await store.createIndex(spec);
      await store.upsert("rb", Array.from({ length: 20 }, (_, i) => ({ id: `i${i}`, vector: new Float32Array([i, 1]), fields: {} })));
      // The FT index is lost (dropped by hand); the definition and the hashes stay.
      await raw.sendCommand(["FT.DROPINDEX", "vecrec-rebuild:idx:rb"]);
      const knn = { vector: new Float32Array([0, 1]), k: 20, offset: 0, filter: { op: "all" as const }, includeVectors: false };
      const error: unknown = await store.search("rb", knn).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as Error).message).toMatch(/being rebuilt/);
      let hits: readonly { id: string }[] | undefined;
      for (let attempt = 0; attempt < 40 && hits === undefined; attempt++) {
        hits = await store.search("rb", knn).then(
          (r) => r.hits,
          (e: unknown) => {
            expect(e).toBeInstanceOf(UnavailableError);
            return undefined;
          },
        );
      }
      expect(hits?.length).toBe(20);
    } finally {
      raw.destroy();
      await store.close();
      await standIn.close();
    }
  });
});

describe("redis backend (stand-in): credentials in the URL", () => {
  it("authenticates the connection with the user and the percent-decoded password of the URL", async () => {
    const standIn = await startRedisStandIn();
    const url = `redis://default:s%40cr%3At@127.0.0.1:${standIn.port}/0`;
    const store = await createRedisStore({ url, keyPrefix: "vecrec-auth:" });
    try {
      const spec = {
        name: "auth",
        fields: [
          { name: "interests", type: "tag" as const, separator: ",", caseSensitive: false },
          { name: "vec", type: "vector" as const, dimension: 2, algorithm: "FLAT" as const, metric: "L2" as const, elementType: "FLOAT32" as const },
        ],
      };
      await store.createIndex(spec);
      const vector = new Float32Array([1, 2]);
      await store.upsert("auth", [{ id: "a", vector, fields: {} }]);
      expect(await store.setInterestTags("auth", [{ id: "a", basedOnVector: vector, tags: ["x"] }], "interests")).toBe(1);
      // One connection, authenticated with the decoded credentials.
      const hellos = standIn.commandLog.filter((c) => c[0]?.toUpperCase() === "HELLO");
      expect(hellos).toEqual([["HELLO", "3", "AUTH", "default", "s@cr:t"]]);
      // Database 0 is the default: no SELECT is sent for `/0`.
      expect(standIn.commandLog.some((c) => c[0]?.toUpperCase() === "SELECT")).toBe(false);
    } finally {
      await store.close();
      await standIn.close();
    }
  });
});

describe("redis backend (stand-in): setInterestTags as one compare-and-set script per item key", () => {
  let standIn: RedisStandIn;
  let store: VectorStore;
  /** Commands the stand-in runs just before the next EVALSHA/EVAL it receives (as if another client sent them). */
  let beforeScript: (() => string[][]) | undefined;

  const casSpec = {
    name: "cas",
    fields: [
      { name: "time", type: "numeric" as const },
      { name: "interests", type: "tag" as const, separator: ",", caseSensitive: false },
      { name: "vec", type: "vector" as const, dimension: 2, algorithm: "FLAT" as const, metric: "L2" as const, elementType: "FLOAT32" as const },
    ],
  };
  const key = (id: string): string => `vecrec-cas:cas:item:${id}`;
  const vector = (...xs: number[]): Float32Array => new Float32Array(xs);

  beforeAll(async () => {
    standIn = await startRedisStandIn({
      beforeCommand: (argv) =>
        ["EVALSHA", "EVAL"].includes(argv[0]?.toUpperCase() ?? "") && beforeScript !== undefined ? beforeScript() : undefined,
    });
    store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-cas:" });
    await store.createIndex(casSpec);
  });

  afterAll(async () => {
    await store?.close();
    await standIn?.close();
  });

  const sentSince = (before: number): string[][] =>
    standIn.commandLog.slice(before).filter((c) => !["HELLO", "CLIENT"].includes(c[0]?.toUpperCase() ?? ""));

  it("sends one single-key script per item (EVALSHA, EVAL once the server lacks it) and writes only the tag field", async () => {
    await store.upsert("cas", [
      { id: "a", vector: vector(1, 0), fields: { time: { type: "numeric", value: 1 } } },
      { id: "b", vector: vector(0, 1), fields: { interests: { type: "tag", values: ["x"] } } },
    ]);
    const before = standIn.commandLog.length;
    const written = await store.setInterestTags(
      "cas",
      [
        { id: "a", basedOnVector: vector(1, 0), tags: ["books", "comics"] },
        { id: "b", basedOnVector: vector(0, 1), tags: [] },
      ],
      "interests",
    );
    expect(written).toBe(2);
    const sent = sentSince(before);
    // A fresh server does not know the script: NOSCRIPT, then EVAL with its text; each on one key.
    expect(sent.map((c) => [c[0], c[2], c[3]])).toEqual([
      ["EVALSHA", "1", key("a")],
      ["EVALSHA", "1", key("b")],
      ["EVAL", "1", key("a")],
      ["EVAL", "1", key("b")],
    ]);
    expect(sent[2]?.slice(4)).toEqual(["vec", expect.any(String), "interests", "set", "books,comics"]);
    expect(sent[3]?.slice(6)).toEqual(["interests", "del", ""]);
    const [a, b] = await store.getItems("cas", ["a", "b"], { includeVectors: false });
    expect(a?.fields).toEqual({ time: { type: "numeric", value: 1 }, interests: { type: "tag", values: ["books", "comics"] } });
    expect(b?.fields).toEqual({});
    // Now loaded: one EVALSHA per item, nothing else.
    const again = standIn.commandLog.length;
    expect(await store.setInterestTags("cas", [{ id: "a", basedOnVector: vector(1, 0), tags: ["books"] }], "interests")).toBe(1);
    expect(sentSince(again).map((c) => c[0])).toEqual(["EVALSHA"]);
  });

  it("leaves an item alone when another client rewrote its vector just before the script ran", async () => {
    await store.upsert("cas", [{ id: "r", vector: vector(2, 2), fields: {} }]);
    let injected = 0;
    beforeScript = () => (injected++ === 0 ? [["HSET", key("r"), "vec", Buffer.from(vector(5, 5).buffer).toString("latin1")]] : []);
    try {
      expect(await store.setInterestTags("cas", [{ id: "r", basedOnVector: vector(2, 2), tags: ["t"] }], "interests")).toBe(0);
    } finally {
      beforeScript = undefined;
    }
    const [r] = await store.getItems("cas", ["r"], { includeVectors: false });
    expect(r?.fields).toEqual({});
  });

  it("keeps a field another client wrote with the same vector, and adds the tag", async () => {
    await store.upsert("cas", [{ id: "s", vector: vector(2, 3), fields: {} }]);
    beforeScript = () => [["HSET", key("s"), "time", "42"]];
    try {
      expect(await store.setInterestTags("cas", [{ id: "s", basedOnVector: vector(2, 3), tags: ["t"] }], "interests")).toBe(1);
    } finally {
      beforeScript = undefined;
    }
    const [s] = await store.getItems("cas", ["s"], { includeVectors: false });
    expect(s?.fields).toEqual({ time: { type: "numeric", value: 42 }, interests: { type: "tag", values: ["t"] } });
  });

  it("never re-creates an item deleted just before the script ran", async () => {
    await store.upsert("cas", [{ id: "d", vector: vector(3, 3), fields: {} }]);
    let injected = 0;
    beforeScript = () => (injected++ === 0 ? [["DEL", key("d")]] : []);
    try {
      expect(await store.setInterestTags("cas", [{ id: "d", basedOnVector: vector(3, 3), tags: ["t"] }], "interests")).toBe(0);
    } finally {
      beforeScript = undefined;
    }
    const raw = createClient({ url: standIn.url });
    await raw.connect();
    try {
      expect(await raw.exists(key("d"))).toBe(0);
    } finally {
      raw.destroy();
    }
  });
});

describe("redis backend (stand-in): a write whose call ended sends nothing more", () => {
  const spec = {
    name: "cancel",
    fields: [
      { name: "vec", type: "vector" as const, dimension: 2, algorithm: "FLAT" as const, metric: "L2" as const, elementType: "FLOAT32" as const },
    ],
  };
  const item = (id: string) => ({ id, vector: new Float32Array([1, 2]), fields: {} });

  it("an Upsert whose signal aborted sends no command; a DeleteItems aborted after its first round trip sends no DEL", async () => {
    const controller = new AbortController();
    // Aborts the DeleteItems below while Redis answers its first round trip (the SMEMBERS).
    const standIn = await startRedisStandIn({
      beforeCommand: (argv) => {
        if (argv[0] === "SMEMBERS" && argv[1]?.startsWith("vecrec-cancel:cancel:item-users:")) {
          controller.abort(new DeadlineExceededError());
        }
        return undefined;
      },
    });
    const store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-cancel:" });
    try {
      await store.createIndex(spec);
      await store.upsert("cancel", [item("a"), item("b")]);
      await store.recordInteractions("cancel", [{ userId: "a", itemId: "b", kind: "purchase", weight: 1, occurredAtMs: 1 }]);

      const aborted = new AbortController();
      aborted.abort(new DeadlineExceededError());
      const before = standIn.commandLog.length;
      await expect(store.upsert("cancel", [item("c")], { signal: aborted.signal })).rejects.toBeInstanceOf(DeadlineExceededError);
      await expect(
        store.recordInteractions("cancel", [{ userId: "c", itemId: "a", kind: "view", weight: 1, occurredAtMs: 2 }], {
          signal: aborted.signal,
        }),
      ).rejects.toBeInstanceOf(DeadlineExceededError);
      expect(standIn.commandLog.slice(before)).toEqual([]);

      const beforeDelete = standIn.commandLog.length;
      await expect(store.deleteItems("cancel", ["a", "b"], { signal: controller.signal })).rejects.toBeInstanceOf(
        DeadlineExceededError,
      );
      const sent = standIn.commandLog.slice(beforeDelete).map((argv) => argv[0]);
      expect(sent).toContain("SMEMBERS");
      expect(sent).not.toContain("DEL");
      expect(sent).not.toContain("ZREM");
      expect(await store.getItems("cancel", ["a", "b"], { includeVectors: false })).toHaveLength(2);
      // Repeating it without a deadline finishes it.
      expect(await store.deleteItems("cancel", ["a", "b"])).toBe(2);
    } finally {
      await store.close();
      await standIn.close();
    }
  });

  it("no command waits longer than commandTimeoutMs on a Redis that stopped answering behind an open socket", async () => {
    const standIn = await startRedisStandIn();
    const store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-hung:", commandTimeoutMs: 300, probeIntervalMs: 60_000 });
    try {
      await store.createIndex(spec);
      standIn.freeze();
      const started = Date.now();
      const error: unknown = await store.getIndexSpec("cancel").then(
        () => store.getItems("cancel", ["a"], { includeVectors: false }),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as Error).message).toMatch(/did not answer within 300 ms/);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      standIn.thaw();
      await store.close();
      await standIn.close();
    }
  });
});

describe("redis backend (stand-in): whole-item replace of items that leave fields out", () => {
  const spec = {
    name: "rp",
    fields: [
      { name: "labels", type: "tag" as const, separator: ",", caseSensitive: false },
      { name: "descr", type: "text" as const, weight: 1 },
      { name: "vec", type: "vector" as const, dimension: 2, algorithm: "FLAT" as const, metric: "L2" as const, elementType: "FLOAT32" as const },
    ],
  };
  const full = (id: string) => ({ id, vector: new Float32Array([1, 2]), fields: { labels: tags("old"), descr: { type: "text" as const, value: "old words" } } });
  const bare = (id: string) => ({ id, vector: new Float32Array([3, 4]), fields: { labels: tags("new") } });
  const writesOf = (log: readonly string[][]): string[] =>
    log.map((argv) => argv[0]?.toUpperCase() ?? "").filter((cmd) => ["HSET", "RESTORE", "EVALSHA", "EVAL", "DEL", "HDEL"].includes(cmd));

  for (const denied of [false, true]) {
    it(denied
      ? "where Redis refuses RESTORE (NOPERM), writes those items with the replace script instead, and keeps to the script afterwards"
      : "writes an item that leaves fields out with one RESTORE REPLACE: the fields it lacks are gone, its own replaced, the index follows", async () => {
      const standIn = await startRedisStandIn(denied ? { deniedCommands: ["RESTORE"] } : {});
      const store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-rp:" });
      try {
        await store.createIndex(spec);
        await store.upsert("rp", [full("a"), full("b")]);
        let before = standIn.commandLog.length;
        await store.upsert("rp", [bare("a"), full("c")]);
        expect(writesOf(standIn.commandLog.slice(before))).toEqual(denied ? ["RESTORE", "HSET", "EVALSHA", "EVAL"] : ["RESTORE", "HSET"]);
        const [a, b] = await store.getItems("rp", ["a", "b"], { includeVectors: true });
        expect(a).toEqual({ id: "a", vector: new Float32Array([3, 4]), fields: { labels: tags("new") } });
        expect(b?.fields["descr"]).toEqual({ type: "text", value: "old words" });
        // The index holds the new version only: no match on the removed text, a match on the new tag.
        const knn = (filter: FilterNode) => store.search("rp", { vector: new Float32Array([3, 4]), k: 5, offset: 0, filter, includeVectors: false });
        expect((await knn({ op: "text", field: "descr", terms: ["old"] })).hits.map((h) => h.id).sort()).toEqual(["b", "c"]);
        expect((await knn({ op: "tag", field: "labels", values: ["new"] })).hits.map((h) => h.id)).toEqual(["a"]);
        // Later upserts: RESTORE again, or (refused once) the script straight away.
        before = standIn.commandLog.length;
        await store.upsert("rp", [bare("b")]);
        expect(writesOf(standIn.commandLog.slice(before))).toEqual([denied ? "EVALSHA" : "RESTORE"]);
        expect((await store.getItems("rp", ["b"], { includeVectors: false }))[0]?.fields).toEqual({ labels: tags("new") });
      } finally {
        await store.close();
        await standIn.close();
      }
    });
  }

  it("fails an item whose RESTORE and script both fail with the script's error, and tries RESTORE again next time", async () => {
    const standIn = await startRedisStandIn({ deniedCommands: ["RESTORE", "EVALSHA", "EVAL"] });
    const store = await createRedisStore({ url: standIn.url, keyPrefix: "vecrec-rp2:" });
    try {
      await store.createIndex(spec);
      await store.upsert("rp", [full("a")]); // HSET: allowed
      let before = standIn.commandLog.length;
      await expect(store.upsert("rp", [bare("a")])).rejects.toThrow(/no permissions to run the 'eval/);
      expect(writesOf(standIn.commandLog.slice(before))).toEqual(["RESTORE", "EVALSHA"]);
      expect((await store.getItems("rp", ["a"], { includeVectors: false }))[0]?.fields["descr"]).toEqual({ type: "text", value: "old words" });
      before = standIn.commandLog.length;
      await expect(store.upsert("rp", [bare("a")])).rejects.toThrow();
      expect(writesOf(standIn.commandLog.slice(before))[0]).toBe("RESTORE");
    } finally {
      await store.close();
      await standIn.close();
    }
  });
});
