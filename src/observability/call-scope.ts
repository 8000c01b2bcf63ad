/**
 * The trace of the call being served, for every log line it writes: the interceptor runs the handler
 * inside the call span's OpenTelemetry context (tracing on) or a scope holding the trace id of the
 * incoming `traceparent` (tracing off), and `logFields` (pino's `mixin`) adds them to
 * each line logged in it, by the handler, the use cases or the store alike. With tracing off, the trace
 * id of an incoming W3C `traceparent` is still logged, so logs join the caller's trace.
 */
import { trace } from "@opentelemetry/api";
import { AsyncLocalStorage } from "node:async_hooks";

export interface CallLogFields {
  readonly trace_id?: string;
  readonly span_id?: string;
}

const scope = new AsyncLocalStorage<CallLogFields>();

/** Runs `fn` with `fields` on every line logged inside it (sync and async continuations). */
export function runInCallScope<T>(fields: CallLogFields, fn: () => T): T {
  return scope.run(fields, fn);
}

/**
 * pino's `mixin`: the current call's trace fields, or none outside a call. A new object every time:
 * pino merges the line's own fields into the object a mixin returns.
 */
export function logFields(): CallLogFields {
  const fields = scope.getStore();
  if (fields !== undefined) return { ...fields };
  // With tracing on, the call runs in its span's OpenTelemetry context instead (one async scope, not two).
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const ids = span.spanContext();
  return { trace_id: ids.traceId, span_id: ids.spanId };
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}/;

/** The trace and parent span ids of a W3C `traceparent` value, undefined when malformed or all zeros. */
export function parseTraceparent(value: unknown): { traceId: string; spanId: string } | undefined {
  if (typeof value !== "string") return undefined;
  const match = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]! };
}
