/**
 * The stand-in seen through the real node-redis 6 client (RESP3 by default, and RESP2), over a socket.
 */
import { WatchError, createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RedisStandIn, startRedisStandIn } from "./index.js";
import { NULL_ARRAY, encodeReply } from "./resp.js";

const f32 = (...xs: number[]): Buffer => Buffer.from(new Float32Array(xs).buffer);
/** node-redis types module replies loosely; the tests assert their shape. */
const shaped = <T>(reply: unknown): T => reply as T;

describe("Redis stand-in with node-redis", () => {
  let standIn: RedisStandIn;
  const clients: Array<{ close(): Promise<void> | void }> = [];

  beforeAll(async () => {
    standIn = await startRedisStandIn();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });
  afterAll(async () => {
    await standIn.close();
  });

  async function connect(resp: 2 | 3 = 3) {
    const client = createClient({ url: standIn.url, RESP: resp });
    client.on("error", () => undefined);
    await client.connect();
    clients.push({ close: () => client.close() });
    return client;
  }

  it("listens on 127.0.0.1 on a free port and logs the node-redis RESP3 handshake", async () => {
    expect(standIn.url).toBe(`redis://127.0.0.1:${standIn.port}`);
    expect(standIn.port).toBeGreaterThan(0);
    const before = standIn.commandLog.length;
    const client = await connect();
    expect(await client.ping()).toBe("PONG");
    const handshake = standIn.commandLog.slice(before).map((c) => c.slice(0, 2).join(" "));
    expect(handshake[0]).toBe("HELLO 3");
    expect(handshake).toContain("CLIENT SETINFO");
    expect(handshake[handshake.length - 1]).toBe("PING");
  });

  it("round-trips hashes (binary vectors included) and answers KNN FT.SEARCH in RESP3 maps", async () => {
    const client = await connect();
    await client.flushAll();
    const created = await client.sendCommand([
      "FT.CREATE", "users", "ON", "HASH", "PREFIX", "1", "user:", "SCHEMA",
      "labels", "TAG", "time", "NUMERIC", "vec", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "3", "DISTANCE_METRIC", "L2",
    ]);
    expect(created).toBe("OK");
    expect(await client.hSet("user:1", { labels: "books,comics", time: "10", vec: f32(0.9, 0.7, 0.2) })).toBe(3);
    expect(await client.hSet("user:2", { labels: "computers", time: "20", vec: f32(0.1, 0.2, 0.9) })).toBe(3);
    expect(await client.hGet("user:1", "labels")).toBe("books,comics");

    const reply = shaped<Record<string, unknown>>(await client.sendCommand([
      "FT.SEARCH", "users", "(@labels:{$t})=>[KNN 2 @vec $B AS score]",
      "PARAMS", "4", "t", "books", "B", f32(0.9, 0.7, 0.2),
      "SORTBY", "score", "LIMIT", "0", "2", "RETURN", "2", "score", "time", "DIALECT", "2",
    ]));
    expect(reply.total_results).toBe(1);
    expect(reply.results).toEqual([{ id: "user:1", extra_attributes: { score: "0", time: "10" }, values: [] }]);

    const all = shaped<{ results: Array<{ id: string }>; total_results: number }>(await client.sendCommand([
      "FT.SEARCH", "users", "*=>[KNN 5 @vec $B AS d]", "PARAMS", "2", "B", f32(0.1, 0.2, 0.9), "SORTBY", "d", "NOCONTENT", "DIALECT", "2",
    ]));
    expect(all.results.map((r) => r.id)).toEqual(["user:2", "user:1"]);
    expect(all.total_results).toBe(2);

    await expect(client.sendCommand(["FT.SEARCH", "nope", "*"])).rejects.toThrow("No such index nope");
    await expect(client.sendCommand(["FT.INFO", "nope"])).rejects.toThrow("nope: no such index");
  });

  it("serves node-redis's own search helpers (ft.search, ft.info, ft._list) over RESP3", async () => {
    const client = await connect();
    await client.flushAll();
    await client.sendCommand([
      "FT.CREATE", "h", "ON", "HASH", "PREFIX", "1", "h:", "SCHEMA", "t", "TAG", "n", "NUMERIC", "SORTABLE",
      "vec", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "2", "DISTANCE_METRIC", "L2",
    ]);
    await client.hSet("h:1", { t: "a", n: "1", vec: f32(1, 0) });
    await client.hSet("h:2", { t: "b", n: "2", vec: f32(0, 1) });
    const found = await client.ft.search("h", "*=>[KNN 2 @vec $B AS d]", {
      PARAMS: { B: f32(1, 0) },
      SORTBY: "d",
      RETURN: ["d", "t"],
      DIALECT: 2,
    });
    expect(found).toEqual({
      total: 2,
      documents: [
        { id: "h:1", value: { d: "0", t: "a" } },
        { id: "h:2", value: { d: "2", t: "b" } },
      ],
      warnings: [],
    });
    const info = await client.ft.info("h");
    expect(info.index_name).toBe("h");
    expect(info.num_docs).toBe(2);
    expect(await client.ft._list()).toEqual(["h"]);
  });

  it("counts wrong-size vectors as indexing failures and leaves the document out", async () => {
    const client = await connect();
    await client.flushAll();
    await client.sendCommand([
      "FT.CREATE", "i", "ON", "HASH", "PREFIX", "1", "i:", "SCHEMA", "cat", "TAG", "vec", "VECTOR", "HNSW", "6",
      "TYPE", "FLOAT32", "DIM", "3", "DISTANCE_METRIC", "COSINE",
    ]);
    await client.hSet("i:ok", { cat: "x", vec: f32(1, 0, 0) });
    await client.hSet("i:bad", { cat: "x", vec: f32(1, 0) });
    const info = shaped<Record<string, unknown>>(await client.sendCommand(["FT.INFO", "i"]));
    expect(info.num_docs).toBe(1);
    expect(info.hash_indexing_failures).toBe(1);
    const found = shaped<{ results: Array<{ id: string }> }>(
      await client.sendCommand(["FT.SEARCH", "i", "@cat:{x}", "NOCONTENT", "DIALECT", "2"]),
    );
    expect(found.results.map((r) => r.id)).toEqual(["i:ok"]);
  });

  it("runs MULTI/EXEC written as one pipeline and counts its round trip in commandLog", async () => {
    const client = await connect();
    await client.flushAll();
    const before = standIn.commandLog.length;
    const replies = await client
      .multi()
      .hSet("h:1", { a: "1" })
      .zAdd("z", [{ score: 2, value: "b" }, { score: 1, value: "a" }])
      .zRangeWithScores("z", 0, -1)
      .exists("h:1")
      .execAsPipeline();
    expect(replies).toEqual([1, 2, [{ value: "a", score: 1 }, { value: "b", score: 2 }], 1]);
    const sent = standIn.commandLog.slice(before).map((c) => c[0]);
    expect(sent).toEqual(["HSET", "ZADD", "ZRANGE", "EXISTS"]);

    const tx = await client.multi().set("s", "x").get("s").exec();
    expect(tx).toEqual(["OK", "x"]);
    expect(standIn.commandLog.slice(-4).map((c) => c[0])).toEqual(["MULTI", "SET", "GET", "EXEC"]);
  });

  it("serves sorted sets, SCAN, TYPE and deletes the way the interactions store uses them", async () => {
    const client = await connect();
    await client.flushAll();
    expect(await client.zAdd("z", [{ score: 10, value: "a" }, { score: 30, value: "c" }, { score: 20, value: "b" }])).toBe(3);
    expect(await client.zAdd("z", { score: 99, value: "a" }, { condition: "NX" })).toBe(0);
    expect(await client.zScore("z", "a")).toBe(10);
    const newest = await client.sendCommand(["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "0", "2", "WITHSCORES"]);
    expect(newest).toEqual([["c", 30], ["b", 20]]);
    expect(await client.zRange("z", 0, -1, { REV: true })).toEqual(["c", "b", "a"]);
    expect(await client.zRem("z", ["b", "nope"])).toBe(1);
    expect(await client.zCard("z")).toBe(2);
    expect(await client.type("z")).toBe("zset");
    await client.hSet("p:1", { a: "1" });
    await client.hSet("p:2", { a: "2" });
    await client.set("q:1", "x");
    const scanned = await client.scan("0", { MATCH: "p:*", COUNT: 100 });
    expect(scanned.cursor).toBe("0");
    expect([...scanned.keys].sort()).toEqual(["p:1", "p:2"]);
    expect(await client.unlink(["p:1", "p:2", "nope"])).toBe(2);
    expect(await client.exists(["p:1", "q:1"])).toBe(1);
    expect(await client.type("nope")).toBe("none");
  });

  it("refuses FT.CREATE on a database other than 0, as RediSearch does (CreateIndexCommand)", async () => {
    const client = createClient({ url: `${standIn.url}/1` });
    client.on("error", () => undefined);
    await client.connect();
    clients.push({ close: () => client.close() });
    await expect(
      client.sendCommand(["FT.CREATE", "db1", "ON", "HASH", "PREFIX", "1", "db1:", "SCHEMA", "t", "TAG"]),
    ).rejects.toThrow("Cannot create index on db != 0");
    await client.sendCommand(["SELECT", "0"]);
    expect(await client.sendCommand(["FT.CREATE", "db1", "ON", "HASH", "PREFIX", "1", "db1:", "SCHEMA", "t", "TAG"])).toBe("OK");
    await client.sendCommand(["FT.DROPINDEX", "db1"]);
  });

  it("indexes existing keys in the background in its background mode, reporting progress in FT.INFO", async () => {
    const bg = await startRedisStandIn({ scanKeysPerCommand: 1 });
    const client = createClient({ url: bg.url });
    client.on("error", () => undefined);
    await client.connect();
    try {
      for (const id of ["a", "b", "c", "d"]) await client.hSet(`bg:${id}`, { t: "x" });
      await client.sendCommand(["FT.CREATE", "bg", "ON", "HASH", "PREFIX", "1", "bg:", "SCHEMA", "t", "TAG"]);
      // One key is indexed before each later command: FT.SEARCH runs with 1 of 4 done.
      const first = shaped<Record<string, unknown>>(await client.sendCommand(["FT.SEARCH", "bg", "@t:{x}", "NOCONTENT", "DIALECT", "2"]));
      expect(first.total_results).toBe(1);
      const info = shaped<Record<string, unknown>>(await client.sendCommand(["FT.INFO", "bg"]));
      expect(info.indexing).toBe(1);
      expect(info.percent_indexed).toBe(0.5);
      await client.ping();
      await client.ping();
      const done = shaped<Record<string, unknown>>(await client.sendCommand(["FT.INFO", "bg"]));
      expect(done.indexing).toBe(0);
      expect(done.percent_indexed).toBe(1);
      expect(done.num_docs).toBe(4);
    } finally {
      client.destroy();
      await bg.close();
    }
  });

  it("speaks RESP2 to a client created with RESP: 2", async () => {
    const client = await connect(2);
    await client.flushAll();
    await client.hSet("k", { f: "v" });
    expect(await client.hGetAll("k")).toEqual({ f: "v" });
    const raw = await client.sendCommand(["FT._LIST"]);
    expect(raw).toEqual([]);
    expect(await client.zAdd("z", { score: 1.5, value: "m" })).toBe(1);
    expect(await client.zScore("z", "m")).toBe(1.5);
  });

  describe("WATCH", () => {
    for (const resp of [3, 2] as const) {
      it(`aborts EXEC (WatchError) when another connection changed a watched key, and runs it otherwise (RESP${resp})`, async () => {
        const a = await connect(resp);
        const b = await connect(resp);
        await a.set("w:k", "1");
        await a.watch("w:k");
        expect(await a.get("w:k")).toBe("1");
        await b.set("w:k", "2");
        await expect(a.multi().set("w:k", "from a").exec()).rejects.toBeInstanceOf(WatchError);
        expect(await a.get("w:k")).toBe("2");

        // Untouched: the block runs.
        await a.watch("w:k");
        expect(await a.multi().set("w:k", "3").get("w:k").exec()).toEqual(["OK", "3"]);
        // EXEC ended the watch: later changes do not abort a block that watches nothing.
        await b.set("w:k", "4");
        expect(await a.multi().get("w:k").exec()).toEqual(["4"]);
      });
    }

    it("counts deletion, field removal, creation of an absent key and FLUSHALL of an existing key as changes", async () => {
      const a = await connect();
      const b = await connect();
      const abortsAfter = async (key: string, change: () => Promise<unknown>): Promise<void> => {
        await a.watch(key);
        await change();
        await expect(a.multi().ping().exec(), key).rejects.toBeInstanceOf(WatchError);
      };
      await a.hSet("w:h", { f: "1", g: "2" });
      await abortsAfter("w:h", () => b.hDel("w:h", "f"));
      await abortsAfter("w:h", () => b.del("w:h"));
      await abortsAfter("w:absent", () => b.hSet("w:absent", { f: "1" }));
      await a.sAdd("w:s", "m");
      await abortsAfter("w:s", () => b.flushAll());
      // A change by the watching connection itself counts too.
      await abortsAfter("w:own", () => a.set("w:own", "x"));
    });

    it("leaves the block alone for no-op writes and for FLUSHALL of a key that was absent (as Redis does)", async () => {
      const a = await connect();
      const b = await connect();
      await a.sAdd("w:set", "m");
      await a.zAdd("w:z", { score: 1, value: "a" });
      await a.watch(["w:set", "w:z", "w:never"]);
      expect(await b.sAdd("w:set", "m")).toBe(0);
      expect(await b.zAdd("w:z", { score: 9, value: "a" }, { condition: "NX" })).toBe(0);
      expect(await b.del("w:never")).toBe(0);
      expect(await a.multi().ping().exec()).toEqual(["PONG"]);

      await a.watch(["w:set", "w:never"]);
      await b.flushAll(); // touches w:set (it existed) ...
      await expect(a.multi().ping().exec()).rejects.toBeInstanceOf(WatchError);
      await a.watch("w:never");
      await b.flushAll(); // ... but not w:never, which did not exist
      expect(await a.multi().ping().exec()).toEqual(["PONG"]);
    });

    it("forgets the watched keys on UNWATCH and DISCARD", async () => {
      const a = await connect();
      const b = await connect();
      await a.watch("w:u");
      await b.set("w:u", "1");
      await a.unwatch();
      expect(await a.multi().get("w:u").exec()).toEqual(["1"]);

      await a.watch("w:d");
      expect(await a.sendCommand(["MULTI"])).toBe("OK");
      expect(await a.sendCommand(["DISCARD"])).toBe("OK");
      await b.set("w:d", "2");
      expect(await a.multi().get("w:d").exec()).toEqual(["2"]);
    });

    it("answers an aborted EXEC with the null array: `*-1` in RESP2, `_` in RESP3", () => {
      expect(encodeReply(NULL_ARRAY, 2).toString()).toBe("*-1\r\n");
      expect(encodeReply(NULL_ARRAY, 3).toString()).toBe("_\r\n");
    });
  });
});
