/**
 * The cost of observability on Search (issue 12): one vecrec server per mode, each in a process of its
 * own (bench/observability-child.ts, wired as src/main.ts wires it), over the same data (`items` random
 * vectors of `dim`, loaded into each: the embedded engine, or Redis under a key prefix of its own,
 * dropped at the end); the same Search (k=10) sent to each in turn over gRPC on loopback, interleaved
 * (bench/stats.ts). Modes:
 * - `off`: `--log-level warn` (no access lines), no metrics, no tracing;
 * - `on`: what an operator turns on: the access log at info (batched, to a file), metrics with their
 *   `/metrics` listener, tracing with an in-memory exporter behind the batch span processor.
 * Per mode: latency median / p95 at the client, and the server process's CPU time per call (µs,
 * process.cpuUsage() of the child over the timed calls, its idle timers included). For `on`, the
 * report says what it really did: Search calls counted by a scrape of its `/metrics`, spans exported,
 * access lines written.
 */
import { credentials, type ClientReadableStream } from "@grpc/grpc-js";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { SearchRequest, VectorServiceClient, type SearchResponse } from "../src/gen/vecrec/v1/vecrec.js";
import { serverNodeFlags, startChild, type BenchChild } from "./child-process.js";
import type { ObservabilityChildReady, ObservabilityChildReport } from "./observability-child.js";
import type { ServerChildCpu } from "./server-child.js";
import { createRandom, interleavedLatency, quantile } from "./stats.js";

export interface ObservabilityModeFigures {
  readonly mode: string;
  readonly medianMs: number;
  readonly p95Ms: number;
  /** Server CPU time per call (user + system), µs. */
  readonly cpuUs: number;
  /** Of which in garbage collection (main thread pauses), µs per call. */
  readonly gcUs: number;
  /** Of which on the main (JavaScript) thread, µs per call (Linux; NaN elsewhere). */
  readonly mainThreadUs: number;
  /** Search calls with code OK in a scrape of /metrics (undefined when metrics are off). */
  readonly scrapedSearches: number | undefined;
  readonly spans: number;
  readonly logLines: number;
  /** Searches sent to this server (warm-up included). */
  readonly calls: number;
}

export interface ObservabilityFigures {
  readonly backend: string;
  readonly items: number;
  readonly dim: number;
  /** Timed calls per mode. */
  readonly calls: number;
  readonly modes: readonly ObservabilityModeFigures[];
}

function drain(call: ClientReadableStream<SearchResponse>): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    call.on("data", () => n++);
    call.on("error", reject);
    call.on("end", () => resolve(n));
  });
}

const unary = <T>(fn: (callback: (error: Error | null) => void) => T): Promise<void> =>
  new Promise<void>((resolve, reject) => void fn((error) => (error ? reject(error) : resolve())));

async function scrapedSearches(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith("grpc_server_handled_total{") && l.includes('grpc_method="Search"') && l.includes('grpc_code="OK"'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

export async function benchObservability(options: {
  readonly backend: string;
  /** Redis URL; undefined: the embedded engine. */
  readonly url?: string | undefined;
  readonly items: number;
  readonly dim: number;
  readonly calls: number;
  readonly modes?: readonly string[];
}): Promise<ObservabilityFigures> {
  const { items, dim, calls } = options;
  const modes = options.modes ?? ["off", "on"];
  const dir = mkdtempSync(path.join(os.tmpdir(), "vecrec-bench-observability-"));
  const index = `bench-observability-${process.pid}`;
  const children: BenchChild[] = [];
  const clients: VectorServiceClient[] = [];
  try {
    const readies: ObservabilityChildReady[] = [];
    for (const mode of modes) {
      const child = startChild("./observability-child.ts", [mode, options.url ?? "", `vecrec-bench-obs-${process.pid}-${children.length}:`, path.join(dir, `${children.length}.log`)], [...serverNodeFlags(), ...(process.env.VECREC_BENCH_CHILD_FLAGS ?? "").split(" ").filter((f) => f !== "")]);
      children.push(child);
      readies.push((await child.ready) as ObservabilityChildReady);
      clients.push(new VectorServiceClient(`127.0.0.1:${readies.at(-1)!.port}`, credentials.createInsecure()));
    }
    const random = createRandom(7);
    const vectors = Array.from({ length: items }, () => Buffer.from(Float32Array.from({ length: dim }, () => random() * 2 - 1).buffer));
    for (const client of clients) {
      await unary((cb) => client.index({ indexName: index, defaultVectorDimension: dim, fields: [], interests: undefined }, cb));
      for (let start = 0; start < items; start += 1000) {
        const batch = vectors.slice(start, start + 1000).map((vector, i) => ({
          id: `item:${start + i}`,
          vector: { encoding: { $case: "float32Le" as const, value: vector } },
          fields: {},
        }));
        await unary((cb) => client.upsert({ indexName: index, items: batch }, cb));
      }
    }
    const query = Buffer.from(Float32Array.from({ length: dim }, () => random() * 2 - 1).buffer);
    const request = SearchRequest.fromPartial({ indexName: index, query: { $case: "vector", value: { encoding: { $case: "float32Le", value: query } } }, k: 10 });
    const sent = modes.map(() => 0);
    const gc = modes.map(() => 0);
    const mainThread = modes.map(() => 0);
    const cpuOf = async (child: BenchChild, i: number): Promise<number> => {
      const { user, system, gcMs, mainThreadMs } = await child.ask<ServerChildCpu & { gcMs: number; mainThreadMs: number }>({ type: "cpu" });
      gc[i] = gcMs - gc[i]!;
      mainThread[i] = mainThreadMs - mainThread[i]!;
      return user + system;
    };
    const warmup = 30;
    const before = await Promise.all(children.map((child, i) => cpuOf(child, i)));
    const latencies = await interleavedLatency(
      clients.map((client, i) => async () => {
        sent[i]!++;
        await drain(client.search(request));
      }),
      calls,
      warmup,
    );
    const after = await Promise.all(children.map((child, i) => cpuOf(child, i)));
    const figures: ObservabilityModeFigures[] = [];
    for (const [i, mode] of modes.entries()) {
      const report = await children[i]!.ask<ObservabilityChildReport>({ type: "report" });
      figures.push({
        mode,
        medianMs: quantile(latencies[i]!, 0.5),
        p95Ms: quantile(latencies[i]!, 0.95),
        cpuUs: (after[i]! - before[i]!) / sent[i]!,
        gcUs: (gc[i]! * 1000) / sent[i]!,
        mainThreadUs: (mainThread[i]! * 1000) / sent[i]!,
        scrapedSearches: readies[i]!.metricsPort === 0 ? undefined : await scrapedSearches(readies[i]!.metricsPort),
        spans: report.spans,
        logLines: report.logLines,
        calls: sent[i]!,
      });
    }
    return { backend: options.backend, items, dim, calls, modes: figures };
  } finally {
    for (const client of clients) {
      if (options.url !== undefined) await unary((cb) => client.dropIndex({ indexName: index, deleteItems: true }, cb)).catch(() => undefined);
      client.close();
    }
    await Promise.all(children.map((child) => child.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
