/**
 * Upsert vs its floor: vecrec Upsert over gRPC (batches of 1000 items, one call at a time) against the
 * same hashes written straight to Redis with node-redis, each batch as 1000 pipelined HSETs (node-redis
 * pipelines the commands sent before their replies arrive). Both write into a fresh, empty index of the
 * same spec, so Redis indexes the same documents in both.
 */
import { performance } from "node:perf_hooks";
import type { IndexSpec } from "../src/domain/schema.js";
import type { VectorServiceClient } from "../src/gen/vecrec/v1/vecrec.js";
import { itemHashArgs } from "../src/store/redis/item-codec.js";
import type { RedisKeys } from "../src/store/redis/redis-keys.js";
import { toProtoItem, type FloorData } from "./floor-data.js";
import type { DirectRedis } from "./redis-direct.js";

export const UPSERT_BATCH = 1000;

/** Items per second of vecrec Upsert into `indexName` (only the calls are timed, not building the items). */
export async function vecrecUpsert(client: VectorServiceClient, indexName: string, data: FloorData): Promise<number> {
  let items = 0;
  let elapsed = 0;
  for (const batch of data.batches(UPSERT_BATCH)) {
    const request = { indexName, items: batch.map(toProtoItem) };
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => client.upsert(request, (error) => (error ? reject(error) : resolve())));
    elapsed += performance.now() - t0;
    items += batch.length;
  }
  return items / (elapsed / 1000);
}

/** Items per second of pipelined HSETs of the same hashes vecrec writes (item-codec.ts), batch by batch. */
export async function directHset(direct: DirectRedis, keys: RedisKeys, spec: IndexSpec, data: FloorData): Promise<number> {
  let items = 0;
  let elapsed = 0;
  for (const batch of data.batches(UPSERT_BATCH)) {
    const commands = batch.map((item) => {
      const key = keys.item(spec.name, item.id);
      return { key, command: ["HSET", key, ...itemHashArgs(spec, item)] };
    });
    const t0 = performance.now();
    await Promise.all(commands.map(({ key, command }) => direct.send(command, key)));
    elapsed += performance.now() - t0;
    items += batch.length;
  }
  return items / (elapsed / 1000);
}
