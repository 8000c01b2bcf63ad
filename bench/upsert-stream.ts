/**
 * UpsertStream vs its floors, items/s into an empty FLAT index (the floor data of floor-data.ts):
 * - Redis: one UpsertStream call of messages of UPSERT_BATCH items to the vecrec server (a child
 *   process, bench/redis-floors.ts) vs pipelined HSETs of the same hashes written batch by batch
 *   straight to Redis (upsert-floor.ts, only the sends timed).
 * - Embedded (in memory and durable): one UpsertStream call to a vecrec server over the embedded engine
 *   in a child process vs the same items written with in-process calls, batch by batch, of the Upsert use
 *   case (validation + store: the server's own work without the transport) and of the bare store.
 */
import { credentials } from "@grpc/grpc-js";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import type { UpsertStreamResponse, VectorServiceClient } from "../src/gen/vecrec/v1/vecrec.js";
import { createVectorServiceClient } from "../src/cli/upsert-encoding.js";
import { serverNodeFlags, startChild } from "./child-process.js";
import type { EmbeddedStreamChildReady } from "./embedded-stream-child.js";
import { floorData, toProtoItem, type FloorData } from "./floor-data.js";
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
  /** "in memory" or "durable" (LMDB in a temporary data directory, the server's default). */
  readonly mode: string;
  /** items/s of one UpsertStream call to an embedded server in this process. */
  readonly stream: number;
  /** items/s of in-process Upsert use-case calls (validation + store), batch by batch: the floor. */
  readonly useCase: number;
  /** items/s of in-process store.upsert calls (no validation), batch by batch. */
  readonly inProcess: number;
}

/** Timed rounds per path of the embedded row, after one untimed warm-up round of each. */
const EMBEDDED_ROUNDS = 3;

/**
 * The embedded row: UpsertStream over gRPC from this process to a vecrec server in a child process
 * (embedded-stream-child.ts) vs in-process calls in that child with the same items, of the Upsert use
 * case (what the server does for each message: validation, then the store) and of the bare store.
 * Every path runs once untimed first (JIT warm-up: a cold first run measured 0.2x where warm runs give
 * several times more), then EMBEDDED_ROUNDS times, in turn, each into a fresh index; medians reported.
 */
export async function benchEmbeddedStream(items: number, dim: number, durable: boolean): Promise<EmbeddedStreamFigures> {
  const data = floorData(items, dim);
  const child = startChild("./embedded-stream-child.ts", [String(items), String(dim), durable ? "durable" : "memory"], serverNodeFlags());
  let client: VectorServiceClient | undefined;
  try {
    const ready = (await child.ready) as EmbeddedStreamChildReady;
    // The client `vecrec load` uses (UpsertStream requests encoded in one buffer).
    const grpc = createVectorServiceClient(`127.0.0.1:${ready.port}`, credentials.createInsecure());
    client = grpc;
    let round = 0;
    const inFreshIndex = async (write: (name: string) => Promise<number>): Promise<number> => {
      const name = `stream-${round++}`;
      await child.ask({ type: "create", name });
      const rate = await write(name);
      await child.ask({ type: "drop", name });
      return rate;
    };
    const inProcess = (path: "store" | "use-case") => (name: string) =>
      child.ask<{ itemsPerSecond: number }>({ type: "in-process", name, path }).then((answer) => answer.itemsPerSecond);
    const paths = {
      inProcess: () => inFreshIndex(inProcess("store")),
      useCase: () => inFreshIndex(inProcess("use-case")),
      stream: () => inFreshIndex((name) => vecrecUpsertStream(grpc, name, data)),
    };
    const rates = { stream: [] as number[], useCase: [] as number[], inProcess: [] as number[] };
    for (let i = 0; i <= EMBEDDED_ROUNDS; i++) {
      for (const path of ["inProcess", "useCase", "stream"] as const) {
        const rate = await paths[path]();
        if (i > 0) rates[path].push(rate);
      }
    }
    return {
      items,
      dim,
      mode: durable ? "durable" : "in memory",
      stream: median(rates.stream),
      useCase: median(rates.useCase),
      inProcess: median(rates.inProcess),
    };
  } finally {
    client?.close();
    await child.stop();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
