/**
 * UpsertStream vs its floors, items/s into an empty FLAT index (the floor data of floor-data.ts):
 * - Redis: one UpsertStream call of messages of UPSERT_BATCH items to the vecrec server (a child
 *   process, bench/redis-floors.ts) vs pipelined HSETs of the same hashes written batch by batch
 *   straight to Redis (upsert-floor.ts, only the sends timed).
 * - Embedded: one UpsertStream call to a vecrec server over the embedded engine in this process vs
 *   the same items written with in-process calls of the store's upsert, batch by batch.
 */
import { credentials } from "@grpc/grpc-js";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import type { UpsertStreamResponse, VectorServiceClient } from "../src/gen/vecrec/v1/vecrec.js";
import { VectorServiceClient as Client } from "../src/gen/vecrec/v1/vecrec.js";
import { startServer } from "../src/main.js";
import { createEmbeddedStore } from "../src/store/embedded/embedded-store.js";
import { floorData, floorSpec, toProtoItem, type FloorData } from "./floor-data.js";
import { UPSERT_BATCH } from "./upsert-floor.js";

/** Items per second of one UpsertStream call into `indexName` (messages built before the clock starts). */
export async function vecrecUpsertStream(client: VectorServiceClient, indexName: string, data: FloorData): Promise<number> {
  const messages = [...data.batches(UPSERT_BATCH)].map((batch) => ({ indexName, items: batch.map(toProtoItem) }));
  const items = messages.reduce((sum, m) => sum + m.items.length, 0);
  const t0 = performance.now();
  const call = client.upsertStream();
  const done = new Promise<number>((resolve, reject) => {
    let accepted = 0;
    call.on("data", (ack: UpsertStreamResponse) => (accepted = ack.totalAccepted));
    call.on("error", reject);
    call.on("end", () => resolve(accepted));
  });
  for (const message of messages) {
    if (!call.write(message)) await once(call, "drain");
  }
  call.end();
  const accepted = await done;
  const elapsed = performance.now() - t0;
  if (accepted !== items) throw new Error(`UpsertStream accepted ${accepted} of ${items} items`);
  return items / (elapsed / 1000);
}

export interface EmbeddedStreamFigures {
  readonly items: number;
  readonly dim: number;
  /** items/s of one UpsertStream call to an embedded server in this process. */
  readonly stream: number;
  /** items/s of in-process store.upsert calls, batch by batch. */
  readonly inProcess: number;
}

/** The embedded row: UpsertStream over gRPC vs in-process upserts of the same items. */
export async function benchEmbeddedStream(items: number, dim: number): Promise<EmbeddedStreamFigures> {
  const data = floorData(items, dim);
  const store = createEmbeddedStore();
  const server = await startServer({ store, listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
  const client = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
  try {
    const direct = floorSpec("stream-direct", dim, "FLAT");
    await store.createIndex(direct);
    const batches = [...data.batches(UPSERT_BATCH)];
    const t0 = performance.now();
    for (const batch of batches) await store.upsert(direct.name, batch);
    const inProcess = items / ((performance.now() - t0) / 1000);
    const streamed = floorSpec("stream-grpc", dim, "FLAT");
    await store.createIndex(streamed);
    const stream = await vecrecUpsertStream(client, streamed.name, data);
    return { items, dim, stream, inProcess };
  } finally {
    client.close();
    await server.close({ graceMs: 1000 });
    await store.close();
  }
}
