/**
 * Guards on the calls anyone who reaches the port may make without a token: gRPC health (probes carry
 * none) and server reflection (with `--reflection on`, the default). They are not counted by the
 * concurrency limit (a flood of them must not lock token holders out), so they get bounds of their own:
 * - their messages are at most OPEN_CALL_MAX_MESSAGE_BYTES (a health request is a service name, a
 *   reflection request a symbol): larger ones are refused RESOURCE_EXHAUSTED as soon as their length
 *   is read, not buffered (the server's own limit, 128 MiB, is for Upserts);
 * - health `Watch` of a service this server does not have answers SERVICE_UNKNOWN once and ends:
 *   grpc-health-check keeps a watcher entry for every name it is asked about, for good, so unknown
 *   names from anyone would grow the heap without bound (the names are fixed: none of them becomes
 *   known later, which is when the spec would send more);
 * - at most MAX_REFLECTION_STREAMS reflection streams at once (each answers in its stream's order; a
 *   grpcurl command holds one for its duration), each closed after REFLECTION_IDLE_MS without a request.
 * The message bound is set on grpc-js's own call object (its decoder's limit, read per call: no public
 * API sets it per method), reached through the interceptors before this one; test/e2e/open-calls.test.ts
 * fails if a grpc-js update moves it.
 */
import {
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as GrpcStatus,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from "@grpc/grpc-js";
import { HEALTH_PREFIX, isReflectionPath } from "./auth-roles.js";
import { CallSlots, slotHoldingCall } from "./call-slots.js";

export const OPEN_CALL_MAX_MESSAGE_BYTES = 16 * 1024;
export const MAX_REFLECTION_STREAMS = 64;
export const REFLECTION_IDLE_MS = 60_000;

const HEALTH_WATCH = `${HEALTH_PREFIX}Watch`;

/** What of grpc-js's BaseServerInterceptingCall the message bound needs (read per call, set at construction). */
interface GrpcJsBaseCall {
  maxReceiveMessageSize?: unknown;
  decoder?: { maxReadMessageLength?: unknown };
  nextCall?: unknown;
}

/**
 * Lowers the message bound of grpc-js's base call under `call` (reached through the interceptors
 * before this one, each holding the next as `nextCall`); false when there is none (a grpc-js without
 * those internals).
 */
export function boundMessages(call: ServerInterceptingCallInterface, maxBytes: number): boolean {
  let node: unknown = call;
  for (let depth = 0; depth < 16 && typeof node === "object" && node !== null; depth++) {
    const internals = node as GrpcJsBaseCall;
    if (typeof internals.maxReceiveMessageSize === "number" && typeof internals.decoder?.maxReadMessageLength === "number") {
      internals.maxReceiveMessageSize = maxBytes;
      internals.decoder.maxReadMessageLength = maxBytes;
      return true;
    }
    node = internals.nextCall;
  }
  return false;
}

export function isOpenCallPath(path: string): boolean {
  return path.startsWith(HEALTH_PREFIX) || isReflectionPath(path);
}

export interface OpenCallGuard {
  readonly interceptor: ServerInterceptor;
}

/** `knownServices`: the names health answers for (any other is SERVICE_UNKNOWN). */
export function createOpenCallGuard(knownServices: readonly string[], options: { maxReflectionStreams?: number; reflectionIdleMs?: number } = {}): OpenCallGuard {
  const maxStreams = options.maxReflectionStreams ?? MAX_REFLECTION_STREAMS;
  const idleMs = options.reflectionIdleMs ?? REFLECTION_IDLE_MS;
  const known = new Set(knownServices);
  const slots = new CallSlots(maxStreams);

  const healthWatch = (call: ServerInterceptingCallInterface): ServerInterceptingCall => {
    let unknown = false;
    const listener = new ServerListenerBuilder()
      .withOnReceiveMessage((message: { service?: unknown }, next) => {
        if (known.has(typeof message?.service === "string" ? message.service : "")) {
          next(message);
          return;
        }
        unknown = true;
        call.sendMessage({ status: "SERVICE_UNKNOWN" }, () => call.sendStatus({ code: GrpcStatus.OK, details: "" }));
      })
      .withOnReceiveHalfClose((next) => {
        if (!unknown) next();
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };

  const reflection = (call: ServerInterceptingCallInterface): ServerInterceptingCall => {
    let timer: NodeJS.Timeout | undefined;
    const idle = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        call.sendStatus({ code: GrpcStatus.DEADLINE_EXCEEDED, details: `reflection stream idle for ${idleMs / 1000} s: closed` });
      }, idleMs);
      timer.unref();
    };
    return slotHoldingCall(call, slots, `the server holds its maximum of ${slots.max} reflection streams: retry with backoff`, {
      taken: idle,
      message: idle,
      released: () => clearTimeout(timer),
    });
  };

  const interceptor: ServerInterceptor = (method, call) => {
    if (!isOpenCallPath(method.path)) return new ServerInterceptingCall(call);
    boundMessages(call, OPEN_CALL_MAX_MESSAGE_BYTES);
    if (method.path === HEALTH_WATCH) return healthWatch(call);
    if (method.path.startsWith(HEALTH_PREFIX)) return new ServerInterceptingCall(call);
    return reflection(call);
  };
  return { interceptor };
}
