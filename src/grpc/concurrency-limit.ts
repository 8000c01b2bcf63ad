/**
 * A cap on the calls one server process serves at once (`--max-concurrent-calls`): a call over the
 * cap is answered RESOURCE_EXHAUSTED at once, before its handler runs, instead of waiting in a queue
 * that could grow without bound. A call counts from its start until its status is sent or it is
 * cancelled. The calls open to anyone (health, reflection) are not counted nor refused: probes keep
 * answering under load, and a flood of open calls cannot lock token holders out (open-calls.ts bounds
 * them on their own).
 */
import { ServerInterceptingCall, type ServerInterceptingCallInterface, type ServerInterceptor } from "@grpc/grpc-js";
import { CallSlots, slotHoldingCall } from "./call-slots.js";
import { isOpenCallPath } from "./open-calls.js";


export interface ConcurrencyLimit {
  readonly interceptor: ServerInterceptor;
  /** Calls being served now. */
  inFlight(): number;
}

export function createConcurrencyLimit(maxConcurrentCalls: number): ConcurrencyLimit {
  const slots = new CallSlots(maxConcurrentCalls);
  const refusal = `the server is serving its maximum of ${maxConcurrentCalls} concurrent calls (--max-concurrent-calls): retry with backoff`;
  const interceptor: ServerInterceptor = (method, call: ServerInterceptingCallInterface) =>
    isOpenCallPath(method.path) ? new ServerInterceptingCall(call) : slotHoldingCall(call, slots, refusal);
  return { interceptor, inFlight: () => slots.inUse };
}
