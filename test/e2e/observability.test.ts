/**
 * Observability end to end (issue 12): after calls of each kind, /metrics scraped over HTTP shows the
 * gRPC, store, Redis, per-index and process metrics with the right labels; under an in-memory span
 * exporter a Search makes its RPC span (the caller's trace id from `traceparent`, index, k, hits, code)
 * with store and Redis child spans; the access log line and the lines the call logs (an internal error)
 * carry that trace id. On the embedded engine and on the Redis store over the stand-in.
 */
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { readFileSync } from "node:fs";
import { get } from "node:http";
import http2 from "node:http2";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IndexRequest, SearchRequest, VectorServiceClient, type SearchResponse, type UpsertStreamResponse } from "../../src/gen/vecrec/v1/vecrec.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { createMetrics, type VecrecMetrics } from "../../src/observability/metrics.js";
import { startMetricsServer, type RunningMetricsServer } from "../../src/observability/metrics-server.js";
import { createObservability } from "../../src/observability/observability.js";
import { setUpTracing, type Tracing } from "../../src/observability/tracing.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { openRedisStore, STANDIN } from "../support/redis-test-backends.js";
import { healthChecker } from "./health-client.js";
import { collect, overrideStore, unary, vectorBytes } from "./harness.js";
import { sample } from "../support/prometheus-text.js";
import { grpcFrame, rawGrpcRequest } from "../support/raw-grpc.js";

/** GET http://127.0.0.1:port/path -> [status, body]. */
function httpGet(port: number, path: string): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, path }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve([response.statusCode ?? 0, body]));
    }).on("error", reject);
  });
}

/** PromQL words that are not metric names: functions, aggregations, keywords. */
const PROMQL_WORDS = new Set([
  "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "histogram_quantile", "clamp_min", "clamp_max", "by", "without",
  "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "abs", "label_values", "topk", "bottomk", "delta", "deriv", "time",
]);

/** The metric names a PromQL expression reads: identifiers outside label matchers, ranges, grouping and strings. */
function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, " ")
    .replace(/\$\w+/g, " ")
    .replace(/\b\d+(\.\d+)?(e[-+]?\d+)?\b/g, " ");
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((word) => !PROMQL_WORDS.has(word) && !/^\d/.test(word) && !/^e\d+$/.test(word));
}

const VECTOR_SERVICE = "vecrec.v1.VectorService";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const FAILING_TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const STREAM_TRACE_ID = "5cf92f3577b34da6a3ce929d0e0e4737";
const PARENT_SPAN = "00f067aa0ba902b7";
const USERS = [
  { id: "u1", vector: [0.9, 0.1, 0.0] },
  { id: "u2", vector: [0.8, 0.3, 0.1] },
  { id: "u3", vector: [0.1, 0.9, 0.2] },
];

interface Setup {
  readonly name: string;
  readonly open: (metrics: VecrecMetrics, tracing: Tracing) => Promise<{ store: VectorStore; cleanup: () => Promise<void> }>;
}

const SETUPS: Setup[] = [
  {
    name: "embedded",
    open: () => {
      const store = createEmbeddedStore();
      return Promise.resolve({ store, cleanup: () => store.close() });
    },
  },
  {
    name: "redis (stand-in)",
    // The observer main would pass to createStore: Redis round trips as metrics and child spans.
    open: (metrics, tracing) =>
      openRedisStore(STANDIN, "obs", {
        observer: createObservability({ metrics, tracing, logger: pino({ level: "silent" }), slowCallMs: 0 }).storeObserver,
      }),
  },
];

