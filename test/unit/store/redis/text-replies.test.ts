/**
 * Route.text (connection.ts): a command sent with `text: true` gets its bulk strings as JS strings, the
 * same text the Buffers of the default mapping decode to, on a standalone server and on a cluster; the
 * next command without it gets Buffers again (the mapping is per command, not the client's).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis } from "../../../../src/store/redis/connect.js";
import { connectCluster } from "../../../../src/store/redis/cluster-connection.js";
import type { RedisConnection } from "../../../../src/store/redis/connection.js";
import { startRedisStandIn, type RedisStandIn } from "../../../support/redis-standin/index.js";
import { startRedisStandInCluster, type RedisStandInCluster } from "../../../support/redis-standin/cluster.js";

let standalone: RedisStandIn;
let cluster: RedisStandInCluster;
const connections: RedisConnection[] = [];

async function connect(urls: readonly string[]): Promise<RedisConnection> {
  const connection = await connectRedis({
    urls,
    connectTimeoutMs: 2000,
    cluster: (seeds) => connectCluster({ urls: seeds, connectTimeoutMs: 2000 }),
  });
  connections.push(connection);
  for (let i = 0; i < 100 && !connection.isAvailable(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return connection;
}

beforeAll(async () => {
  standalone = await startRedisStandIn();
  cluster = await startRedisStandInCluster();
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await standalone.close();
  await cluster.close();
});

describe("text replies", () => {
  for (const shape of ["standalone", "cluster"] as const) {
    it(`come as strings with text: true and as Buffers without (${shape})`, async () => {
      const connection = await connect(shape === "standalone" ? [standalone.url] : cluster.urls);
      expect(connection.mode).toBe(shape);
      const key = "text-replies:{k}";
      await connection.send(["HSET", key, "name", "café ☕", "n", "42"], { key });
      const asText = await connection.send(["HMGET", key, "name", "n"], { key, text: true });
      expect(asText).toEqual(["café ☕", "42"]);
      const asBytes = (await connection.send(["HMGET", key, "name", "n"], { key })) as Buffer[];
      expect(asBytes.every((value) => Buffer.isBuffer(value))).toBe(true);
      expect(asBytes.map((value) => value.toString("utf8"))).toEqual(asText);
    });
  }
});
