/**
 * The gRPC server interceptor that observes every call (VectorService, health, reflection), outermost
 * so that it sees calls refused by inner interceptors too:
 * - metrics: started, handled by code, latency, messages received/sent, in flight (metrics.ts);
 * - tracing (when on): a SERVER span per call named `<service>/<method>`, child of the caller's span
 *   from the incoming W3C `traceparent` metadata, with the index, k and hits (messages streamed) and
 *   the status code, recorded by a CallTrace (call-trace.ts: handed to the SDK after the status is
 *   sent) attached to the call (call-annotations.ts: no async context), where the observed store and
 *   the Redis observer find it by the call's signal, so store and Redis spans are its children;
 * - logs: the trace id (and span id) attached to the call for every line it logs (callLogger), the
 *   incoming one when tracing is off; one access-log line per call: `info` (health checks `debug`),
 *   `warn` from `slowCallMs`, written once the status is out (after-reply.ts).
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
import { ROOT_CONTEXT, type Attributes, type TextMapGetter } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { Logger } from "pino";
import { annotateCall } from "../grpc/call-annotations.js";
import { messageCount } from "../grpc/message-page.js";
import { afterReply } from "./after-reply.js";
import { CallTrace, type TraceSink } from "./call-trace.js";
import { grpcCodeName, type GrpcType, type MethodMetrics, type VecrecMetrics } from "./metrics.js";
import { parseTraceparent } from "./traceparent.js";

export interface CallObserverOptions {
  readonly metrics?: VecrecMetrics;
  /** Tracing on: where the calls' spans go. */
  readonly tracing?: TraceSink;
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

/**
 * Statuses grpc-js sends itself (a deadline passed, a message past the size limit, one it cannot
 * decompress) do not pass through the interceptors: the interceptor would only see the cancellation
 * that follows and count Canceled. When `call` is grpc-js's base call (this interceptor first in the
 * server's list: grpc/server.ts), its sendStatus is wrapped so that `finish` hears every status it
 * writes, those included; another shape of call (another grpc-js) is left as it is.
 */
function watchOwnStatuses(call: ServerInterceptingCallInterface, finish: (code: number, details: string | undefined) => void): void {
  const base = call as unknown as { sendStatus?: unknown; decoder?: unknown };
  if (typeof base.sendStatus !== "function" || typeof base.decoder !== "object" || base.decoder === null) return;
  type Status = Parameters<ServerInterceptingCallInterface["sendStatus"]>[0];
  const original = base.sendStatus as (status: Status) => void;
  base.sendStatus = (status: Status): void => {
    finish(status.code, status.details);
    original.call(call, status);
  };
}

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
  const { metrics, tracing, logger, slowCallMs } = options;
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
    let callTrace: CallTrace | undefined; // tracing on
    let traceId: string | undefined; // tracing off: the incoming traceparent's
    let done = false;
    // Read at the start: once a call is cancelled its HTTP/2 stream, and so its peer, is gone.
    const peer = call.getPeer();

    /**
     * The access log line of the call that ended with `code`, `ms` after its start, from `peer`, at
     * `level` (warn for a slow call: see finish, which decides it and reads the peer while it is there).
     */
    const writeAccessLine = (code: number, ms: number, level: "warn" | "info" | "debug", peer: string): void => {
      const slow = level === "warn";
      // Built field by field (no spreads): one object per line.
      const line: Record<string, unknown> = {};
      if (callTrace !== undefined) {
        const ids = callTrace.ids();
        line.trace_id = ids.traceId;
        line.span_id = ids.spanId;
      } else if (traceId !== undefined) line.trace_id = traceId;
      line.method = info.method;
      line.service = info.service;
      if (index !== undefined) line.index = index;
      line.code = grpcCodeName(code);
      line.ms = Math.round(ms * 100) / 100;
      line.messages = sent;
      line.peer = peer;
      logger[level](line, slow ? slowMessage : "call");
    };

    /** Runs a task left for after the reply; what it throws is logged. */
    const guarded = (task: () => void): void => {
      try {
        task();
      } catch (error) {
        logger.error({ err: error, method: info.method }, "writing a call's access line failed");
      }
    };

    /** The call's end: metrics now; its access line (and spans) once the status is out (after-reply.ts). */
    const finish = (code: number, details: string | undefined): void => {
      if (done) return;
      done = true;
      const endedAt = performance.now();
      const ms = endedAt - started;
      bound?.handled(code, ms / 1000, received, sent);
      const level = slowCallMs > 0 && ms >= slowCallMs ? "warn" : info.level;
      const access = logger.isLevelEnabled(level) ? () => guarded(() => writeAccessLine(code, ms, level, peer)) : undefined;
      if (callTrace === undefined) {
        if (access !== undefined) afterReply(access);
        return;
      }
      const attributes: Attributes = info.streamsResponses ? { "rpc.grpc.status_code": code, "vecrec.hits": sent } : { "rpc.grpc.status_code": code };
      const failure = code !== (grpcStatus.OK as number) ? `${grpcCodeName(code)}: ${details ?? ""}` : undefined;
      callTrace.end(endedAt, attributes, failure, access);
    };

    watchOwnStatuses(call, finish);
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const traceparent = metadata.get("traceparent");
            if (tracing !== undefined) {
              const parent = traceparent.length === 0 ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, metadata, metadataGetter);
              const attributes: Attributes = { "rpc.system": "grpc", "rpc.service": info.service, "rpc.method": info.method };
              const traced = new CallTrace(tracing, parent, info.spanName, started, attributes);
              callTrace = traced;
              const annotations = annotateCall(metadata);
              annotations.trace = traced;
              annotations.logFields = () => {
                const ids = traced.ids();
                return { trace_id: ids.traceId, span_id: ids.spanId };
              };
            } else if (traceparent.length > 0) {
              const incoming = parseTraceparent(traceparent[0])?.traceId;
              traceId = incoming;
              if (incoming !== undefined) annotateCall(metadata).logFields = () => ({ trace_id: incoming });
            }
            nextMetadata(metadata);
          },
          onReceiveMessage(message: unknown, nextMessage) {
            received++;
            if (received === 1 && typeof message === "object" && message !== null) {
              const request = message as { indexName?: unknown; k?: unknown };
              if (typeof request.indexName === "string" && request.indexName !== "") index = request.indexName;
              if (typeof request.k === "number") k = request.k;
              if (index !== undefined) callTrace?.setAttribute("vecrec.index", index);
              if (k !== undefined) callTrace?.setAttribute("vecrec.k", k);
            }
            nextMessage(message);
          },
          onCancel() {
            finish(grpcStatus.CANCELLED, "cancelled by the client");
          },
        });
      },
      sendMessage(message, next) {
        sent += messageCount(message); // a page of a stream goes as one chunk (grpc/message-page.ts)
        next(message);
      },
      sendStatus(status, next) {
        finish(status.code, status.details);
        next(status);
      },
    });
  };
}
