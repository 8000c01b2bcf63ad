/**
 * Metrics, tracing and call logs put together for one serving process: what main wires in. Everything
 * is optional: without metrics and tracing, the interceptor still writes access logs and carries trace
 * ids from `traceparent`, and stores get no observer.
 */
import type { ServerInterceptor } from "@grpc/grpc-js";
import { SpanKind, type Attributes } from "@opentelemetry/api";
import type { Logger } from "pino";
import { annotationsOfSignal } from "../grpc/call-annotations.js";
import type { StoreObserver } from "../store/store-observer.js";
import type { VectorStore } from "../store/vector-store.js";
import { createCallInterceptor } from "./call-interceptor.js";
import type { CallTrace, ChildRecord, TraceSink } from "./call-trace.js";
import type { VecrecMetrics } from "./metrics.js";
import { observeStore } from "./observed-store.js";

export interface ObservabilityOptions {
  readonly metrics?: VecrecMetrics;
  /** Tracing on: where the calls' spans go. */
  readonly tracing?: TraceSink;
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

/**
 * Redis round trips: latency/errors by command, and a CLIENT span under the store operation's (or the
 * call's) span, found by the call's signal, only for a traced call.
 */
export function createStoreObserver(metrics: VecrecMetrics | undefined, tracing: TraceSink | undefined): StoreObserver | undefined {
  if (metrics === undefined && tracing === undefined) return undefined;
  const attributesOf = new Map<string, Attributes>(); // per command, built once
  return {
    redisCommand(command, signal) {
      const started = performance.now();
      let callTrace: CallTrace | undefined;
      let record: ChildRecord | undefined;
      if (tracing !== undefined) {
        const annotations = annotationsOfSignal(signal);
        callTrace = annotations?.trace as CallTrace | undefined;
        if (callTrace !== undefined) {
          let attributes = attributesOf.get(command);
          if (attributes === undefined) {
            attributes = { "db.system.name": "redis", "db.operation.name": command };
            attributesOf.set(command, attributes);
          }
          record = callTrace.startChild(`redis ${command}`, SpanKind.CLIENT, attributes, annotations!.operation as ChildRecord | undefined);
        }
      }
      return (error) => {
        metrics?.redisCommand(command, (performance.now() - started) / 1000, error !== undefined);
        if (record !== undefined) callTrace!.endChild(record, error === undefined ? undefined : errorMessage(error));
      };
    },
  };
}

export function createObservability(options: ObservabilityOptions): Observability {
  const { metrics, tracing } = options;
  return {
    interceptor: createCallInterceptor(options),
    storeObserver: createStoreObserver(metrics, tracing),
    observeStore(store) {
      if (metrics !== undefined) {
        const backend = store.backend;
        metrics.storeAvailability(backend, store.isAvailable?.() ?? true);
        store.onAvailabilityChange?.((available) => metrics.storeAvailability(backend, available));
      }
      return metrics === undefined && tracing === undefined ? store : observeStore(store, { metrics, traced: tracing !== undefined });
    },
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === "string" ? error : "failed";
}
