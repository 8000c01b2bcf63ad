/**
 * The one adapter from async iterables to server-streaming calls: handlers produce messages, this
 * writes them with backpressure, stops the producer when the client goes away or the deadline passes,
 * and ends the call with a definite status (never UNKNOWN).
 */
import { Metadata, type ServerWritableStream } from "@grpc/grpc-js";
import { once } from "node:events";
import type { Logger } from "pino";
import { toGrpcStatus } from "./status-mapping.js";

/**
 * What a streaming handler produces: the messages, then (as the generator's return value) the
 * trailers to send with the OK status.
 */
export type MessageStream<T> = AsyncGenerator<T, Metadata | undefined, undefined>;

export interface WriteStreamOptions {
  /** Aborted when the client cancels or the deadline passes (see createCallSignal). */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Method name, for logs. */
  readonly method: string;
}

const ABORTED = Symbol("aborted");

/** Resolves with ABORTED when `signal` aborts (immediately if it already has). */
function whenAborted(signal: AbortSignal): { promise: Promise<typeof ABORTED>; dispose(): void } {
  let onAbort: (() => void) | undefined;
  const promise = new Promise<typeof ABORTED>((resolve) => {
    if (signal.aborted) {
      resolve(ABORTED);
      return;
    }
    onAbort = () => resolve(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return {
    promise,
    dispose() {
      if (onAbort) signal.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * Writes every message of `source` to `call`, awaiting 'drain' whenever write() returns false.
 * Resolves when the call is finished: ended with OK and the source's trailers, ended with the mapped
 * status of the error the source threw, or abandoned because the signal aborted (the client is gone
 * or grpc-js has already sent DEADLINE_EXCEEDED). The source is always closed (its `finally` runs).
 * Never rejects.
 */
export async function writeStream<T>(
  call: ServerWritableStream<unknown, T>,
  source: MessageStream<T>,
  options: WriteStreamOptions,
): Promise<void> {
  const { signal, logger, method } = options;
  const aborted = whenAborted(signal);
  let finished = false;
  try {
    for (;;) {
      const next = await Promise.race([source.next(), aborted.promise]);
      if (next === ABORTED) return;
      if (next.done) {
        finished = true;
        call.end(next.value ?? new Metadata());
        return;
      }
      if (!call.write(next.value)) {
        const drained = await Promise.race([
          once(call, "drain", { signal }).then(
            () => true,
            () => false,
          ),
          aborted.promise,
        ]);
        if (drained !== true) return;
      }
    }
  } catch (error: unknown) {
    finished = true;
    if (signal.aborted) return;
    const status = toGrpcStatus(error, logger, method);
    // grpc-js turns an 'error' event on a server stream into the call's final status.
    call.emit("error", Object.assign(new Error(status.details), status));
  } finally {
    aborted.dispose();
    if (!finished) {
      // Stops the producer: runs its `finally` blocks. It may still be busy; never wait on it.
      source.return(undefined).catch((error: unknown) => {
        logger.debug({ err: error, method }, "stream producer failed while closing");
      });
    }
  }
}
