/**
 * OpenTelemetry tracing, on only when the standard variables ask for it:
 * - `OTEL_TRACES_EXPORTER` = `otlp` (OTLP over HTTP/protobuf, @opentelemetry/exporter-trace-otlp-proto,
 *   which reads `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `_HEADERS`,
 *   `_TIMEOUT`...) or `console` (spans printed to stdout, for a look);
 * - or `OTEL_TRACES_EXPORTER` unset and an OTLP endpoint set: otlp;
 * - `OTEL_TRACES_EXPORTER=none`, `OTEL_SDK_DISABLED=true`, or nothing set: off. Then no tracer provider
 *   exists, the interceptor starts no span and stores get no tracing hooks: no cost beyond one check.
 * `OTEL_SERVICE_NAME` names the service (default vecrec); `OTEL_TRACES_SAMPLER(_ARG)` is honoured by the
 * SDK (default parentbased_always_on: an incoming sampled `traceparent` is followed).
 *
 * The provider is not registered as the global one and no context manager is installed: vecrec's
 * tracer is passed to what starts spans, and each span's parent is given explicitly (the call's context
 * travels with the call: src/grpc/call-annotations.ts). An async-hooks context manager would cost every
 * promise of the process on Node 20, traced or not.
 */
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-node";
import { packageVersion } from "../version.js";
import { afterRepliesRun } from "./after-reply.js";
import type { TraceSink } from "./call-trace.js";

/** The tracer (a call's SERVER span) and the span processor its child spans go to (call-trace.ts). */
export interface Tracing extends TraceSink {
  /** Hands the spans of the calls ended so far to the exporter. */
  flush(): Promise<void>;
  /** Flushes pending spans and stops exporting. */
  shutdown(): Promise<void>;
}

export type TracesExporterChoice = "otlp" | "console" | "none";

/** What the OTEL_* variables ask for. @throws Error naming an exporter vecrec does not ship. */
export function tracesExporterFromEnv(env: NodeJS.ProcessEnv): TracesExporterChoice {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return "none";
  const listed = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  if (listed.length === 0) {
    const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "";
    return endpoint.trim() !== "" ? "otlp" : "none";
  }
  if (listed.includes("none")) return "none";
  const unknown = listed.filter((name) => name !== "otlp" && name !== "console");
  if (unknown.length > 0) throw new Error(`OTEL_TRACES_EXPORTER: ${unknown.join(", ")} is not supported (otlp, console or none)`);
  return listed.includes("otlp") ? "otlp" : "console";
}

/**
 * Tracing with `exporter` (tests: an InMemorySpanExporter, spans handed over as they end; `batch`: in
 * batches, as the OTLP exporter gets them), or as the
 * environment says (undefined when off).
 */
export function setUpTracing(options: { env?: NodeJS.ProcessEnv; exporter?: SpanExporter; batch?: boolean }): Tracing | undefined {
  const env = options.env ?? {};
  let processor: SpanProcessor;
  if (options.exporter !== undefined) {
    processor = options.batch === true ? new BatchSpanProcessor(options.exporter) : new SimpleSpanProcessor(options.exporter);
  } else {
    const choice = tracesExporterFromEnv(env);
    if (choice === "none") return undefined;
    processor = choice === "otlp" ? new BatchSpanProcessor(new OTLPTraceExporter()) : new SimpleSpanProcessor(new ConsoleSpanExporter());
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      "service.name": (env.OTEL_SERVICE_NAME ?? "").trim() || "vecrec",
      "service.version": packageVersion(),
    }),
    spanProcessors: [processor],
  });
  return {
    tracer: provider.getTracer("vecrec", packageVersion()),
    processor,
    // The spans of a call that just ended are handed to the SDK after its reply (after-reply.ts).
    flush: () => afterRepliesRun().then(() => provider.forceFlush()),
    shutdown: () => afterRepliesRun().then(() => provider.shutdown()),
  };
}
