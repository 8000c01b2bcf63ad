/**
 * The Prometheus metrics of one vecrec process (prom-client), on a registry of its own:
 * - gRPC server metrics named as go-grpc-prometheus / grpc-ecosystem's middleware names them
 *   (`grpc_server_started_total`, `grpc_server_handled_total{grpc_code}`, `grpc_server_handling_seconds`,
 *   `grpc_server_msg_received_total`, `grpc_server_msg_sent_total`, labels `grpc_type`, `grpc_service`,
 *   `grpc_method`, codes spelled as Go's `codes.Code.String()`), so existing dashboards work; plus calls
 *   in flight and messages streamed per call;
 * - per Redis command: latency and errors; per store operation (embedded scans included): latency;
 *   store availability and recoveries;
 * - per index, read at scrape time from the store's listIndexes (cached, bounded: index-stats.ts);
 * - process and event-loop metrics (prom-client's default metrics).
 * Each metric says how `--workers` aggregates it (cluster-metrics.ts in the primary): counters and
 * histograms sum; per-index gauges, read from the same Redis by every worker, take the first.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { BoundHistogram, type HistogramSeries } from "./bound-histogram.js";
import type { IndexInfo } from "../domain/schema.js";
import { IndexStats } from "./index-stats.js";

/** grpc status code numbers as go-grpc-prometheus labels them (Go's codes.Code.String()). */
export const GRPC_CODE_NAMES: readonly string[] = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

export function grpcCodeName(code: number): string {
  return GRPC_CODE_NAMES[code] ?? `Code(${code})`;
}

/** Seconds; finer than Prometheus's defaults at the low end, where embedded searches and Redis commands live. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const MESSAGE_BUCKETS = [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000];

export type GrpcType = "unary" | "client_stream" | "server_stream" | "bidi_stream";

/** The metrics one call touches, bound to its labels once per method (labels() hashes every time). */
export interface MethodMetrics {
  started(): void;
  /** The call ended with `code` after `seconds`, having received and sent these many messages. */
  handled(code: number, seconds: number, received: number, sent: number): void;
}

export interface VecrecMetrics {
  readonly registry: Registry;
  /** The bound metrics of one method (cached). */
  method(type: GrpcType, service: string, method: string): MethodMetrics;
  /** A Redis command ended after `seconds`, failed or not. */
  redisCommand(command: string, seconds: number, failed: boolean): void;
  /** A store operation (search, upsert...) ended after `seconds`, failed or not. */
  storeOperation(backend: string, operation: string, seconds: number, failed: boolean): void;
  /** Follows the store's availability (up gauge, recoveries counter). */
  storeAvailability(backend: string, available: boolean): void;
}

export interface MetricsOptions {
  /** Where per-index gauges come from, at scrape time. */
  readonly listIndexes?: () => Promise<IndexInfo[]>;
  /** Default metrics (process, event loop); default true. */
  readonly defaultMetrics?: boolean;
  /** How long per-index figures are reused, and how long a scrape waits for fresh ones (ms). */
  readonly indexStatsCacheMs?: number;
  readonly indexStatsTimeoutMs?: number;
}

/** One method's call figures, as plain numbers; the counters take what accumulated at each scrape. */
class BoundMethod implements MethodMetrics {
  inFlight = 0;
  #started = 0;
  #received = 0;
  #sent = 0;
  /** Calls ended, by status code number. */
  readonly #handled: number[] = [];

  constructor(
    readonly labels: { grpc_type: string; grpc_service: string; grpc_method: string },
    private readonly handling: HistogramSeries,
    private readonly perCall: HistogramSeries,
  ) {}

  started(): void {
    this.#started++;
    this.inFlight++;
  }

  handled(code: number, seconds: number, received: number, sent: number): void {
    this.inFlight--;
    this.#handled[code] = (this.#handled[code] ?? 0) + 1;
    this.handling.observe(seconds);
    this.#received += received;
    this.#sent += sent;
    this.perCall.observe(sent);
  }

  takeStarted(): number {
    const n = this.#started;
    this.#started = 0;
    return n;
  }

  takeReceived(): number {
    const n = this.#received;
    this.#received = 0;
    return n;
  }

  takeSent(): number {
    const n = this.#sent;
    this.#sent = 0;
    return n;
  }

  /** Calls ended since the last take, per code (codes seen once stay, with 0). */
  takeHandled(add: (code: number, count: number) => void): void {
    this.#handled.forEach((count, code) => {
      add(code, count);
      this.#handled[code] = 0;
    });
  }
}

