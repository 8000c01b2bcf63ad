/**
 * Upsert vs its floor: vecrec Upsert over gRPC (batches of 1000 items, one call at a time) against the
 * same hashes written straight to Redis with node-redis, each batch as 1000 pipelined HSETs (node-redis
 * pipelines the commands sent before their replies arrive). Both write into a fresh, empty index of the
 * same spec, so Redis indexes the same documents in both.
 *
 * With `inFlight` > 1 each side keeps that many batches in flight (the next call, or the next batch of
 * HSETs, starts as soon as one ends), as a loader with several workers does; the requests and commands
 * are built before the clock starts and the whole run is timed.
 */
import { performance } from "node:perf_hooks";
import type { IndexSpec } from "../src/domain/schema.js";
import type { Item } from "../src/domain/item.js";
import type { VectorServiceClient } from "../src/gen/vecrec/v1/vecrec.js";
import { metadataFields } from "../src/domain/schema.js";
import { itemHashArgs } from "../src/store/redis/item-codec.js";
import { restoreHashArgs } from "../src/store/redis/commands/restore-hash.js";
import type { RedisKeys } from "../src/store/redis/redis-keys.js";
import { toProtoItem, type FloorData } from "./floor-data.js";
import type { DirectRedis } from "./redis-direct.js";

export const UPSERT_BATCH = 1000;

/** Items per second of vecrec Upsert into `indexName` (only the calls are timed, not building the items). */
export async function vecrecUpsert(client: VectorServiceClient, indexName: string, data: FloorData, inFlight = 1): Promise<number> {
  if (inFlight > 1) {
    const requests = [...data.batches(UPSERT_BATCH)].map((batch) => ({ indexName, items: batch.map(toProtoItem) }));
    return await inParallel(requests, inFlight, async (request) => {
      await new Promise<void>((resolve, reject) => client.upsert(request, (error) => (error ? reject(error) : resolve())));
      return request.items.length;
    });
  }
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
export async function directHset(direct: DirectRedis, keys: RedisKeys, spec: IndexSpec, data: FloorData, inFlight = 1): Promise<number> {
  const hsets = (batch: readonly Item[]) =>
    batch.map((item) => {
      const key = keys.item(spec.name, item.id);
      return { key, command: ["HSET", key, ...itemHashArgs(spec, item)] };
    });
  const send = (commands: ReturnType<typeof hsets>) => Promise.all(commands.map(({ key, command }) => direct.send(command, key)));
  if (inFlight > 1) {
    return await inParallel([...data.batches(UPSERT_BATCH)].map(hsets), inFlight, async (commands) => {
      await send(commands);
      return commands.length;
    });
  }
  let items = 0;
  let elapsed = 0;
  for (const batch of data.batches(UPSERT_BATCH)) {
    const commands = hsets(batch);
    const t0 = performance.now();
    await send(commands);
    elapsed += performance.now() - t0;
    items += batch.length;
  }
  return items / (elapsed / 1000);
}

/**
 * Items per second of the very commands vecrec sends for these items, pipelined straight to Redis batch
 * by batch (items.ts): an HSET for an item that sets every schema field, a RESTORE REPLACE of the whole
 * hash (commands/restore-hash.ts) for one that leaves some out. The floor of an Upsert that keeps its
 * meaning (a whole-item replace), where plain HSET only adds fields.
 */
export async function directReplace(direct: DirectRedis, keys: RedisKeys, spec: IndexSpec, data: FloorData): Promise<number> {
  const optional = metadataFields(spec).map((f) => f.name);
  let items = 0;
  let elapsed = 0;
  for (const batch of data.batches(UPSERT_BATCH)) {
    const commands = batch.map((item) => {
      const key = keys.item(spec.name, item.id);
      const complete = optional.every((name) => item.fields[name] !== undefined);
      return { key, command: complete ? itemHashArgs(spec, item, ["HSET", key]) : restoreHashArgs(key, itemHashArgs(spec, item)) };
    });
    const t0 = performance.now();
    const replies = await Promise.all(commands.map(({ key, command }) => direct.send(command, key)));
    elapsed += performance.now() - t0;
    const failed = replies.find((reply) => reply instanceof Error);
    if (failed !== undefined) throw failed;
    items += batch.length;
  }
  return items / (elapsed / 1000);
}

/** Items per second of `write` over every batch, `inFlight` at a time, timed from the first start to the last end. */
async function inParallel<T>(batches: readonly T[], inFlight: number, write: (batch: T) => Promise<number>): Promise<number> {
  let next = 0;
  let items = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, batches.length) }, async () => {
      while (next < batches.length) {
        const written = await write(batches[next++]!); // not `items += await ...`: that reads items before the wait
        items += written;
      }
    }),
  );
  return items / ((performance.now() - t0) / 1000);
}
