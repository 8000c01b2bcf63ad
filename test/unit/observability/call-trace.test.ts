import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { afterRepliesRun } from "../../../src/observability/after-reply.js";
import { CallTrace, MAX_PENDING_RECORDS } from "../../../src/observability/call-trace.js";
import { setUpTracing } from "../../../src/observability/tracing.js";

const exporter = new InMemorySpanExporter();
const tracing = setUpTracing({ exporter })!;
const nextTurn = afterRepliesRun;

describe("CallTrace", () => {
  beforeEach(() => exporter.reset());
  afterAll(() => tracing.shutdown());

  it("hands its spans to the SDK only after the call ended, with the times they had", async () => {
    const start = performance.now();
    const call = new CallTrace(tracing, ROOT_CONTEXT, "svc/Search", start, { "rpc.method": "Search" });
    call.setAttribute("vecrec.index", "books");
    const store = call.startChild("redis search", SpanKind.INTERNAL, {})!;
    const command = call.startChild("redis FT.SEARCH", SpanKind.CLIENT, { "db.system.name": "redis" }, store)!;
    call.endChild(command, "READONLY You can't write against a read only replica.");
    call.endChild(store);
    const endedAt = performance.now();
    call.end(endedAt, { "rpc.grpc.status_code": 0 }, undefined);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await nextTurn();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(["redis FT.SEARCH", "redis search", "svc/Search"]);
    const root = spans.find((s) => s.name === "svc/Search")!;
    const storeSpan = spans.find((s) => s.name === "redis search")!;
    const commandSpan = spans.find((s) => s.name === "redis FT.SEARCH")!;
    expect(root.attributes).toMatchObject({ "rpc.method": "Search", "vecrec.index": "books", "rpc.grpc.status_code": 0 });
    expect(storeSpan.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(commandSpan.parentSpanContext?.spanId).toBe(storeSpan.spanContext().spanId);
    expect(commandSpan.status.code).toBe(SpanStatusCode.ERROR);
    expect(commandSpan.status.message).toContain("READONLY");
    // Dated from when they happened, not from when they were handed over.
    const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
    expect(ms(root.endTime) - ms(root.startTime)).toBeCloseTo(endedAt - start, 0);
    expect(ms(commandSpan.startTime)).toBeGreaterThanOrEqual(ms(storeSpan.startTime));
    expect(ms(storeSpan.endTime)).toBeLessThanOrEqual(ms(root.endTime));
  });

  it("creates the call's span early when its ids are asked for (a log line), and keeps them", async () => {
    const call = new CallTrace(tracing, ROOT_CONTEXT, "svc/GetItems", performance.now(), {});
    const ids = call.ids();
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
    call.end(performance.now(), { "rpc.grpc.status_code": 13 }, "Internal: boom");
    await nextTurn();
    const [root] = exporter.getFinishedSpans();
    expect(root?.spanContext()).toMatchObject({ traceId: ids.traceId, spanId: ids.spanId });
    expect(root?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "Internal: boom" });
  });

  it("hands finished children over in batches during a long call, under a still running parent", async () => {
    const call = new CallTrace(tracing, ROOT_CONTEXT, "svc/ExportItems", performance.now(), {});
    const scan = call.startChild("redis exportItems", SpanKind.INTERNAL, {})!;
    const rounds = MAX_PENDING_RECORDS * 3;
    for (let i = 0; i < rounds; i++) call.endChild(call.startChild("redis FT.SEARCH", SpanKind.CLIENT, {}, scan)!);
    // Before the call's end: the finished round trips were handed over (at most one batch is pending).
    const early = exporter.getFinishedSpans();
    expect(early.length).toBeGreaterThanOrEqual(rounds - MAX_PENDING_RECORDS);
    const scanSpanId = early[0]!.parentSpanContext?.spanId;
    expect(early.every((s) => s.parentSpanContext?.spanId === scanSpanId)).toBe(true);
    call.endChild(scan);
    call.end(performance.now(), {}, undefined);
    await nextTurn();
    const spans = exporter.getFinishedSpans();
    expect(spans.filter((s) => s.name === "redis FT.SEARCH")).toHaveLength(rounds);
    expect(spans.find((s) => s.name === "redis exportItems")?.spanContext().spanId).toBe(scanSpanId);
  });

  it("ends a child still running with the call, marked unfinished; records nothing after the end", async () => {
    const call = new CallTrace(tracing, ROOT_CONTEXT, "svc/Search", performance.now(), {});
    const late = call.startChild("redis FT.SEARCH", SpanKind.CLIENT, {})!;
    call.end(performance.now(), {}, "Cancelled: gone");
    expect(call.startChild("redis HSET", SpanKind.CLIENT, {})).toBeUndefined();
    await nextTurn();
    call.endChild(late);
    const command = exporter.getFinishedSpans().find((s) => s.name === "redis FT.SEARCH");
    expect(command?.attributes["vecrec.unfinished"]).toBe(true);
    expect(exporter.getFinishedSpans()).toHaveLength(2);
  });

  it("folds a grouping record with one child into it, and keeps one with two children or an error", async () => {
    const fold = { "vecrec.store_operation": "search" };
    const call = new CallTrace(tracing, ROOT_CONTEXT, "svc/Recommend", performance.now(), {});
    const single = call.startChild("redis search", SpanKind.INTERNAL, {}, undefined, fold)!;
    call.endChild(call.startChild("redis FT.SEARCH", SpanKind.CLIENT, { "db.system.name": "redis" }, single)!);
    call.endChild(single);
    const double = call.startChild("redis recommend", SpanKind.INTERNAL, {}, undefined, { "vecrec.store_operation": "recommend" })!;
    call.endChild(call.startChild("redis HMGET", SpanKind.CLIENT, {}, double)!);
    call.endChild(call.startChild("redis FT.SEARCH", SpanKind.CLIENT, {}, double)!);
    call.endChild(double);
    const failing = call.startChild("redis getItems", SpanKind.INTERNAL, {}, undefined, { "vecrec.store_operation": "getItems" })!;
    call.endChild(call.startChild("redis HGETALL", SpanKind.CLIENT, {}, failing)!);
    call.endChild(failing, "unexpected reply");
    call.end(performance.now(), {}, undefined);
    await nextTurn();
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === "svc/Recommend")!;
    const byName = (name: string) => spans.filter((s) => s.name === name);
    expect(byName("redis search")).toHaveLength(0);
    const folded = byName("redis FT.SEARCH").find((s) => s.attributes["vecrec.store_operation"] === "search");
    expect(folded?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(folded?.attributes["db.system.name"]).toBe("redis");
    const group = byName("redis recommend")[0]!;
    expect(spans.filter((s) => s.parentSpanContext?.spanId === group.spanContext().spanId).map((s) => s.name).sort()).toEqual(["redis FT.SEARCH", "redis HMGET"]);
    const failed = byName("redis getItems")[0]!;
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(byName("redis HGETALL")[0]?.parentSpanContext?.spanId).toBe(failed.spanContext().spanId);
  });
});

