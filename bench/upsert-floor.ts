/**
 * Upsert vs its floor: vecrec Upsert over gRPC (batches of 1000 items, one call at a time) against the
 * same hashes written straight to Redis with node-redis, each batch as 1000 pipelined HSETs (node-redis
 * pipelines the commands sent before their replies arrive). Both write into a fresh, empty index of the
 * same spec, so Redis indexes the same documents in both.
 */
import { performance } from "node:perf_hooks";
import type { IndexSpec } from "../src/domain/schema.js";
import type { VectorServiceClient } from "../src/gen/vecrec/v1/vecrec.js";
import { metadataFields } from "../src/domain/schema.js";
import type { RedisArg } from "../src/store/redis/connection.js";
import { itemHashArgs } from "../src/store/redis/item-codec.js";
import { REPLACE_ITEM_SCRIPT, REPLACE_ITEM_SHA1 } from "../src/store/redis/scripts/replace-item.js";
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

/**
 * Items per second of the very commands vecrec sends for these items, pipelined straight to Redis batch
 * by batch (items.ts): an HSET for an item that sets every schema field, the replace script
 * (scripts/replace-item.ts: HDEL of the fields it lacks + HSET, atomic) for one that leaves some out.
 * The floor of an Upsert that keeps its meaning (a whole-item replace), where plain HSET only adds fields.
 */
export async function directReplace(direct: DirectRedis, keys: RedisKeys, spec: IndexSpec, data: FloorData): Promise<number> {
  const optional = metadataFields(spec).map((f) => f.name);
  let items = 0;
  let elapsed = 0;
  let loaded = false;
  for (const batch of data.batches(UPSERT_BATCH)) {
    const commands = batch.map((item) => {
      const key = keys.item(spec.name, item.id);
      const lacking = optional.filter((name) => item.fields[name] === undefined);
      const head: RedisArg[] = lacking.length === 0 ? ["HSET", key] : ["EVALSHA", REPLACE_ITEM_SHA1, "1", key, String(lacking.length), ...lacking];
      return { key, command: itemHashArgs(spec, item, head) };
    });
    if (!loaded) {
      // On every node the batch's keys live on (a cluster's primaries), before the clock starts.
      await Promise.all(commands.slice(0, 64).map(({ key }) => direct.send(["SCRIPT", "LOAD", REPLACE_ITEM_SCRIPT], key)));
      loaded = true;
    }
    const t0 = performance.now();
    const replies = await Promise.all(commands.map(({ key, command }) => direct.send(command, key)));
    elapsed += performance.now() - t0;
    const failed = replies.find((reply) => reply instanceof Error);
    if (failed !== undefined) throw failed;
    items += batch.length;
  }
  return items / (elapsed / 1000);
}
