/**
 * The cost of durable acknowledgements (README, "When Redis fails"): Upsert throughput with durability
 * local (WAITAOF 1 0 after each batch) against none, with 1 and 4 concurrent writers, through the Redis
 * store. Needs a Redis with the Query Engine and `appendonly yes`; uses its own key prefix and drops
 * its index afterwards (never FLUSHALL).
 *
 *   npx tsx bench/durability.ts [redis-url] [seconds per run]   (default redis://127.0.0.1:6379, 5)
 */
import { createRedisStore } from "../src/store/redis/redis-store.js";
import type { Durability } from "../src/domain/durability.js";

const url = process.argv[2] ?? "redis://127.0.0.1:6379";
const seconds = Number(process.argv[3] ?? "5");
const DIM = 128;
const BATCH = 100;
const spec = {
  name: "durbench",
  fields: [{ name: "vec", type: "vector" as const, dimension: DIM, algorithm: "FLAT" as const, metric: "COSINE" as const, elementType: "FLOAT32" as const }],
};

const store = await createRedisStore({ url, keyPrefix: "vecrec-durbench:" });
await store.createIndex(spec);
let next = 0;
const batch = () =>
  Array.from({ length: BATCH }, () => ({ id: `i${next++ % 50_000}`, vector: Float32Array.from({ length: DIM }, () => Math.random()), fields: {} }));

async function run(durability: Durability, writers: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let items = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < end) {
        await store.upsert("durbench", batch(), { durability });
        items += BATCH;
      }
    }),
  );
  return items / seconds;
}

try {
  for (const writers of [1, 4]) {
    // Alternated, twice each, so that drift of a busy machine hits both.
    const none: number[] = [];
    const local: number[] = [];
    for (let round = 0; round < 2; round++) {
      none.push(await run("none", writers));
      local.push(await run("local", writers));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `${writers} writer(s), batches of ${BATCH} items of ${DIM} dims: none ${mean(none).toFixed(0)} items/s, ` +
        `local ${mean(local).toFixed(0)} items/s, ratio ${(mean(local) / mean(none)).toFixed(2)}x`,
    );
  }
} finally {
  await store.dropIndex("durbench", { deleteItems: true });
  await store.close();
}