describe.each(SETUPS)("observability ($name)", (setup) => {
  let metrics: VecrecMetrics;
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();
  const logLines: Record<string, unknown>[] = [];
  let logger: Logger;
  let server: RunningServer;
  let metricsServer: RunningMetricsServer;
  let client: VectorServiceClient;
  let cleanup: () => Promise<void>;
  let address: string;

  beforeAll(async () => {
    tracing = setUpTracing({ exporter })!;
    const served: { store?: VectorStore } = {};
    metrics = createMetrics({ listIndexes: () => served.store?.listIndexes() ?? Promise.resolve([]), indexStatsCacheMs: 0 });
    const opened = await setup.open(metrics, tracing);
    cleanup = opened.cleanup;
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n")) if (line !== "") logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    logger = pino({ level: "info" }, capture);
    // A store failure vecrec does not expect, for a line the call logs (its "internal error").
    const store = overrideStore(opened.store, {
      getItems: (...args: Parameters<VectorStore["getItems"]>) =>
        args[1].includes("boom") ? Promise.reject(new Error("the disk caught fire")) : opened.store.getItems(...args),
    });
    served.store = store;
    const observability = createObservability({ metrics, tracing, logger, slowCallMs: 60_000 });
    server = await startServer({ store, listen: "127.0.0.1:0", logger, observability });
    address = `127.0.0.1:${server.port}`;
    metricsServer = await startMetricsServer("127.0.0.1:0", metrics.registry);
    client = new VectorServiceClient(address, credentials.createInsecure());

    // Calls of each kind: unary ok, unary failing, server streaming, health.
    await unary((cb) => client.index(IndexRequest.fromPartial({ indexName: "obs", defaultVectorDimension: 3 }), cb));
    await unary((cb) => client.upsert({ indexName: "obs", items: USERS.map((u) => ({ id: u.id, vector: vectorBytes(u.vector), fields: {} })) }, cb));
    const missing = await new Promise<ServiceError | null>((resolve) =>
      client.getItems({ indexName: "nope", ids: ["x"], includeVectors: false }, (error) => resolve(error)),
    );
    expect(missing?.code).toBe(5);
    exporter.reset();
    const metadata = new Metadata();
    metadata.set("traceparent", `00-${TRACE_ID}-${PARENT_SPAN}-01`);
    const request = SearchRequest.fromPartial({ indexName: "obs", query: { $case: "vector", value: vectorBytes([1, 0, 0]) }, k: 2 });
    const found = await collect<SearchResponse>(client.search(request, metadata));
    expect(found.error).toBeUndefined();
    expect(found.messages).toHaveLength(2);
    const failing = new Metadata();
    failing.set("traceparent", `00-${FAILING_TRACE_ID}-${PARENT_SPAN}-01`);
    const internal = await new Promise<ServiceError | null>((resolve) =>
      client.getItems({ indexName: "obs", ids: ["boom"], includeVectors: false }, failing, (error) => resolve(error)),
    );
    expect(internal?.code).toBe(13);
    const health = healthChecker(address);
    expect(await health.check("")).toBe("SERVING");
    health.close();
  });

  afterAll(async () => {
    client?.close();
    await server?.close({ graceMs: 1000 });
    await metricsServer?.close();
    await tracing?.shutdown();
    await cleanup?.();
  });

  it("/metrics over HTTP: gRPC counters and histograms with go-grpc-prometheus labels", async () => {
    const [status, text] = await httpGet(metricsServer.port, "/metrics");
    expect(status).toBe(200);
    const unaryLabels = (method: string) => ({ grpc_type: "unary", grpc_service: VECTOR_SERVICE, grpc_method: method });
    const searchLabels = { grpc_type: "server_stream", grpc_service: VECTOR_SERVICE, grpc_method: "Search" };
    expect(sample(text, "grpc_server_started_total", unaryLabels("Upsert"))).toBe(1);
    expect(sample(text, "grpc_server_handled_total", { ...unaryLabels("Upsert"), grpc_code: "OK" })).toBe(1);
    expect(sample(text, "grpc_server_handled_total", { ...unaryLabels("GetItems"), grpc_code: "NotFound" })).toBe(1);
    expect(sample(text, "grpc_server_handled_total", { ...searchLabels, grpc_code: "OK" })).toBe(1);
    expect(sample(text, "grpc_server_handling_seconds_count", searchLabels)).toBe(1);
    expect(sample(text, "grpc_server_handling_seconds_bucket", { ...searchLabels, le: "+Inf" })).toBe(1);
    expect(sample(text, "grpc_server_msg_received_total", searchLabels)).toBe(1);
    expect(sample(text, "grpc_server_msg_sent_total", searchLabels)).toBe(2);
    expect(sample(text, "vecrec_grpc_server_msg_sent_per_call_sum", searchLabels)).toBe(2);
    expect(sample(text, "vecrec_grpc_server_calls_in_flight", searchLabels)).toBe(0);
    expect(
      sample(text, "grpc_server_handled_total", { grpc_type: "unary", grpc_service: "grpc.health.v1.Health", grpc_method: "Check", grpc_code: "OK" }),
    ).toBe(1);
  });

  it("/metrics: store, per-index and process metrics", async () => {
    const [, text] = await httpGet(metricsServer.port, "/metrics");
    const backend = setup.name === "embedded" ? "embedded" : "redis";
    expect(sample(text, "vecrec_store_up", { backend })).toBe(1);
    expect(sample(text, "vecrec_store_reconnects_total", { backend })).toBe(0);
    expect(sample(text, "vecrec_store_operation_duration_seconds_count", { backend, operation: "search" })).toBe(1);
    expect(sample(text, "vecrec_store_operation_duration_seconds_count", { backend, operation: "upsert" })).toBe(1);
    expect(sample(text, "vecrec_index_items", { index: "obs" })).toBe(3);
    expect(sample(text, "vecrec_index_indexing_progress", { index: "obs" })).toBe(1);
    expect(sample(text, "vecrec_index_indexing_failures", { index: "obs" })).toBe(0);
    expect(sample(text, "vecrec_index_stats_fresh")).toBe(1);
    expect(sample(text, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    if (backend === "redis") {
      expect(sample(text, "vecrec_redis_command_duration_seconds_count", { command: "FT.SEARCH" })).toBeGreaterThanOrEqual(1);
      expect(sample(text, "vecrec_redis_command_duration_seconds_count", { command: "FT.CREATE" })).toBeGreaterThanOrEqual(1);
      expect(sample(text, "vecrec_redis_command_errors_total", { command: "FT.SEARCH" }) ?? 0).toBe(0);
    }
    const [notFound] = await httpGet(metricsServer.port, "/nope");
    expect(notFound).toBe(404);
  });

  it("the Grafana dashboard (deploy/grafana/vecrec.json) queries only metrics this /metrics exposes", async () => {
    if (setup.name === "embedded") return; // the Redis setup exposes every metric, Redis commands included
    const [, text] = await httpGet(metricsServer.port, "/metrics");
    // Sample names, and the names /metrics declares (# TYPE) with a histogram's series: a labelled counter
    // no call has touched yet (Redis errors) has no sample but is declared.
    const exposed = new Set(text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)?.[0]));
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exposed.add(name);
      if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) exposed.add(`${name}${suffix}`);
    }
    const dashboard = JSON.parse(readFileSync("deploy/grafana/vecrec.json", "utf8")) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(15);
    const names = new Set(exprs.flatMap(promqlMetricNames));
    expect(names.size).toBeGreaterThan(10);
    const missing = [...names].filter((name) => !exposed.has(name));
    expect(missing).toEqual([]);
  });

  it("traces a Search: RPC span in the caller's trace, with its scan or Redis round-trip child span", async () => {
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const rpc = spans.find((s) => s.name === `${VECTOR_SERVICE}/Search`);
    expect(rpc).toBeDefined();
    const root = rpc as ReadableSpan;
    expect(root.spanContext().traceId).toBe(TRACE_ID);
    expect(root.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(root.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": VECTOR_SERVICE,
      "rpc.method": "Search",
      "rpc.grpc.status_code": 0,
      "vecrec.index": "obs",
      "vecrec.k": 2,
      "vecrec.hits": 2,
    });
    if (setup.name === "embedded") {
      // The scan: the store operation's span.
      const scan = spans.find((s) => s.name === "embedded search");
      expect(scan?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      expect(scan?.spanContext().traceId).toBe(TRACE_ID);
    } else {
      // One round trip: the store operation is folded into it (no span of its own), the FT.SEARCH span
      // is the RPC span's child and names the operation.
      expect(spans.find((s) => s.name === "redis search")).toBeUndefined();
      const ftSearch = spans.find((s) => s.name === "redis FT.SEARCH");
      expect(ftSearch?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      expect(ftSearch?.spanContext().traceId).toBe(TRACE_ID);
      expect(ftSearch?.attributes).toMatchObject({ "db.system.name": "redis", "db.operation.name": "FT.SEARCH", "vecrec.store_operation": "search" });
    }
  });

  it("traces an UpsertStream (requests streamed): its store writes are children of its RPC span", async () => {
    exporter.reset();
    const metadata = new Metadata();
    metadata.set("traceparent", `00-${STREAM_TRACE_ID}-${PARENT_SPAN}-01`);
    const call = client.upsertStream(metadata);
    const acks = collect<UpsertStreamResponse>(call);
    call.write({ indexName: "obs", items: [{ id: "s1", vector: vectorBytes([0, 0, 1]), fields: {} }] });
    call.write({ indexName: "obs", items: [{ id: "s2", vector: vectorBytes([0, 1, 1]), fields: {} }] });
    call.end();
    const got = await acks;
    expect(got.error).toBeUndefined();
    expect(got.messages).toHaveLength(2);
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const rpc = spans.find((s) => s.name === `${VECTOR_SERVICE}/UpsertStream`);
    expect(rpc?.spanContext().traceId).toBe(STREAM_TRACE_ID);
    expect(rpc?.attributes["vecrec.index"]).toBe("obs");
    const backend = setup.name === "embedded" ? "embedded" : "redis";
    const writes = spans.filter((s) => s.name === `${backend} upsert`);
    expect(writes).toHaveLength(2);
    for (const write of writes) expect(write.parentSpanContext?.spanId).toBe(rpc?.spanContext().spanId);
    if (backend === "redis") {
      const writeIds = new Set(writes.map((w) => w.spanContext().spanId));
      const roundTrips = spans.filter((s) => s.name.startsWith("redis ") && s.name !== "redis upsert" && writeIds.has(s.parentSpanContext?.spanId ?? ""));
      expect(roundTrips.length).toBeGreaterThanOrEqual(2);
    }
  });

  it("logs one access line per call with the trace id, and the trace id on the lines the call logs", () => {
    const access = logLines.find((l) => l.msg === "call" && l.method === "Search");
    expect(access).toMatchObject({
      level: 30,
      service: VECTOR_SERVICE,
      index: "obs",
      code: "OK",
      messages: 2,
      trace_id: TRACE_ID,
    });
    expect(typeof access?.ms).toBe("number");
    expect(String(access?.peer)).toMatch(/127\.0\.0\.1/);
    const internal = logLines.find((l) => l.msg === "internal error");
    expect(internal).toMatchObject({ level: 50, method: "GetItems", trace_id: FAILING_TRACE_ID });
    expect(internal?.span_id).toMatch(/^[0-9a-f]{16}$/);
    const failedAccess = logLines.find((l) => l.msg === "call" && l.method === "GetItems" && l.code === "Internal");
    expect(failedAccess).toMatchObject({ code: "Internal", trace_id: FAILING_TRACE_ID, span_id: internal?.span_id });
    const notFound = logLines.find((l) => l.msg === "call" && l.method === "GetItems");
    expect(notFound).toMatchObject({ code: "NotFound", index: "nope" });
    // Health checks log at debug only: not in an info log.
    expect(logLines.some((l) => l.method === "Check")).toBe(false);
  });
});

