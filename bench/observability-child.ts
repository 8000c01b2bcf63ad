/**
 * The process bench/observability.ts runs one vecrec server in, wired as src/main.ts wires it, with
 * observability off or on, so that each server's CPU time and its process-wide costs (async context
 * hooks, timers, buffered log writes) are its own:
 * - `off`: `--log-level warn` (no access lines; the call interceptor still runs), no metrics, no tracing;
 * - `on`: the access log at info (createServiceLog, as main: batched asynchronous writes, here to a
 *   file), metrics (prom-client, served by a `/metrics` listener on 127.0.0.1:0) and tracing with an
 *   in-memory exporter behind the batch span processor, emptied as each batch arrives (as the OTLP exporter
 *   hands a batch over: spans live as long as in production, in the processor's queue);
 * - or any of `log`, `metrics`, `tracing` (comma-separated) to split the cost.
 * Answers `{type: "cpu"}` with process.cpuUsage(), `{type: "report"}` with the spans exported, the log
 * lines written and the metrics port; `{type: "stop"}` closes everything and exits.
 *
 *   node --import tsx bench/observability-child.ts <off|on|parts> <redis url or ""> <key prefix> <log file>
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import type { ExportResult } from "@opentelemetry/core";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { startServer } from "../src/main.js";
import { createServiceLog } from "../src/observability/logging.js";
import { createMetrics } from "../src/observability/metrics.js";
import { startMetricsServer } from "../src/observability/metrics-server.js";
import { createObservability } from "../src/observability/observability.js";
import { setUpTracing } from "../src/observability/tracing.js";
import { createEmbeddedStore } from "../src/store/embedded/embedded-store.js";
import type { VectorStore } from "../src/store/vector-store.js";
import { mainThreadCpuMs } from "./main-thread-cpu.js";

export interface ObservabilityChildReady {
  readonly type: "ready";
  readonly port: number;
  /** 0 when metrics are off. */
  readonly metricsPort: number;
}

export interface ObservabilityChildReport {
  readonly type: "report";
  readonly spans: number;
  readonly logLines: number;
}

export function observabilityParts(mode: string): Set<string> {
  if (mode === "off") return new Set();
  if (mode === "on") return new Set(["log", "metrics", "tracing"]);
  return new Set(mode.split(",").filter((part) => part !== ""));
}

/**
 * VECREC_BENCH_PROFILE_DIR: a CPU profile of each server over the timed calls only (between the two
 * CPU readings), written to <dir>/<mode>.cpuprofile (open in Chrome DevTools or speedscope).
 */
const profileDir = process.env.VECREC_BENCH_PROFILE_DIR;

function toggleProfile(session: Session | undefined, file: string): Session | undefined {
  if (session === undefined) {
    const started = new Session();
    started.connect();
    started.post("Profiler.enable", () => started.post("Profiler.start"));
    return started;
  }
  session.post("Profiler.stop", (error, result) => {
    if (error === null) writeFileSync(file, JSON.stringify(result.profile));
    session.disconnect();
  });
  return undefined;
}

/** The in-memory exporter, emptied as each batch arrives; counts what it got. */
class DroppingExporter extends InMemorySpanExporter {
  exported = 0;

  override export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.exported += spans.length;
    super.export(spans, resultCallback);
    this.reset();
  }
}


async function main(): Promise<void> {
  const [mode, url, keyPrefix, logFile] = process.argv.slice(2);
  if (mode === undefined || url === undefined || keyPrefix === undefined || logFile === undefined || process.send === undefined) {
    throw new Error("usage: (forked with IPC) observability-child.ts <off|on|parts> <redis url or ''> <key prefix> <log file>");
  }
  const send = process.send.bind(process);
  let profiling: Session | undefined;
  let gcMs = 0; // time in garbage collection, for the report
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  }).observe({ entryTypes: ["gc"] });
  const parts = observabilityParts(mode);
  const log = createServiceLog({ level: parts.has("log") ? "info" : "warn", dest: logFile });
  const exporter = new DroppingExporter();
  const tracing = parts.has("tracing") ? setUpTracing({ exporter, batch: true }) : undefined;
  const metrics = parts.has("metrics") ? createMetrics({ listIndexes: () => store.listIndexes() }) : undefined;
  const observability = createObservability({ metrics, tracing, logger: log.logger, slowCallMs: 1000 });
  let store: VectorStore;
  if (url === "") store = createEmbeddedStore();
  else {
    const { createRedisStore } = await import("../src/store/redis/redis-store.js");
    store = await createRedisStore({ url, keyPrefix, observer: observability.storeObserver });
  }
  const server = await startServer({ store, listen: "127.0.0.1:0", logger: log.logger, observability });
  const metricsServer = metrics === undefined ? undefined : await startMetricsServer("127.0.0.1:0", metrics.registry);
  process.on("message", (message: { type?: string }) => {
    if (message.type === "cpu") {
      const { user, system } = process.cpuUsage();
      send({ type: "cpu", user, system, gcMs, mainThreadMs: mainThreadCpuMs() });
      if (profileDir !== undefined) profiling = toggleProfile(profiling, path.join(profileDir, `${mode}.cpuprofile`));
    } else if (message.type === "report") {
      void (async () => {
        await tracing?.flush();
        await log.flush();
        const logLines = readFileSync(logFile, "utf8").split("\n").filter((line) => line.includes('"msg":"call"')).length;
        send({ type: "report", spans: exporter.exported, logLines } satisfies ObservabilityChildReport);
      })();
    } else if (message.type === "stop") {
      void server
        .close({ graceMs: 1000 })
        .then(() => metricsServer?.close())
        .then(() => tracing?.shutdown())
        .then(() => store.close())
        .then(() => log.flush())
        .finally(() => process.exit(0));
    }
  });
  send({ type: "ready", port: server.port, metricsPort: metricsServer?.port ?? 0 } satisfies ObservabilityChildReady);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
