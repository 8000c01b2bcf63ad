/**
 * The cost of observability on Search latency (issue 12): two vecrec servers in this process over one
 * embedded store of `items` random vectors, one as `npm start` runs by default (access log only: the
 * call interceptor without metrics or tracer) and one with metrics (prom-client) and tracing (an
 * InMemorySpanExporter, emptied as it goes) on; the same Search (k=10, a query vector) sent to each in
 * turn over gRPC on loopback, interleaved (bench/stats.ts). Both log the access line at info to
 * /dev/null, so the difference is metrics + spans + the store proxy.
 */
import { credentials, type ClientReadableStream } from "@grpc/grpc-js";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { SearchRequest, VectorServiceClient, type SearchResponse } from "../src/gen/vecrec/v1/vecrec.js";
import { startServer } from "../src/main.js";
import { createMetrics } from "../src/observability/metrics.js";
import { createObservability } from "../src/observability/observability.js";
import { setUpTracing } from "../src/observability/tracing.js";
import { createEmbeddedStore } from "../src/store/embedded/embedded-store.js";
import { createRandom, interleavedLatency, quantile } from "./stats.js";

export interface ObservabilityFigures {
  readonly items: number;
  readonly dim: number;
  readonly calls: number;
  readonly offMedianMs: number;
  readonly offP95Ms: number;
  readonly onMedianMs: number;
  readonly onP95Ms: number;
}

function drain(call: ClientReadableStream<SearchResponse>): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    call.on("data", () => n++);
    call.on("error", reject);
    call.on("end", () => resolve(n));
  });
}

export async function benchObservability(items: number, dim: number, calls: number): Promise<ObservabilityFigures> {
  const store = createEmbeddedStore();
  const logger = pino({ level: "info" }, pino.destination({ dest: "/dev/null", sync: false }));
  const exporter = new InMemorySpanExporter();
  const tracing = setUpTracing({ exporter, batch: true }); // batched, as the OTLP exporter is
  if (tracing === undefined) throw new Error("tracing did not start");
  const off = await startServer({ store, listen: "127.0.0.1:0", logger, observability: createObservability({ logger, slowCallMs: 1000 }) });
  const metrics = createMetrics({ listIndexes: () => store.listIndexes() });
  const on = await startServer({
    store,
    listen: "127.0.0.1:0",
    logger,
    observability: createObservability({ metrics, tracer: tracing.tracer, logger, slowCallMs: 1000 }),
  });
  const offClient = new VectorServiceClient(`127.0.0.1:${off.port}`, credentials.createInsecure());
  const onClient = new VectorServiceClient(`127.0.0.1:${on.port}`, credentials.createInsecure());
  try {
    const random = createRandom(7);
    const index = "bench-observability";
    await new Promise<void>((resolve, reject) =>
      offClient.index({ indexName: index, defaultVectorDimension: dim, fields: [], interests: undefined }, (error) => (error ? reject(error) : resolve())),
    );
    for (let start = 0; start < items; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, items - start) }, (_, i) => {
        const vector = Buffer.from(Float32Array.from({ length: dim }, () => random() * 2 - 1).buffer);
        return { id: `item:${start + i}`, vector: { encoding: { $case: "float32Le" as const, value: vector } }, fields: {} };
      });
      await new Promise<void>((resolve, reject) =>
        offClient.upsert({ indexName: index, items: batch }, (error) => (error ? reject(error) : resolve())),
      );
    }
    const query = Buffer.from(Float32Array.from({ length: dim }, () => random() * 2 - 1).buffer);
    const request = SearchRequest.fromPartial({ indexName: index, query: { $case: "vector", value: { encoding: { $case: "float32Le", value: query } } }, k: 10 });
    let spans = 0;
    const [offMs, onMs] = await interleavedLatency(
      [
        () => drain(offClient.search(request)),
        async () => {
          await drain(onClient.search(request));
          if (++spans % 200 === 0) exporter.reset();
        },
      ],
      calls,
    );
    return {
      items,
      dim,
      calls,
      offMedianMs: quantile(offMs!, 0.5),
      offP95Ms: quantile(offMs!, 0.95),
      onMedianMs: quantile(onMs!, 0.5),
      onP95Ms: quantile(onMs!, 0.95),
    };
  } finally {
    offClient.close();
    onClient.close();
    await off.close({ graceMs: 1000 });
    await on.close({ graceMs: 1000 });
    await tracing.shutdown();
    await store.close();
  }
}
