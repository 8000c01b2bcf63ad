/**
 * The process the embedded UpsertStream row runs vecrec in (bench/upsert-stream.ts through
 * bench/child-process.ts): an embedded store (in memory, or durable in a temporary data directory) served
 * by a real vecrec server on 127.0.0.1:0, so that the bench's gRPC client encodes its messages in another
 * process, as a real client does. The in-process floors run here too, on the same store, with the same
 * seeded data (floor-data.ts):
 * - `{type: "create", name}` / `{type: "drop", name}`: a fresh FLAT index / drop it with its items;
 * - `{type: "in-process", name, path: "store" | "use-case"}`: writes every item into `name` batch by batch
 *   with store.upsert (no validation) or the Upsert use case (validation + store), answers items/s (the
 *   items built afresh, untimed, for each run);
 * - `{type: "cpu"}`: this process's CPU time so far (process.cpuUsage(), µs), its main thread's (ms) and its
 *   garbage-collection pauses (ms), to split a path's cost.
 *
 *   node --import tsx bench/embedded-stream-child.ts <items> <dim> <"memory" | "durable">
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance, PerformanceObserver } from "node:perf_hooks";
import { pino } from "pino";
import { startServer } from "../src/main.js";
import { createEmbeddedStore } from "../src/store/embedded/embedded-store.js";
import { openLmdbPersistence } from "../src/store/embedded/lmdb-persistence.js";
import { createItemService } from "../src/usecases/items.js";
import { floorData, floorSpec } from "./floor-data.js";
import { mainThreadCpuMs } from "./main-thread-cpu.js";
import { UPSERT_BATCH } from "./upsert-floor.js";

export interface EmbeddedStreamChildReady {
  readonly type: "ready";
  readonly port: number;
}

type Request =
  | { readonly type: "create" | "drop"; readonly name: string }
  | { readonly type: "in-process"; readonly name: string; readonly path: "store" | "use-case" }
  | { readonly type: "cpu" }
  | { readonly type: "stop" };

async function main(): Promise<void> {
  const [itemsArg, dimArg, mode] = process.argv.slice(2);
  const items = Number(itemsArg);
  const dim = Number(dimArg);
  if (process.send === undefined || !Number.isInteger(items) || !Number.isInteger(dim) || (mode !== "memory" && mode !== "durable")) {
    throw new Error("usage: (forked with IPC) embedded-stream-child.ts <items> <dim> <memory|durable>");
  }
  const send = process.send.bind(process);
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  }).observe({ entryTypes: ["gc"] });
  const dataDir = mode === "durable" ? await mkdtemp(join(tmpdir(), "vecrec-bench-stream-")) : undefined;
  const store = createEmbeddedStore(dataDir === undefined ? {} : { persistence: await openLmdbPersistence(dataDir) });
  const service = createItemService(store);
  const server = await startServer({ store, listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
  const data = floorData(items, dim);
  const answer = async (request: Request): Promise<unknown> => {
    switch (request.type) {
      case "create":
        await store.createIndex(floorSpec(request.name, dim, "FLAT"));
        return { type: "done" };
      case "drop":
        await store.dropIndex(request.name, { deleteItems: true });
        return { type: "done" };
      case "in-process": {
        // Built afresh for each run, before the clock starts: an in-process caller's items are new objects
        // (read from a file, a database), as the server's decoded ones are. One set reused by every run
        // was old by the second run (nothing of it for the collector to copy or promote): 10% faster
        // than fresh items (median of 9 interleaved pairs, 0.75-1.09 per pair), a floor no caller has.
        const batches = [...data.batches(UPSERT_BATCH)];
        const t0 = performance.now();
        for (const batch of batches) {
          if (request.path === "store") await store.upsert(request.name, batch);
          else await service.upsert(request.name, batch.map((item) => ({ id: item.id, vector: item.vector, fields: item.fields })));
        }
        return { type: "rate", itemsPerSecond: items / ((performance.now() - t0) / 1000) };
      }
      case "cpu": {
        const { user, system } = process.cpuUsage();
        return { type: "cpu", user, system, gcMs, mainThreadMs: mainThreadCpuMs() };
      }
      case "stop":
        await server.close({ graceMs: 1000 });
        await store.close();
        if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
        process.exit(0);
    }
  };
  process.on("message", (request: Request) => {
    answer(request).then(send, (error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
  send({ type: "ready", port: server.port } satisfies EmbeddedStreamChildReady);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
