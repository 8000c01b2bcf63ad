/**
 * A cap on the calls one server process serves at once (`--max-concurrent-calls`): a call over the
 * cap is answered RESOURCE_EXHAUSTED at once, before its handler runs, instead of waiting in a queue
 * that could grow without bound. A call counts from its start until its status is sent or it is
 * cancelled. The calls open to anyone (health, reflection) are not counted nor refused: probes keep
 * answering under load, and a flood of open calls cannot lock token holders out (open-calls.ts bounds
 * them on their own).
 */
import {
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as GrpcStatus,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from "@grpc/grpc-js";
import { isOpenCallPath } from "./open-calls.js";


export interface ConcurrencyLimit {
  readonly interceptor: ServerInterceptor;
  /** Calls being served now. */
  inFlight(): number;
}

export function createConcurrencyLimit(maxConcurrentCalls: number): ConcurrencyLimit {
  let inFlight = 0;
  const interceptor: ServerInterceptor = (method, call: ServerInterceptingCallInterface) => {
    if (isOpenCallPath(method.path)) return new ServerInterceptingCall(call);
    let state: "waiting" | "counted" | "refused" | "done" = "waiting";
    const release = (): void => {
      if (state === "counted") inFlight--;
      if (state !== "refused") state = "done";
    };
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (inFlight >= maxConcurrentCalls) {
          state = "refused";
          call.sendStatus({
            code: GrpcStatus.RESOURCE_EXHAUSTED,
            details: `the server is serving its maximum of ${maxConcurrentCalls} concurrent calls (--max-concurrent-calls): retry with backoff`,
          });
          return;
        }
        inFlight++;
        state = "counted";
        next(metadata);
      })
      .withOnReceiveMessage((message, next) => {
        if (state !== "refused") next(message);
      })
      .withOnReceiveHalfClose((next) => {
        if (state !== "refused") next();
      })
      .withOnCancel(release)
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((status, next) => {
        release();
        next(status);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
  return { interceptor, inFlight: () => inFlight };
}