/** A logger at `level` whose JSON lines are collected in `lines`. */
function capturedLog(level: string): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level }, capture) };
}

describe("slow calls and tracing off", () => {
  it("logs a call at or over --slow-call-ms at warn, and the incoming trace id without a tracer", async () => {
    const { lines, logger } = capturedLog("info");
    const inner = createEmbeddedStore();
    // listIndexes takes at least 20 ms here, so the call is at least as slow as the 10 ms threshold.
    const store = overrideStore(inner, {
      listIndexes: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return inner.listIndexes();
      },
    });
    const server = await startServer({ store, listen: "127.0.0.1:0", logger, observability: createObservability({ logger, slowCallMs: 10 }) });
    const client = new VectorServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
    try {
      const metadata = new Metadata();
      metadata.set("traceparent", `00-${TRACE_ID}-${PARENT_SPAN}-01`);
      await unary((cb) => client.listIndexes({}, metadata, cb));
      const line = lines.find((l) => l.method === "ListIndexes");
      expect(line).toMatchObject({ level: 40, msg: "slow call (10 ms or more)", code: "OK", trace_id: TRACE_ID });
      expect(line?.ms as number).toBeGreaterThanOrEqual(10);
    } finally {
      client.close();
      await server.close({ graceMs: 1000 });
      await inner.close();
    }
  });
});