describe("CallTrace over OTLP", () => {
  it("exports the SERVER span and its recorded children to an OTLP/HTTP collector, with their ids and parents", async () => {
    const bodies: Buffer[] = [];
    const collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        bodies.push(Buffer.concat(chunks));
        response.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const saved = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const otlp = setUpTracing({ env: { OTEL_TRACES_EXPORTER: "otlp", OTEL_SERVICE_NAME: "vecrec-otlp-test" } })!;
    try {
      const call = new CallTrace(otlp, ROOT_CONTEXT, "svc/Recommend", performance.now(), {});
      const ids = call.ids();
      const group = call.startChild("redis recommend", SpanKind.INTERNAL, {}, undefined, { "vecrec.store_operation": "recommend" })!;
      call.endChild(call.startChild("redis HMGET", SpanKind.CLIENT, { "db.operation.name": "HMGET" }, group)!);
      call.endChild(call.startChild("redis FT.SEARCH", SpanKind.CLIENT, { "db.operation.name": "FT.SEARCH" }, group)!, "Timeout");
      call.endChild(group);
      call.end(performance.now(), { "rpc.grpc.status_code": 0 }, undefined);
      await otlp.flush();
      const body = Buffer.concat(bodies);
      for (const text of ["svc/Recommend", "redis recommend", "redis HMGET", "redis FT.SEARCH", "vecrec-otlp-test", "Timeout", "FT.SEARCH"]) {
        expect(body.includes(Buffer.from(text)), text).toBe(true);
      }
      // Trace id 16 bytes, the SERVER span's id as the parent of the group (8 bytes each), in binary.
      expect(body.includes(Buffer.from(ids.traceId, "hex"))).toBe(true);
      expect(body.includes(Buffer.from(ids.spanId, "hex"))).toBe(true);
    } finally {
      await otlp.shutdown();
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = saved;
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
