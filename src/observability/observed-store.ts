/**
 * A VectorStore that times each operation (search, upsert, getItems...) for metrics and, with tracing
 * on, runs it inside a child span of the call (`embedded search`, `redis upsert`...), so that the Redis
 * round trips it makes nest under it and an embedded scan has its own span. Built as a Proxy, so that
 * methods added to the port later are covered without a change here; cheap or synchronous members
 * (availability, the spec cache, close) pass through untouched.
 */
import { SpanKind, SpanStatusCode, context, trace, type Tracer } from "@opentelemetry/api";
import type { VectorStore } from "../store/vector-store.js";
import type { VecrecMetrics } from "./metrics.js";

const PASS_THROUGH = new Set<PropertyKey>(["isAvailable", "onAvailabilityChange", "getIndexSpec", "close", "then", "constructor"]);

export function observeStore(store: VectorStore, hooks: { metrics?: VecrecMetrics; tracer?: Tracer }): VectorStore {
  const { metrics, tracer } = hooks;
  const backend = store.backend;
  const wrappers = new Map<PropertyKey, unknown>();
  const attributes = { "vecrec.backend": backend };
  // The embedded engine makes no round trips: nothing can nest under its spans, so the operation does not
  // need to run inside its span's context (one async-context switch less per call).
  const nests = backend !== "embedded";

  const wrap = (name: string, method: (...args: unknown[]) => unknown) => {
    const spanName = `${backend} ${name}`;
    return function observed(...args: unknown[]): unknown {
      const started = performance.now();
      const parent = tracer !== undefined ? context.active() : undefined;
      const span = tracer !== undefined && trace.getSpan(parent!) !== undefined
        ? tracer.startSpan(spanName, { kind: SpanKind.INTERNAL, attributes }, parent)
        : undefined;
      const end = (error?: unknown): void => {
        metrics?.storeOperation(backend, name, (performance.now() - started) / 1000, error !== undefined);
        if (span !== undefined) {
          if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
          span.end();
        }
      };
      let result: unknown;
      try {
        result = span !== undefined && nests ? context.with(trace.setSpan(parent!, span), () => method.apply(store, args)) : method.apply(store, args);
      } catch (error) {
        end(error);
        throw error;
      }
      if (result instanceof Promise) {
        return result.then(
          (value: unknown) => {
            end();
            return value;
          },
          (error: unknown) => {
            end(error ?? new Error("rejected"));
            throw error;
          },
        );
      }
      end();
      return result;
    };
  };

  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      let wrapper = wrappers.get(property);
      if (wrapper === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        wrapper = typeof property !== "string" || PASS_THROUGH.has(property) ? method.bind(target) : wrap(property, method);
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === "string" ? error : "failed";
}
