/**
 * The three call shapes of VectorService (unary, server streaming, bidirectional streaming), around a handler that takes a decoded request and a signal:
 * every failure ends the call with a mapped status (never UNKNOWN), the signal follows the client
 * (cancel, deadline), and a request the deserializer could not decode (request-decoding.ts) is answered
 * INVALID_ARGUMENT before the handler runs. Every line a call logs carries its log fields (its trace id:
 * call-annotations.ts).
 */
import {
  Metadata,
  status as GrpcCode,
  type handleBidiStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerDuplexStream,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type StatusObject,
} from "@grpc/grpc-js";
import type { Logger } from "pino";
import { CancelledError, InvalidArgumentError } from "../domain/errors.js";
import { callLogger, type CallLog } from "./call-annotations.js";
import { createCallSignal } from "./call-signal.js";
import { undecodableViolation } from "./request-decoding.js";
import { sendableStatus, toGrpcStatus, UNSENDABLE_STATUS_DETAILS } from "./status-mapping.js";
import { writeStream, type MessageStream } from "./stream-writer.js";

/** The request, or an InvalidArgumentError when its deserializer could not decode it. */
function decodedRequest<Req>(request: Req): Req {
  const violation = undecodableViolation(request);
  if (violation !== undefined) throw new InvalidArgumentError(violation);
  return request;
}

export function unaryCall<Req, Res>(
  method: string,
  serviceLogger: Logger,
  handle: (request: Req, signal: AbortSignal) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const callSignal = createCallSignal(call);
    const logger = callLogger(serviceLogger, call.metadata);
    const started = performance.now();
    // handle() may throw synchronously inside its async body only, so one promise chain catches everything.
    Promise.resolve()
      .then(() => handle(decodedRequest(call.request), callSignal.signal))
      .then(
        (response) => {
          logger.debug({ method, ms: Math.round(performance.now() - started) }, "ok");
          callback(null, response);
        },
        (error: unknown) => sendStatus(callback, toGrpcStatus(error, logger, method), logger, method),
      )
      .finally(() => callSignal.dispose())
      .catch((error: unknown) => logger.error({ err: error, method }, "failed to answer a call"));
  };
}

/**
 * Ends a unary call with `status`. sendableStatus has checked what grpc-js would throw on; should
 * sending still throw (grpc-js sends the status synchronously on this path), the call is ended with a
 * plain INTERNAL instead, so that it is never left unanswered.
 */
function sendStatus<Res>(callback: sendUnaryData<Res>, status: StatusObject, logger: CallLog, method: string): void {
  try {
    callback(sendableStatus(status, logger, method));
  } catch (error: unknown) {
    logger.error({ err: error, method }, "sending the call's status failed; answering INTERNAL");
    callback({ code: GrpcCode.INTERNAL, details: UNSENDABLE_STATUS_DETAILS, metadata: new Metadata() });
  }
}

export function serverStreamingCall<Req, Res>(
  method: string,
  serviceLogger: Logger,
  produce: (request: Req, signal: AbortSignal) => MessageStream<Res>,
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    const callSignal = createCallSignal(call);
    const logger = callLogger(serviceLogger, call.metadata);
    // A request that could not be decoded fails on the first next(), so the stream writer ends the call
    // with the mapped status. (Not a generator wrapping produce() with `yield*`: that added a promise
    // turn per message to every streaming call.)
    let stream: MessageStream<Res>;
    try {
      stream = produce(decodedRequest(call.request), callSignal.signal);
    } catch (error: unknown) {
      stream = failing(error);
    }
    writeStream(call, stream, { signal: callSignal.signal, logger, method })
      .finally(() => callSignal.dispose())
      .catch((error: unknown) => logger.error({ err: error, method }, "failed to answer a call"));
  };
}

/** A stream whose first next() throws `error`. */
// eslint-disable-next-line require-yield, @typescript-eslint/require-await -- it only throws, on the first next()
async function* failing<T>(error: unknown): MessageStream<T> {
  throw error;
}

/**
 * A bidirectional call whose requests are read one at a time: the call's read buffer holds at most one
 * decoded message (grpc-js's default is 16, and it pauses the HTTP/2 stream only when that buffer is
 * full), so a handler that pulls slowly slows the client down through HTTP/2 flow control instead of
 * buffering its messages. A request that could not be decoded fails the call with INVALID_ARGUMENT when
 * the handler reaches it.
 */
export function bidiStreamingCall<Req, Res>(
  method: string,
  serviceLogger: Logger,
  produce: (requests: AsyncIterable<Req>, signal: AbortSignal) => MessageStream<Res>,
): handleBidiStreamingCall<Req, Res> {
  return (call: ServerDuplexStream<Req, Res>) => {
    limitReadBuffer(call);
    const callSignal = createCallSignal(call);
    const logger = callLogger(serviceLogger, call.metadata);
    const requests = (async function* (): AsyncGenerator<Req, void, undefined> {
      for (;;) {
        const request = call.read() as Req | null;
        if (request !== null) yield decodedRequest(request);
        else if (call.readableEnded || call.destroyed || !(await readableAgain(call))) {
          // Closed without the client's half-close: cancelled (a reset), not a finished request stream,
          // which the handler would answer OK.
          if (!call.readableEnded && call.cancelled) throw new CancelledError("the client cancelled the call");
          return;
        }
      }
    })();
    writeStream(call as never, produce(requests, callSignal.signal), { signal: callSignal.signal, logger, method })
      .finally(() => callSignal.dispose())
      .catch((error: unknown) => logger.error({ err: error, method }, "failed to answer a call"));
  };
}

/** Lowers the readable high-water mark of a grpc-js call to one message (see bidiStreamingCall). */
function limitReadBuffer(call: object): void {
  const state = (call as { _readableState?: { highWaterMark?: number } })._readableState;
  if (state !== undefined && typeof state.highWaterMark === "number") state.highWaterMark = 1;
}

/**
 * Waits until `call` may have another request ('readable'), and says false once it never will ('end',
 * 'close', 'error'). Not Node's async iterator of the stream: it destroys the stream when it sees an
 * error, and the 'error' the stream writer emits to send a failed call's status would then destroy the
 * call before the status is written (the client would wait for ever).
 */
function readableAgain(call: ServerDuplexStream<unknown, unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (more: boolean) => (): void => {
      call.off("readable", onReadable);
      call.off("end", onEnd);
      call.off("close", onEnd);
      call.off("error", onEnd);
      resolve(more);
    };
    const onReadable = settle(true);
    const onEnd = settle(false);
    call.once("readable", onReadable);
    call.once("end", onEnd);
    call.once("close", onEnd);
    call.once("error", onEnd);
  });
}
