/**
 * The gRPC server interceptor that observes every call (VectorService, health, reflection), outermost
 * so that it sees calls refused by inner interceptors too:
 * - metrics: started, handled by code, latency, messages received/sent, in flight (metrics.ts);
 * - tracing (when on): a SERVER span per call named `<service>/<method>`, child of the caller's span
 *   from the incoming W3C `traceparent` metadata, with the index, k and hits (messages streamed) and
 *   the status code; the handler runs inside it, so store and Redis spans are its children;
 * - logs: the handler runs in a call scope carrying the trace id (call-scope.ts), and one access-log line
 *   per call: `info` (health checks `debug`), `warn` from `slowCallMs`.
 * The index and k are read from the request message itself (`indexName`, `k`), so handlers do nothing.
 */
import {
  ServerInterceptingCall,
  status as grpcStatus,
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
} from "@grpc/grpc-js";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Context, type Span, type TextMapGetter, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { Logger } from "pino";
import { grpcCodeName, type GrpcType, type VecrecMetrics } from "./metrics.js";
import { parseTraceparent, runInCallScope, type CallLogFields } from "./call-scope.js";

export interface CallObserverOptions {
  readonly metrics?: VecrecMetrics;
  readonly tracer?: Tracer;
  readonly logger: Logger;
  /** Calls lasting this long or longer are logged at warn; 0 = never. */
  readonly slowCallMs: number;
}

const propagator = new W3CTraceContextPropagator();
const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

function grpcType(descriptor: ServerMethodDefinition<unknown, unknown>): GrpcType {
  if (descriptor.requestStream) return descriptor.responseStream ? "bidi_stream" : "client_stream";
  return descriptor.responseStream ? "server_stream" : "unary";
}

/** `/pkg.Service/Method` -> [`pkg.Service`, `Method`]. */
function splitPath(path: string): [string, string] {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? ["unknown", path.replace(/^\//, "")] : [path.slice(1, slash), path.slice(slash + 1)];
}

const QUIET_SERVICES = new Set(["grpc.health.v1.Health"]);

export function createCallInterceptor(options: CallObserverOptions): ServerInterceptor {
  const { metrics, tracer, logger, slowCallMs } = options;
  return (descriptor, call: ServerInterceptingCallInterface) => {
    const [service, method] = splitPath(descriptor.path);
    const type = grpcType(descriptor as ServerMethodDefinition<unknown, unknown>);
    const bound = metrics?.method(type, service, method);
    bound?.started();
    const started = performance.now();
    let received = 0;
    let sent = 0;
    let index: string | undefined;
    let k: number | undefined;
    let span: Span | undefined;
    let spanContext: Context | undefined;
    let fields: CallLogFields = {};
    let done = false;

    const inScope = (next: () => void): void => {
      if (spanContext !== undefined) context.with(spanContext, next);
      else if (fields.trace_id !== undefined) runInCallScope(fields, next);
      else next();
    };

    const finish = (code: number, details: string | undefined): void => {
      if (done) return;
      done = true;
      const ms = performance.now() - started;
      bound?.handled(code, ms / 1000, received, sent);
      if (span !== undefined) {
        span.setAttribute("rpc.grpc.status_code", code);
        if (type === "server_stream" || type === "bidi_stream") span.setAttribute("vecrec.hits", sent);
        if (code !== (grpcStatus.OK as number)) span.setStatus({ code: SpanStatusCode.ERROR, message: `${grpcCodeName(code)}: ${details ?? ""}` });
        span.end();
      }
      const slow = slowCallMs > 0 && ms >= slowCallMs;
      const level = slow ? "warn" : QUIET_SERVICES.has(service) ? "debug" : "info";
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          ...fields,
          method,
          service,
          ...(index !== undefined && { index }),
          code: grpcCodeName(code),
          ms: Math.round(ms * 100) / 100,
          messages: sent,
          peer: call.getPeer(),
        },
        slow ? `slow call (${slowCallMs} ms or more)` : "call",
      );
    };

    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            if (tracer !== undefined) {
              const parent = propagator.extract(ROOT_CONTEXT, metadata, metadataGetter);
              span = tracer.startSpan(
                `${service}/${method}`,
                { kind: SpanKind.SERVER, attributes: { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method } },
                parent,
              );
              spanContext = trace.setSpan(parent, span);
              const ids = span.spanContext();
              fields = { trace_id: ids.traceId, span_id: ids.spanId };
            } else {
              const incoming = parseTraceparent(metadata.get("traceparent")[0]);
              if (incoming !== undefined) fields = { trace_id: incoming.traceId };
            }
            nextMetadata(metadata);
          },
          onReceiveMessage(message: unknown, nextMessage) {
            received++;
            if (received === 1 && typeof message === "object" && message !== null) {
              const request = message as { indexName?: unknown; k?: unknown };
              if (typeof request.indexName === "string" && request.indexName !== "") index = request.indexName;
              if (typeof request.k === "number") k = request.k;
              if (span !== undefined) {
                if (index !== undefined) span.setAttribute("vecrec.index", index);
                if (k !== undefined) span.setAttribute("vecrec.k", k);
              }
            }
            inScope(() => nextMessage(message));
          },
          onReceiveHalfClose(nextHalfClose) {
            inScope(nextHalfClose);
          },
          onCancel() {
            finish(grpcStatus.CANCELLED, "cancelled by the client");
          },
        });
      },
      sendMessage(message, next) {
        sent++;
        next(message);
      },
      sendStatus(status, next) {
        finish(status.code, status.details);
        next(status);
      },
    });
  };
}