describe("statuses grpc-js sends itself, the health-only port, a cancelled call's peer", () => {
  it("counts a passed deadline DeadlineExceeded and a health message past 16 KiB ResourceExhausted (not Canceled), health-listen calls too, and logs a cancelled call's peer", async () => {
    const { lines, logger } = capturedLog("debug");
    const inner = createEmbeddedStore();
    const waiting: (() => void)[] = [];
    const release = (): void => {
      for (const go of waiting.splice(0)) go();
    };
    const store = overrideStore(inner, {
      listIndexes: async () => {
        await new Promise<void>((resolve) => waiting.push(resolve));
        return inner.listIndexes();
      },
    });
    const metrics = createMetrics({});
    const server = await startServer({
      store,
      listen: "127.0.0.1:0",
      logger,
      security: { healthListen: "127.0.0.1:0" },
      observability: createObservability({ metrics, logger, slowCallMs: 0 }),
    });
    const client = new VectorServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const health = healthChecker(`127.0.0.1:${server.port}`);
    const healthOnly = healthChecker(`127.0.0.1:${server.healthPort}`);
    try {
      // grpc-js ends the call itself when its deadline passes (the handler is still waiting). A raw
      // HTTP/2 request, so that no client timer cancels it first (a grpc-js client's would race it).
      const { session, stream: request } = rawGrpcRequest(`127.0.0.1:${server.port}`, "/vecrec.v1.VectorService/ListIndexes", { "grpc-timeout": "200m" });
      request.end(grpcFrame(Buffer.alloc(0))); // one empty ListIndexesRequest
      const lateStatus = await new Promise<string | undefined>((resolve) => {
        request.on("trailers", (trailers: http2.IncomingHttpHeaders) => resolve(String(trailers["grpc-status"])));
        request.on("response", (headers: http2.IncomingHttpHeaders) => {
          if (headers["grpc-status"] !== undefined) resolve(String(headers["grpc-status"]));
        });
        request.on("close", () => resolve(undefined));
        request.resume();
      });
      session.close();
      expect(lateStatus).toBe("4");
      release();
      await expect(health.check("x".repeat(20_000))).rejects.toMatchObject({ code: 8 });
      expect(await healthOnly.check("")).toBe("SERVING");
      // A call cancelled by its client while the server works on it: its access line still names the peer.
      const cancelledCall = client.listIndexes({}, () => undefined);
      while (waiting.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      cancelledCall.cancel();
      const isCancelledLine = (l: Record<string, unknown>): boolean => l.msg === "call" && l.method === "ListIndexes" && l.code === "Canceled";
      for (let i = 0; i < 250 && !lines.some(isCancelledLine); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      const text = await metrics.registry.metrics();
      const unaryCall = (service: string, method: string, code: string) => ({ grpc_type: "unary", grpc_service: service, grpc_method: method, grpc_code: code });
      expect(sample(text, "grpc_server_handled_total", unaryCall(VECTOR_SERVICE, "ListIndexes", "DeadlineExceeded"))).toBe(1);
      expect(sample(text, "grpc_server_handled_total", unaryCall("grpc.health.v1.Health", "Check", "ResourceExhausted"))).toBe(1);
      // The health-only port's Check is counted with the main port's (one OK there).
      expect(sample(text, "grpc_server_handled_total", unaryCall("grpc.health.v1.Health", "Check", "OK"))).toBe(1);
      expect(sample(text, "grpc_server_handled_total", unaryCall(VECTOR_SERVICE, "ListIndexes", "Canceled"))).toBe(1);
      const cancelled = lines.find(isCancelledLine);
      expect(String(cancelled?.peer)).toMatch(/^127\.0\.0\.1:\d+$/);
    } finally {
      release();
      client.close();
      health.close();
      healthOnly.close();
      await server.close({ graceMs: 1000 });
      await inner.close();
    }
  });
});
