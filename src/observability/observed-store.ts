/**
 * A VectorStore that times each operation (search, upsert, getItems...) for metrics and, with tracing
 * on, records it as a child span of the call's (`embedded search`, `redis upsert`...; call-trace.ts), so
 * that the Redis round trips it makes nest under it and an embedded scan has its own span. The call is
 * found by the signal among the operation's arguments (a signal, or an options object with one;
 * call-annotations.ts), and the operation is the call's current one while it runs. Built as a
 * Proxy, so that methods added to the port later are covered without a change here; cheap or
 * synchronous members (availability, the spec cache, close) pass through untouched.
 */
import { SpanKind, type Attributes } from "@opentelemetry/api";
import { isAbortSignal } from "../grpc/call-abort-signal.js";
import { annotationsOfSignal, type CallAnnotations } from "../grpc/call-annotations.js";
import type { CallTrace, ChildRecord } from "./call-trace.js";
import type { VectorStore } from "../store/vector-store.js";
import type { VecrecMetrics } from "./metrics.js";

const PASS_THROUGH = new Set<PropertyKey>(["isAvailable", "onAvailabilityChange", "getIndexSpec", "close", "then", "constructor"]);

export function observeStore(store: VectorStore, hooks: { metrics?: VecrecMetrics; traced: boolean }): VectorStore {
  const { metrics, traced } = hooks;
  const backend = store.backend;
  const wrappers = new Map<PropertyKey, unknown>();
  const attributes = { "vecrec.backend": backend };
  // The embedded engine makes no round trips: nothing nests under its operations, which are not made the
  // call's current one, and none is folded (its span is the scan's).
  const nests = backend !== "embedded";

  // On Redis, an operation of one round trip is folded into it (call-trace.ts), which carries its name.
  const folds = new Map<string, Attributes>();
  const foldOf = (name: string): Attributes => {
    let fold = folds.get(name);
    if (fold === undefined) {
      fold = { "vecrec.store_operation": name };
      folds.set(name, fold);
    }
    return fold;
  };

  const wrap = (name: string, method: (...args: unknown[]) => unknown) => {
    const spanName = `${backend} ${name}`;
    return function observed(...args: unknown[]): unknown {
      const started = performance.now();
      const call = traced ? annotationsOfSignal(signalIn(args)) : undefined;
      const callTrace = call?.trace as CallTrace | undefined;
      const record = callTrace?.startChild(spanName, SpanKind.INTERNAL, attributes, undefined, nests ? foldOf(name) : undefined);
      // Current for the call while it runs, so that its Redis round trips nest under it (the record of an
      // operation of the call that overlaps, when there is one, is put back at the end).
      let outer: unknown;
      if (record !== undefined && nests) {
        outer = call!.operation;
        call!.operation = record;
      }
      const end = (error?: unknown): void => {
        metrics?.storeOperation(backend, name, (performance.now() - started) / 1000, error !== undefined);
        if (record !== undefined) {
          if (nests) restore(call!, record, outer);
          callTrace!.endChild(record, error === undefined ? undefined : errorMessage(error));
        }
      };
      let result: unknown;
      try {
        result = method.apply(store, args);
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

/** The call's signal among a store method's arguments: one of them, or the `signal` of an options object. */
function signalIn(args: readonly unknown[]): AbortSignal | undefined {
  for (let i = args.length - 1; i >= 0; i--) {
    const arg = args[i];
    if (isAbortSignal(arg)) return arg;
    if (typeof arg === "object" && arg !== null) {
      const signal = (arg as { signal?: unknown }).signal;
      if (isAbortSignal(signal)) return signal;
    }
  }
  return undefined;
}

/**
 * Ends an operation's hold on the call: the outer operation is current again (none when it ended
 * meanwhile), unless another operation took over since.
 */
function restore(call: CallAnnotations, operation: ChildRecord, outer: unknown): void {
  if (call.operation !== operation) return;
  call.operation = outer !== undefined && (outer as ChildRecord).end === undefined ? outer : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === "string" ? error : "failed";
}
