/**
 * Picks the storage backend from the configuration: Redis when a URL is given, else the embedded
 * in-process engine, durable in a data directory (LMDB) or in memory only. The Redis adapter and LMDB
 * are imported lazily so that each mode loads only what it uses.
 */
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { Durability } from "../domain/durability.js";
import { createEmbeddedStore } from "./embedded/embedded-store.js";
import { redactUrl, splitRedisUrls } from "./redis/connection-url.js";
import type { StoreObserver } from "./store-observer.js";
import type { VectorStore } from "./vector-store.js";

/**
 * Creates the store. For Redis, waits for the first connection attempt only: when Redis is unreachable
 * the store is returned anyway (its calls fail with UnavailableError and isAvailable() is false until
 * it connects by itself).
 * @throws FailedPreconditionError when the Redis URL selects a database other than 0;
 *   UnavailableError when Redis refuses the connection handshake (e.g. a wrong password).
 */
export async function createStore(config: {
  redisUrl?: string | undefined;
  /** The durability of writes that do not ask for one (Redis only); default none. */
  redisDurability?: Durability;
  /** The embedded engine's data directory; undefined = in memory only. Not used with Redis. */
  dataDir?: string | undefined;
  /** Threads the embedded engine shares large scans with; undefined = its default. Not used with Redis. */
  scanThreads?: number | undefined;
  /** PEM files for `rediss://`: the CA to trust, a client certificate and its key (read here, once). */
  redisTls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string } | undefined;
  /** The Redis password given apart from the URL (--redis-password-file, VECREC_REDIS_PASSWORD). */
  redisPassword?: string | undefined;
  /** What every Redis key and index name starts with (--redis-key-prefix); default `vecrec:`. */
  redisKeyPrefix?: string | undefined;
  logger: Logger;
  /** Told of every Redis round trip (metrics, tracing); none by default. */
  observer?: StoreObserver;
}): Promise<VectorStore> {
  const { redisUrl, logger } = config;
  if (redisUrl === undefined) {
    if (config.dataDir === undefined) {
      logger.info({ backend: "embedded" }, "storage: embedded engine; data lives in memory only and is lost on exit (--in-memory)");
      return createEmbeddedStore({ scanThreads: config.scanThreads });
    }
    const started = performance.now();
    const { openLmdbPersistence } = await import("./embedded/lmdb-persistence.js");
    const persistence = await openLmdbPersistence(config.dataDir);
    let store: VectorStore;
    try {
      store = createEmbeddedStore({ persistence, scanThreads: config.scanThreads });
    } catch (error: unknown) {
      await persistence.close();
      throw error;
    }
    const indexes = await store.listIndexes();
    logger.info(
      {
        backend: "embedded",
        dataDir: persistence.location,
        indexes: indexes.length,
        items: indexes.reduce((sum, index) => sum + index.itemCount, 0),
        loadMs: Math.round(performance.now() - started),
      },
      `storage: embedded engine; data kept in ${persistence.location} (loaded)`,
    );
    return store;
  }
  const { createRedisStore } = await import("./redis/redis-store.js");
  const tls = config.redisTls;
  const read = (path: string | undefined): Buffer | undefined => (path === undefined ? undefined : readFileSync(path));
  const security = {
    password: config.redisPassword,
    tlsCa: read(tls?.caFile),
    tlsCert: read(tls?.certFile),
    tlsKey: read(tls?.keyFile),
  };
  const store = await createRedisStore({
    url: redisUrl,
    security,
    logger,
    durability: config.redisDurability,
    observer: config.observer,
    ...(config.redisKeyPrefix !== undefined && { keyPrefix: config.redisKeyPrefix }),
  });
  logger.info(
    { backend: "redis", urls: splitRedisUrls(redisUrl).map(redactUrl), keyPrefix: config.redisKeyPrefix ?? "vecrec:" },
    "storage: Redis Query Engine",
  );
  return store;
}