export function createMetrics(options: MetricsOptions = {}): VecrecMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const methodLabels = ["grpc_type", "grpc_service", "grpc_method"] as const;

  // The per-call figures are plain numbers in each method's bound object (methods below), read into the
  // counters and gauge when scraped (collect) and kept by the histograms themselves (bound-histogram.ts):
  // a call costs additions, not prom-client's label validation and hashing per update.
  const bound: BoundMethod[] = [];
  new Counter({
    name: "grpc_server_started_total",
    help: "Total number of RPCs started on the server.",
    labelNames: methodLabels,
    registers,
    collect() {
      for (const m of bound) this.inc(m.labels, m.takeStarted());
    },
  });
  new Counter({
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
    labelNames: [...methodLabels, "grpc_code"],
    registers,
    collect() {
      for (const m of bound) m.takeHandled((code, count) => this.inc({ ...m.labels, grpc_code: grpcCodeName(code) }, count));
    },
  });
  const handling = new BoundHistogram(
    "grpc_server_handling_seconds",
    "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
    methodLabels,
    LATENCY_BUCKETS,
    registers,
  );
  new Counter({
    name: "grpc_server_msg_received_total",
    help: "Total number of RPC stream messages received on the server.",
    labelNames: methodLabels,
    registers,
    collect() {
      for (const m of bound) this.inc(m.labels, m.takeReceived());
    },
  });
  new Counter({
    name: "grpc_server_msg_sent_total",
    help: "Total number of gRPC stream messages sent by the server.",
    labelNames: methodLabels,
    registers,
    collect() {
      for (const m of bound) this.inc(m.labels, m.takeSent());
    },
  });
  new Gauge({
    name: "vecrec_grpc_server_calls_in_flight",
    help: "RPCs started and not yet completed, per method.",
    labelNames: methodLabels,
    registers,
    collect() {
      for (const m of bound) this.set(m.labels, m.inFlight);
    },
  });
  const perCall = new BoundHistogram(
    "vecrec_grpc_server_msg_sent_per_call",
    "Messages sent per completed call (a Search or Recommend: its hits streamed).",
    methodLabels,
    MESSAGE_BUCKETS,
    registers,
  );
  const redisSeconds = new BoundHistogram(
    "vecrec_redis_command_duration_seconds",
    "Redis round trips by command (MULTI = a transaction), from send to reply or failure (seconds).",
    ["command"],
    LATENCY_BUCKETS,
    registers,
  );
  const redisErrors = new Counter({
    name: "vecrec_redis_command_errors_total",
    help: "Redis round trips that failed (error reply, timeout, cancelled, connection down), by command.",
    labelNames: ["command"],
    registers,
  });
  const storeSeconds = new BoundHistogram(
    "vecrec_store_operation_duration_seconds",
    "Store operations (search, upsert, getItems...; on the embedded engine the scans themselves) by backend (seconds).",
    ["backend", "operation"],
    LATENCY_BUCKETS,
    registers,
  );
  const storeErrors = new Counter({
    name: "vecrec_store_operation_errors_total",
    help: "Store operations that failed, by backend and operation.",
    labelNames: ["backend", "operation"],
    registers,
  });
  const storeUp = new Gauge({
    name: "vecrec_store_up",
    help: "1 while the store is available (Redis answers its probe; the embedded engine always), else 0.",
    labelNames: ["backend"],
    aggregator: "min",
    registers,
  });
  const recoveries = new Counter({
    name: "vecrec_store_reconnects_total",
    help: "Times the store became available again after an outage (Redis reconnected and answers).",
    labelNames: ["backend"],
    registers,
  });

  if (options.listIndexes !== undefined) {
    const stats = new IndexStats(options.listIndexes, options.indexStatsCacheMs ?? 5000, options.indexStatsTimeoutMs ?? 1000);
    const perIndex = (name: string, help: string, value: (info: IndexInfo) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ["index"],
        aggregator: "first",
        registers,
        async collect() {
          const infos = await stats.read();
          this.reset();
          for (const info of infos) this.set({ index: info.spec.name }, value(info));
        },
      });
    };
    perIndex("vecrec_index_items", "Items in the index (read at scrape time, cached up to 5 s).", (info) => info.itemCount);
    perIndex("vecrec_index_indexing_progress", "Share of the index's items indexed, 0..1 (1 when not indexing).", (info) =>
      info.indexing ? info.indexingProgress : 1,
    );
    perIndex("vecrec_index_indexing_failures", "Items Redis failed to index (hash fields it could not read).", (info) => info.indexingFailures);
    new Gauge({
      name: "vecrec_index_stats_fresh",
      help: "1 when the per-index figures of this scrape were read within their cache time, 0 when the store did not answer in time (the figures are the last known).",
      aggregator: "min",
      registers,
      async collect() {
        await stats.read();
        this.set(stats.fresh() ? 1 : 0);
      },
    });
  }

  const methods = new Map<string, MethodMetrics>();
  const redisSeries = new Map<string, HistogramSeries>();
  const storeSeries = new Map<string, Map<string, HistogramSeries>>();
  let wasAvailable: boolean | undefined;
  return {
    registry,
    method(type, service, method) {
      const key = `${type}/${service}/${method}`;
      let metrics = methods.get(key);
      if (metrics === undefined) {
        const m = new BoundMethod(
          { grpc_type: type, grpc_service: service, grpc_method: method },
          handling.series(type, service, method),
          perCall.series(type, service, method),
        );
        bound.push(m);
        metrics = m;
        methods.set(key, metrics);
      }
      return metrics;
    },
    redisCommand(command, seconds, failed) {
      let series = redisSeries.get(command);
      if (series === undefined) {
        series = redisSeconds.series(command);
        redisSeries.set(command, series);
      }
      series.observe(seconds);
      if (failed) redisErrors.inc({ command });
    },
    storeOperation(backend, operation, seconds, failed) {
      let byOperation = storeSeries.get(backend);
      if (byOperation === undefined) {
        byOperation = new Map();
        storeSeries.set(backend, byOperation);
      }
      let series = byOperation.get(operation);
      if (series === undefined) {
        series = storeSeconds.series(backend, operation);
        byOperation.set(operation, series);
      }
      series.observe(seconds);
      if (failed) storeErrors.inc({ backend, operation });
    },
    storeAvailability(backend, available) {
      storeUp.set({ backend }, available ? 1 : 0);
      if (available && wasAvailable === false) recoveries.inc({ backend });
      else recoveries.inc({ backend }, 0);
      wasAvailable = available;
    },
  };
}
