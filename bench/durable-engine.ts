/**
 * The durable embedded engine (a data directory, LMDB) vs the in-memory one, in a child process of its
 * own:
 * - ingest: items/s of Upserts of 1000 items (FLAT COSINE, `dim` float32, a tag and a number each;
 *   bench/floor-data.ts) straight into the store, one writer and 4 concurrent writers, in memory and on
 *   a data directory in the OS temp dir (every Upsert one LMDB transaction, fsynced before it resolves),
 *   and the ratio durable / memory;
 * - bytes on disk per stored vector: the size of data.mdb once every item is written, divided by the
 *   items (the raw vector is 4 x dim bytes);
 * - start time: a fresh process (another child) opens the directory and rebuilds the in-memory arenas
 *   from it (openLmdbPersistence + createEmbeddedStore, what the server does before it listens), with
 *   the page cache warm from the writes (a restart on the same machine).
 *
 *   node --import tsx bench/durable-engine.ts <items> <dim>          (the measurement)
 *   node --import tsx bench/durable-engine.ts --load <dir>           (the start: prints its figures)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { Item } from "../src/domain/item.js";
import { createEmbeddedStore } from "../src/store/embedded/embedded-store.js";
import { DATA_FILE, openLmdbPersistence } from "../src/store/embedded/lmdb-persistence.js";
import type { VectorStore } from "../src/store/vector-store.js";
import { startChild } from "./child-process.js";
import { floorData, floorSpec } from "./floor-data.js";

export interface DurableFigures {
  readonly items: number;
  readonly dim: number;
  /** items/s with 1 and 4 writers */
  readonly memoryPerSecond: readonly [number, number];
  readonly durablePerSecond: readonly [number, number];
  readonly diskBytes: number;
  readonly startMs: number;
  /** CPU time (user + system) of the start: what it costs on a machine where the process gets a core */
  readonly startCpuMs: number;
  /** RSS of the started process once loaded (bytes) */
  readonly startRss: number;
}

const BATCH = 1000;
const INDEX = "durable_bench";

/** Runs the measurement in a child process. */
export async function measureDurable(items: number, dim: number): Promise<DurableFigures> {
  const child = startChild("./durable-engine.ts", [String(items), String(dim)]);
  try {
    return (await child.ready) as DurableFigures;
  } finally {
    await child.stop();
  }
}

/** Upserts every item with `writers` concurrent writers, each taking the next batch; items/s. */
async function ingest(store: VectorStore, batches: Item[][], writers: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let b = next++; b < batches.length; b = next++) await store.upsert(INDEX, batches[b] as Item[]);
    }),
  );
  return (batches.reduce((n, b) => n + b.length, 0) / (performance.now() - started)) * 1000;
}

async function measure(items: number, dim: number): Promise<DurableFigures> {
  const batches = [...floorData(items, dim).batches(BATCH)];
  const spec = floorSpec(INDEX, dim, "FLAT");
  const memoryPerSecond: number[] = [];
  const durablePerSecond: number[] = [];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "vecrec-bench-durable-"));
  let dir = "";
  try {
    // Alternated, each on a fresh store: memory, durable, for 1 then 4 writers.
    for (const writers of [1, 4]) {
      const memory = createEmbeddedStore();
      await memory.createIndex(spec);
      memoryPerSecond.push(await ingest(memory, batches, writers));
      await memory.close();
      dir = path.join(root, `w${writers}`);
      const durable = createEmbeddedStore({ persistence: await openLmdbPersistence(dir) });
      await durable.createIndex(spec);
      durablePerSecond.push(await ingest(durable, batches, writers));
      await durable.close();
    }
    const diskBytes = fs.statSync(path.join(dir, DATA_FILE)).size;
    const loader = startChild("./durable-engine.ts", ["--load", dir]);
    let loaded: { startMs: number; startCpuMs: number; startRss: number; items: number };
    try {
      loaded = (await loader.ready) as typeof loaded;
    } finally {
      await loader.stop();
    }
    if (loaded.items !== items) throw new Error(`the started process found ${loaded.items} items, not ${items}`);
    return {
      items,
      dim,
      memoryPerSecond: [memoryPerSecond[0] ?? 0, memoryPerSecond[1] ?? 0],
      durablePerSecond: [durablePerSecond[0] ?? 0, durablePerSecond[1] ?? 0],
      diskBytes,
      startMs: loaded.startMs,
      startCpuMs: loaded.startCpuMs,
      startRss: loaded.startRss,
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function load(dir: string): Promise<{ startMs: number; startCpuMs: number; startRss: number; items: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const store = createEmbeddedStore({ persistence: await openLmdbPersistence(dir) });
  const startMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const startCpuMs = (used.user + used.system) / 1000;
  const info = await store.getIndex(INDEX);
  const startRss = process.memoryUsage().rss;
  await store.close();
  return { startMs, startCpuMs, startRss, items: info.itemCount };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1] && process.send !== undefined) {
  const send = process.send.bind(process);
  process.on("message", (message: { type?: string }) => {
    if (message.type === "stop") process.exit(0);
  });
  const [first, second] = process.argv.slice(2);
  const run = first === "--load" ? load(second ?? "") : measure(Number(first), Number(second));
  run.then(
    (figures) => send(figures),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
