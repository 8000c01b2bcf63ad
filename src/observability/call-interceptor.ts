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
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { Logger } from "pino";
import { grpcCodeName, type GrpcType, type MethodMetrics, type VecrecMetrics } from "./metrics.js";
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

/** What the interceptor needs of a method, worked out at its first call and reused. */
interface MethodInfo {
  readonly service: string;
  readonly method: string;
  readonly type: GrpcType;
  readonly streamsResponses: boolean;
  readonly bound: MethodMetrics | undefined;
  readonly spanName: string;
  readonly level: "info" | "debug";
}

export function createCallInterceptor(options: CallObserverOptions): ServerInterceptor {
  const { metrics, tracer, logger, slowCallMs } = options;
  const slowMessage = `slow call (${slowCallMs} ms or more)`;
  const infos = new Map<string, MethodInfo>();
  const methodInfo = (descriptor: ServerMethodDefinition<unknown, unknown>): MethodInfo => {
    let info = infos.get(descriptor.path);
    if (info === undefined) {
      const [service, method] = splitPath(descriptor.path);
      const type = grpcType(descriptor);
      info = {
        service,
        method,
        type,
        streamsResponses: type === "server_stream" || type === "bidi_stream",
        bound: metrics?.method(type, service, method),
        spanName: `${service}/${method}`,
        level: QUIET_SERVICES.has(service) ? "debug" : "info",
      };
      infos.set(descriptor.path, info);
    }
    return info;
  };

  return (descriptor, call: ServerInterceptingCallInterface) => {
    const info = methodInfo(descriptor as ServerMethodDefinition<unknown, unknown>);
    const bound = info.bound;
    bound?.started();
    const started = performance.now();
    let received = 0;
    let sent = 0;
    let index: string | undefined;
    let k: number | undefined;
    let parentContext: Context | undefined; // tracing on: the caller's context, the span's parent
    let span: Span | undefined;
    let spanContext: Context | undefined;
    let traceId: string | undefined;
    let spanId: string | undefined;
    let done = false;
    let scopeFields: CallLogFields | undefined; // tracing off, traceparent received: its trace id on every line

    /**
     * The call's span, started once the first request message is in (so that it gets all its attributes
     * at once), dated from the call's start; at the latest when the call ends.
     */
    const openSpan = (): void => {
      if (tracer === undefined || span !== undefined || parentContext === undefined) return;
      const attributes: Attributes = { "rpc.system": "grpc", "rpc.service": info.service, "rpc.method": info.method };
      if (index !== undefined) attributes["vecrec.index"] = index;
      if (k !== undefined) attributes["vecrec.k"] = k;
      span = tracer.startSpan(info.spanName, { kind: SpanKind.SERVER, attributes, startTime: started }, parentContext);
      spanContext = trace.setSpan(parentContext, span);
      const ids = span.spanContext();
      traceId = ids.traceId;
      spanId = ids.spanId;
    };

    const inScope = (next: () => void): void => {
      if (spanContext !== undefined) context.with(spanContext, next);
      else if (scopeFields !== undefined) runInCallScope(scopeFields, next);
      else next();
    };

    /** The call's end, `ms` after its start, `endedAt` on performance.now()'s clock. */
    const record = (code: number, details: string | undefined, ms: number, endedAt: number): void => {
      bound?.handled(code, ms / 1000, received, sent);
      if (span !== undefined) {
        span.setAttributes(info.streamsResponses ? { "rpc.grpc.status_code": code, "vecrec.hits": sent } : { "rpc.grpc.status_code": code });
        if (code !== (grpcStatus.OK as number)) span.setStatus({ code: SpanStatusCode.ERROR, message: `${grpcCodeName(code)}: ${details ?? ""}` });
        span.end(endedAt);
      }
      const slow = slowCallMs > 0 && ms >= slowCallMs;
      const level = slow ? "warn" : info.level;
      if (!logger.isLevelEnabled(level)) return;
      // Built field by field (no spreads): one object per line.
      const line: Record<string, unknown> = {};
      if (traceId !== undefined) line.trace_id = traceId;
      if (spanId !== undefined) line.span_id = spanId;
      line.method = info.method;
      line.service = info.service;
      if (index !== undefined) line.index = index;
      line.code = grpcCodeName(code);
      line.ms = Math.round(ms * 100) / 100;
      line.messages = sent;
      line.peer = call.getPeer();
      logger[level](line, slow ? slowMessage : "call");
    };

    const finish = (code: number, details: string | undefined): void => {
      if (done) return;
      done = true;
      const endedAt = performance.now();
      openSpan();
      record(code, details, endedAt - started, endedAt);
    };

    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const traceparent = metadata.get("traceparent");
            if (tracer !== undefined) {
              parentContext = traceparent.length === 0 ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, metadata, metadataGetter);
            } else if (traceparent.length > 0) {
              traceId = parseTraceparent(traceparent[0])?.traceId;
              if (traceId !== undefined) scopeFields = { trace_id: traceId };
            }
            nextMetadata(metadata);
          },
          onReceiveMessage(message: unknown, nextMessage) {
            received++;
            if (received === 1 && typeof message === "object" && message !== null) {
              const request = message as { indexName?: unknown; k?: unknown };
              if (typeof request.indexName === "string" && request.indexName !== "") index = request.indexName;
              if (typeof request.k === "number") k = request.k;
            }
            openSpan();
            inScope(() => nextMessage(message));
          },
          onReceiveHalfClose(nextHalfClose) {
            openSpan();
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
