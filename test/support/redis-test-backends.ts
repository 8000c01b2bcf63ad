/**
 * The Redis servers the suites run on: the stand-in (standalone and a 3-node cluster) always, and the
 * real servers named by the environment:
 *   VECREC_TEST_REDIS_URL=redis://host:port          a standalone Redis with the Query Engine
 *   VECREC_TEST_REDIS_CLUSTER_URL=redis://host:port  one node of an OSS Cluster with the coordinator
 * A suite on a real cluster carries `(real cluster)` in its describe name, on a real standalone server
 * `(real)`, so a reader of the test output can tell that they ran. Each real-server run uses its own key
 * prefix and drops what it created; FLUSHALL is never sent there.
 */
import { createClient, createCluster } from "redis";
import { createRedisKeys } from "../../src/store/redis/redis-keys.js";
import { createRedisStore, type RedisStoreOptions } from "../../src/store/redis/redis-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { startRedisStandInCluster } from "./redis-standin/cluster.js";
import { startRedisStandIn } from "./redis-standin/index.js";

export interface RedisTestServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface RedisTestBackend {
  /** Goes into describe names: "redis (stand-in)", "redis cluster (stand-in)", "redis (real)", "redis (real cluster)". */
  readonly name: string;
  readonly cluster: boolean;
  /** A real server: HNSW there is approximate, and the server is shared (unique prefixes, no FLUSHALL). */
  readonly real: boolean;
  /** Starts (stand-in) or names (real) a server. */
  start(): Promise<RedisTestServer>;
}

const realStandaloneUrl = nonEmpty(process.env.VECREC_TEST_REDIS_URL);
const realClusterUrl = nonEmpty(process.env.VECREC_TEST_REDIS_CLUSTER_URL);

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

export const STANDIN: RedisTestBackend = {
  name: "redis (stand-in)",
  cluster: false,
  real: false,
  start: () => startRedisStandIn(),
};

export const STANDIN_CLUSTER: RedisTestBackend = {
  name: "redis cluster (stand-in)",
  cluster: true,
  real: false,
  start: () => startRedisStandInCluster(),
};

function real(name: string, url: string, cluster: boolean): RedisTestBackend {
  return { name, cluster, real: true, start: () => Promise.resolve({ url, close: () => Promise.resolve() }) };
}

/** Why the real servers are not used, printed once per file that asks. */
export function realServerNotes(): string[] {
  const notes: string[] = [];
  if (realStandaloneUrl === undefined) notes.push("VECREC_TEST_REDIS_URL is not set: no suite runs against a real standalone Redis");
  if (realClusterUrl === undefined) notes.push("VECREC_TEST_REDIS_CLUSTER_URL is not set: no suite runs against a real Redis Cluster");
  return notes;
}

/** Every Redis backend available in this run: the two stand-ins, then the real servers configured. */
export function redisTestBackends(): RedisTestBackend[] {
  const backends = [STANDIN, STANDIN_CLUSTER];
  if (realStandaloneUrl !== undefined) backends.push(real("redis (real)", realStandaloneUrl, false));
  if (realClusterUrl !== undefined) backends.push(real("redis (real cluster)", realClusterUrl, true));
  return backends;
}

let prefixCounter = 0;

/** A key prefix no other run on a shared server uses. */
export function uniquePrefix(label: string): string {
  prefixCounter += 1;
  return `vecrec-${label}-${process.pid}-${Date.now().toString(36)}-${prefixCounter}:`;
}

/**
 * A Redis store on `backend` under a key prefix of its own, and how to dispose of both: on a real
 * (shared) server the indexes it created are dropped with their items first.
 */
export async function openRedisStore(
  backend: RedisTestBackend,
  label: string,
  options: Partial<RedisStoreOptions> = {},
): Promise<{ store: VectorStore; cleanup: () => Promise<void> }> {
  const server = await backend.start();
  const keyPrefix = uniquePrefix(label);
  const store = await createRedisStore({ ...options, url: server.url, keyPrefix });
  return {
    store,
    async cleanup() {
      if (backend.real) {
        const infos = await store.listIndexes();
        for (const alias of infos.flatMap((info) => info.aliases ?? [])) await store.deleteAlias(alias);
        for (const info of infos) await store.dropIndex(info.spec.name, { deleteItems: true });
        // What the drops leave: their marks in the definitions hash (index-definitions.ts).
        await deleteKey(server.url, backend.cluster, createRedisKeys(keyPrefix).definitions);
      }
      await store.close();
      await server.close();
    },
  };
}

/** Deletes `key` on the server at `url` with a client of its own. */
export async function deleteKey(url: string, cluster: boolean, key: string): Promise<void> {
  const client = cluster ? createCluster({ rootNodes: [{ url }] }) : createClient({ url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.del(key);
  } finally {
    await client.close();
  }
}
