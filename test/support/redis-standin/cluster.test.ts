/**
 * The stand-in cluster on its own: routing (CROSSSLOT, MOVED, ASK), a node stopped and started again,
 * slots moving between nodes, and node-redis's cluster client (createCluster) against it.
 */
import { createCluster } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RedisStandInCluster, startRedisStandInCluster } from "./cluster.js";
import { keySlot } from "./hash-slot.js";
import { type RawRespClient, connectRawResp } from "./raw-resp-client.js";

const f32 = (...xs: number[]): Buffer => Buffer.from(new Float32Array(xs).buffer);
const args = (...xs: Array<string | Buffer>): Buffer[] => xs.map((x) => (typeof x === "string" ? Buffer.from(x) : x));

// Keys and their owners with the default 3-node split (0-5460, 5461-10922, 10923-16383).
const ON_NODE_0 = "user:3"; // slot 2648
const ON_NODE_1 = "user:1"; // slot 10778
const ON_NODE_2 = "user:4"; // slot 15039

describe("stand-in Redis Cluster", () => {
  let cluster: RedisStandInCluster;
  const conns: RawRespClient[] = [];

  /** A raw connection to node `i`. */
  async function node(i: number): Promise<RawRespClient> {
    const conn = await connectRawResp(cluster.nodes[i]?.port ?? 0);
    conns.push(conn);
    return conn;
  }
  async function one(conn: RawRespClient, ...argv: Array<string | Buffer>): Promise<unknown> {
    const [reply] = await conn.send([args(...argv)]);
    return reply;
  }

  beforeAll(async () => {
    cluster = await startRedisStandInCluster();
  });
  afterEach(async () => {
    for (const c of conns.splice(0)) await c.close();
    for (let i = 0; i < 3; i++) {
      await cluster.startNode(i);
      const c = await node(i);
      await one(c, "FLUSHALL");
    }
    for (const c of conns.splice(0)) await c.close();
  });
  afterAll(async () => {
    await cluster.close();
  });

  it("splits the slots evenly over 3 nodes on 127.0.0.1 and says so in CLUSTER SLOTS and HELLO", async () => {
    expect(cluster.urls).toHaveLength(3);
    expect(cluster.url).toBe(cluster.urls[0]);
    expect([keySlot(ON_NODE_0), keySlot(ON_NODE_1), keySlot(ON_NODE_2)]).toEqual([2648, 10778, 15039]);
    const c = await node(1);
    const slots = (await one(c, "CLUSTER", "SLOTS")) as unknown[][];
    expect(slots.map((r) => [r[0], r[1], (r[2] as unknown[])[1]])).toEqual([
      [0, 5460, cluster.nodes[0]?.port],
      [5461, 10922, cluster.nodes[1]?.port],
      [10923, 16383, cluster.nodes[2]?.port],
    ]);
    const hello = (await one(c, "HELLO", "3")) as { map: Array<[string, unknown]> };
    expect(hello.map.find(([k]) => k === "mode")?.[1]).toBe("cluster");
  });

  it("redirects with MOVED, checks CROSSSLOT first, and serves hash-tagged keys together", async () => {
    const n0 = await node(0);
    expect(await one(n0, "SET", ON_NODE_2, "x")).toEqual({ error: `MOVED 15039 127.0.0.1:${cluster.nodes[2]?.port}` });
    expect(await one(n0, "MGET", ON_NODE_1, ON_NODE_2)).toEqual({ error: "CROSSSLOT Keys in request don't hash to the same slot" });
    expect(await one(n0, "MSET", "{t}a", "1", "{t}b", "2")).toEqual({ error: `MOVED ${keySlot("t")} 127.0.0.1:${cluster.nodes[2]?.port}` });
    const n2 = await node(2);
    expect(await one(n2, "MSET", "{t}a", "1", "{t}b", "2")).toEqual({ status: "OK" });
    expect(await one(n2, "MGET", "{t}a", "{t}b")).toEqual(["1", "2"]);
    expect(await one(n2, "EVAL", "return 1", "2", "{t}a", "x")).toEqual({ error: "CROSSSLOT Keys in request don't hash to the same slot" });
    // MULTI: a key of another node is refused when queued, and EXEC aborts.
    const replies = await n0.send([args("MULTI"), args("SET", ON_NODE_0, "1"), args("SET", ON_NODE_2, "2"), args("EXEC")]);
    expect(replies[3]).toEqual({ error: "EXECABORT Transaction discarded because of previous errors." });
  });

  it("a stopped node makes the others report cluster_state:fail and answer CLUSTERDOWN; it comes back with its data", async () => {
    const n1 = await node(1);
    expect(await one(n1, "SET", ON_NODE_1, "kept")).toEqual({ status: "OK" });
    const port = cluster.nodes[1]?.port;
    await cluster.stopNode(1);
    await expect(connectRawResp(port ?? 0)).rejects.toThrow();
    const n0 = await node(0);
    const info = (await one(n0, "CLUSTER", "INFO")) as string | { base64: string };
    const text = typeof info === "string" ? info : Buffer.from(info.base64, "base64").toString("utf8");
    expect(text).toContain("cluster_state:fail");
    expect(await one(n0, "GET", ON_NODE_0)).toEqual({ error: "CLUSTERDOWN The cluster is down" });
    expect(await one(n0, "FT.SEARCH", "idx", "*")).toEqual({ error: "CLUSTERDOWN The cluster is down" });
    expect(await one(n0, "PING")).toEqual({ status: "PONG" });

    await cluster.startNode(1);
    expect(cluster.nodes[1]?.port).toBe(port);
    const again = await node(1);
    expect(await one(again, "GET", ON_NODE_1)).toBe("kept");
    const back = (await one(n0, "CLUSTER", "INFO")) as string | { base64: string };
    expect(typeof back === "string" ? back : Buffer.from(back.base64, "base64").toString("utf8")).toContain("cluster_state:ok");
  });

  it("migrateSlots moves keys and their index documents; the source then answers MOVED", async () => {
    const n0 = await node(0);
    const n1 = await node(1);
    expect(await one(n0, "FT.CREATE", "u", "ON", "HASH", "PREFIX", "1", "user:", "SCHEMA", "vec", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "2", "DISTANCE_METRIC", "L2")).toEqual({ status: "OK" });
    expect(await one(n1, "HSET", ON_NODE_1, "vec", f32(1, 0))).toBe(1);
    const slot = keySlot(ON_NODE_1);
    await cluster.migrateSlots(1, 2, slot, slot);
    expect(await one(n1, "HGET", ON_NODE_1, "vec")).toEqual({ error: `MOVED ${slot} 127.0.0.1:${cluster.nodes[2]?.port}` });
    const n2 = await node(2);
    expect(await one(n2, "EXISTS", ON_NODE_1)).toBe(1);
    expect(await one(n1, "DBSIZE")).toBe(0);
    const info = (await one(n2, "_FT.INFO", "u")) as unknown[];
    expect(info[info.findIndex((x) => JSON.stringify(x) === '{"status":"num_docs"}') + 1]).toBe(1);
    expect(await one(n0, "FT.SEARCH", "u", "*", "NOCONTENT")).toEqual([1, ON_NODE_1]);
    await cluster.migrateSlots(2, 1, slot, slot);
    expect(await one(n1, "EXISTS", ON_NODE_1)).toBe(1);
  });

  it("migrateSlots with ask leaves the slot half-way: ASK from the source, ASKING needed on the target", async () => {
    const n1 = await node(1);
    const n2 = await node(2);
    expect(await one(n1, "SET", ON_NODE_1, "v")).toEqual({ status: "OK" });
    const slot = keySlot(ON_NODE_1);
    await cluster.migrateSlots(1, 2, slot, slot, { ask: true });
    const target = `127.0.0.1:${cluster.nodes[2]?.port}`;
    expect(await one(n1, "GET", ON_NODE_1)).toEqual({ error: `ASK ${slot} ${target}` });
    expect(await one(n2, "GET", ON_NODE_1)).toEqual({ error: `MOVED ${slot} 127.0.0.1:${cluster.nodes[1]?.port}` });
    const [asking, value] = await n2.send([args("ASKING"), args("GET", ON_NODE_1)]);
    expect([asking, value]).toEqual([{ status: "OK" }, "v"]);
    // ASKING lasts one command.
    expect(await one(n2, "GET", ON_NODE_1)).toEqual({ error: `MOVED ${slot} 127.0.0.1:${cluster.nodes[1]?.port}` });
    await cluster.finishMigration();
    expect(await one(n1, "GET", ON_NODE_1)).toEqual({ error: `MOVED ${slot} ${target}` });
    expect(await one(n2, "GET", ON_NODE_1)).toBe("v");
    await cluster.migrateSlots(2, 1, slot, slot);
  });

  it("refuses the coordinator inside MULTI (Cannot block) and SELECT of another database", async () => {
    const n0 = await node(0);
    await one(n0, "FT.CREATE", "m", "ON", "HASH", "PREFIX", "1", "m:", "SCHEMA", "t", "TAG");
    const replies = await n0.send([args("MULTI"), args("FT.SEARCH", "m", "*"), args("FT._LIST"), args("EXEC")]);
    expect(replies[3]).toEqual([{ error: "Cannot perform `FT.SEARCH`: Cannot block" }, [{ status: "m" }]]);
    expect(await one(n0, "SELECT", "1")).toEqual({ error: "ERR SELECT is not allowed in cluster mode" });
    expect(await one(n0, "SELECT", "0")).toEqual({ status: "OK" });
  });

  it("FT.INFO counts the shards still scanning and averages their progress (background indexing)", async () => {
    const scanning = await startRedisStandInCluster({ scanKeysPerCommand: 1 });
    const c: RawRespClient[] = [];
    try {
      for (const n of scanning.nodes) c.push(await connectRawResp(n.port));
      // Three keys on every node.
      const owner = (slot: number): number => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);
      const perNode = new Map<number, string[]>([[0, []], [1, []], [2, []]]);
      for (let i = 0; [...perNode.values()].some((keys) => keys.length < 3); i++) {
        const keys = perNode.get(owner(keySlot(`a:${i}`))) as string[];
        if (keys.length < 3) keys.push(`a:${i}`);
      }
      for (const [n, keys] of perNode) for (const key of keys) await one(c[n] as RawRespClient, "HSET", key, "t", "x");
      await one(c[0] as RawRespClient, "FT.CREATE", "a", "ON", "HASH", "PREFIX", "1", "a:", "SCHEMA", "t", "TAG");
      // Before FT.INFO runs, every shard has indexed one of its three keys.
      const info = (await one(c[1] as RawRespClient, "FT.INFO", "a")) as unknown[];
      const value = (key: string): unknown => info[info.findIndex((x) => JSON.stringify(x) === JSON.stringify({ status: key })) + 1];
      expect([value("indexing"), Number(value("percent_indexed")).toFixed(4), value("num_docs")]).toEqual([3, "0.3333", 3]);
    } finally {
      for (const conn of c) await conn.close();
      await scanning.close();
    }
  });

  it("serves node-redis's cluster client: keys on every node, a keyless FT.SEARCH, MOVED after a move, ASK during one", async () => {
    const client = createCluster({ rootNodes: [{ url: cluster.url }], RESP: 3 });
    client.on("error", () => undefined);
    await client.connect();
    try {
      await client.sendCommand(undefined, false, [
        "FT.CREATE", "users", "ON", "HASH", "PREFIX", "1", "user:", "SCHEMA", "n", "NUMERIC", "SORTABLE",
        "vec", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "2", "DISTANCE_METRIC", "L2",
      ]);
      const keys = [ON_NODE_0, ON_NODE_1, ON_NODE_2];
      const logStart = cluster.commandLog.length;
      for (const [i, key] of keys.entries()) await client.hSet(key, { n: String(i), vec: f32(i, 0) });
      for (const [i, key] of keys.entries()) expect((await client.hGetAll(key)).n).toBe(String(i));
      const perNode = cluster.commandLog.slice(logStart).filter((c) => c.argv[0]?.toUpperCase() === "HSET").map((c) => c.node);
      expect(perNode.sort()).toEqual([0, 1, 2]);

      const found = await client.sendCommand<{ total_results: number; results: Array<{ id: string }> }>(undefined, true, [
        "FT.SEARCH", "users", "*", "SORTBY", "n", "NOCONTENT",
      ]);
      expect(found.total_results).toBe(3);
      expect(found.results.map((r) => r.id)).toEqual(keys);

      const slot = keySlot(ON_NODE_1);
      await cluster.migrateSlots(1, 0, slot, slot);
      expect((await client.hGetAll(ON_NODE_1)).n).toBe("1");
      const moved = cluster.commandLog.filter((c) => c.argv[0]?.toUpperCase() === "HGETALL" && c.argv[1] === ON_NODE_1);
      expect(moved.map((c) => c.node).slice(-2)).toEqual([1, 0]);

      await cluster.migrateSlots(0, 2, slot, slot, { ask: true });
      expect((await client.hGetAll(ON_NODE_1)).n).toBe("1");
      const tail = cluster.commandLog.slice(-3).map((c) => `${c.node} ${c.argv.slice(0, 2).join(" ")}`);
      expect(tail).toEqual([`0 HGETALL ${ON_NODE_1}`, "2 ASKING", `2 HGETALL ${ON_NODE_1}`]);
      await cluster.finishMigration();
      await cluster.migrateSlots(2, 1, slot, slot);
    } finally {
      await client.close();
    }
  });
});
