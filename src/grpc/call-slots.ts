/**
 * Slots of calls served at once, shared by the limits on them (concurrency-limit.ts: every call a token
 * allows; open-calls.ts: reflection streams): a call takes one before its handler runs, or is answered
 * RESOURCE_EXHAUSTED at once, and gives it back at its status or its cancellation.
 */
import {
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as GrpcStatus,
  type ServerInterceptingCallInterface,
} from "@grpc/grpc-js";

/** A number of calls served at once, up to `max`. */
export class CallSlots {
  inUse = 0;
  constructor(readonly max: number) {}
}

/**
 * `call` holding one of `slots` from its start until its status is sent or it is cancelled; when none is
 * free it is answered RESOURCE_EXHAUSTED with `refusal` at once, before its handler runs. `hooks` hear
 * when it takes its slot, receives a message while holding it, and gives it back.
 */
export function slotHoldingCall(
  call: ServerInterceptingCallInterface,
  slots: CallSlots,
  refusal: string,
  hooks: { taken?(): void; message?(): void; released?(): void } = {},
): ServerInterceptingCall {
  let state: "waiting" | "counted" | "refused" | "done" = "waiting";
  const release = (): void => {
    if (state === "counted") {
      slots.inUse--;
      hooks.released?.();
    }
    if (state !== "refused") state = "done";
  };
  const listener = new ServerListenerBuilder()
    .withOnReceiveMetadata((metadata, next) => {
      if (slots.inUse >= slots.max) {
        state = "refused";
        call.sendStatus({ code: GrpcStatus.RESOURCE_EXHAUSTED, details: refusal });
        return;
      }
      slots.inUse++;
      state = "counted";
      hooks.taken?.();
      next(metadata);
    })
    .withOnReceiveMessage((message, next) => {
      if (state === "refused") return;
      if (state === "counted") hooks.message?.();
      next(message);
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
}

