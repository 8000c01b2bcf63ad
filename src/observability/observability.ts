/**
 * Metrics, tracing and call logs put together for one serving process: what main wires in. Everything
 * is optional: without metrics and tracing, the interceptor still writes access logs and carries trace
 * ids from `traceparent`, and stores get no observer.
 */
import type { ServerInterceptor } from "@grpc/grpc-js";
import { SpanKind, SpanStatusCode, context, trace, type Span, type SpanOptions, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { StoreObserver } from "../store/store-observer.js";
import type { VectorStore } from "../store/vector-store.js";
import { createCallInterceptor } from "./call-interceptor.js";
import type { VecrecMetrics } from "./metrics.js";
import { observeStore } from "./observed-store.js";

export interface ObservabilityOptions {
  readonly metrics?: VecrecMetrics;
  readonly tracer?: Tracer;
  readonly logger: Logger;
  /** Calls lasting this long or longer are logged at warn; 0 = never. */
  readonly slowCallMs: number;
}

export interface Observability {
  /** The server interceptor (metrics, span, access log). */
  readonly interceptor: ServerInterceptor;
  /** For createStore: Redis round trips as metrics and child spans; undefined when neither is on. */
  readonly storeObserver: StoreObserver | undefined;
  /** The store the use cases should call: operations timed and traced; `store` itself when neither is on. */
  observeStore(store: VectorStore): VectorStore;
}

/** Redis round trips: latency/errors by command, and a CLIENT span under the call's (only inside a call). */
export function createStoreObserver(metrics: VecrecMetrics | undefined, tracer: Tracer | undefined): StoreObserver | undefined {
  if (metrics === undefined && tracer === undefined) return undefined;
  const spanOptions = new Map<string, SpanOptions>(); // per command, built once
  return {
    redisCommand(command) {
      const started = performance.now();
      let span: Span | undefined;
      if (tracer !== undefined) {
        const parent = context.active();
        if (trace.getSpan(parent) !== undefined) {
          let options = spanOptions.get(command);
          if (options === undefined) {
            options = { kind: SpanKind.CLIENT, attributes: { "db.system.name": "redis", "db.operation.name": command } };
            spanOptions.set(command, options);
          }
          span = tracer.startSpan(`redis ${command}`, options, parent);
        }
      }
      return (error) => {
        metrics?.redisCommand(command, (performance.now() - started) / 1000, error !== undefined);
        if (span !== undefined) {
          if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
          span.end();
        }
      };
    },
  };
}

export function createObservability(options: ObservabilityOptions): Observability {
  const { metrics, tracer } = options;
  return {
    interceptor: createCallInterceptor(options),
    storeObserver: createStoreObserver(metrics, tracer),
    observeStore(store) {
      if (metrics !== undefined) {
        const backend = store.backend;
        metrics.storeAvailability(backend, store.isAvailable?.() ?? true);
        store.onAvailabilityChange?.((available) => metrics.storeAvailability(backend, available));
      }
      return metrics === undefined && tracer === undefined ? store : observeStore(store, { metrics, tracer });
    },
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === "string" ? error : "failed";
}
