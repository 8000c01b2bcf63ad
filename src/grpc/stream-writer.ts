/**
 * The one adapter from async iterables to server-streaming calls: handlers produce messages, this
 * writes them with backpressure, stops the producer when the client goes away or the deadline passes,
 * and ends the call with a definite status (never UNKNOWN).
 */
import { Metadata, status as GrpcCode, type ServerWritableStream, type StatusObject } from "@grpc/grpc-js";
import { once } from "node:events";
import type { CallLog } from "./call-annotations.js";
import { baseCallOf } from "./call-chain.js";
import { MessagePage, PAGE_CHUNK, pageFraming, type PageFraming } from "./message-page.js";
import { sendableStatus, toGrpcStatus, UNSENDABLE_STATUS_DETAILS } from "./status-mapping.js";

/**
 * What a streaming handler produces: the messages (one by one, or a page of those it has in memory at
 * once: message-page.ts), then (as the generator's return value) the trailers to send with the OK status.
 */
export type MessageStream<T> = AsyncGenerator<T | MessagePage<T>, Metadata | undefined, undefined>;

export interface WriteStreamOptions {
  /** Aborted when the client cancels or the deadline passes (see createCallSignal). */
  readonly signal: AbortSignal;
  readonly logger: CallLog;
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

type WriteCallback = (error?: Error | null) => void;
interface WritableInternals {
  _write?: (chunk: unknown, encoding: BufferEncoding, callback: WriteCallback) => void;
  _writev?: ((chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: WriteCallback) => void) | null;
}

/**
 * Lets the call hand several buffered messages to grpc-js at once. grpc-js's server stream is a
 * Writable whose `_write` completes only once HTTP/2 has written the message, so Node writes one
 * message at a time: one socket write (and one event-loop turn) per hit. With a `_writev` (which Node's
 * Writable looks up when it flushes its buffer), every message buffered meanwhile (or while corked) is
 * sent in the same tick, and HTTP/2 coalesces them into one socket write. Each message still goes
 * through grpc-js's own `_write` (serialization, size limit, status on failure).
 */
function enableBatchedWrites(call: object): void {
  const writable = call as WritableInternals;
  const write = writable._write;
  // Writable.prototype._writev is null; a function there would be grpc-js's own.
  if (typeof write !== "function" || typeof writable._writev === "function") return;
  writable._writev = function (this: unknown, chunks, callback) {
    let remaining = chunks.length;
    let done = false;
    // The HTTP/2 stream under the call writes one chunk at a time too: the first message alone (with
    // the response headers), the others once it is written. Corked while the batch is handed over, it
    // takes them all in one write: headers and every hit in one socket write instead of two.
    const stream = http2StreamOf(call);
    stream?.cork();
    try {
      for (const { chunk, encoding } of chunks) {
        write.call(this, chunk, encoding, (error) => {
          if (done) return;
          if (error) {
            done = true;
            callback(error);
          } else if (--remaining === 0) {
            done = true;
            callback();
          }
        });
      }
    } finally {
      stream?.uncork();
    }
  };
}

interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * The HTTP/2 stream a grpc-js server call writes to (call-chain.ts). Without it (another grpc-js),
 * batches still work, in two socket writes.
 */
function http2StreamOf(call: object): Corkable | undefined {
  const stream = baseCallOf(call)?.stream as Partial<Corkable> | undefined;
  return typeof stream?.cork === "function" && typeof stream.uncork === "function" ? (stream as Corkable) : undefined;
}

/**
 * Writes every message of `source` to `call`, awaiting 'drain' whenever write() returns false. A page
 * goes in framed chunks (PageWriter, message-page.ts): a k=10 Search in one. Messages the source yields
 * one by one in the same tick are corked and leave together (see enableBatchedWrites).
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
  let corked = false;
  const uncork = (): void => {
    corked = false;
    call.uncork();
  };
  enableBatchedWrites(call);
  let pages: PageWriter<T> | undefined;
  try {
    for (;;) {
      const next = await Promise.race([source.next(), aborted.promise]);
      if (next === ABORTED) return;
      if (next.done) {
        finished = true;
        const ok = sendableStatus({ code: GrpcCode.OK, details: "OK", metadata: next.value ?? new Metadata() }, logger, method);
        if (ok.code === GrpcCode.OK) call.end(ok.metadata);
        else emitStatus(call, ok, logger, method);
        return;
      }
      if (next.value instanceof MessagePage) {
        // A page leaves in framed chunks already: no cork needed.
        pages ??= new PageWriter(call, signal, aborted.promise);
        if (!(await pages.write(next.value))) return;
        continue;
      }
      if (!corked) {
        // Held until the source stops producing synchronously (process.nextTick runs after the
        // promise jobs of this turn), then flushed as one batch; end() also flushes.
        corked = true;
        call.cork();
        process.nextTick(uncork);
      }
      if (!call.write(next.value) && !(await drained(call, signal, aborted.promise))) return;
    }
  } catch (error: unknown) {
    // Not `finished`: the error may come from making or encoding a page's message while the source waits
    // at its `yield` (its `finally` blocks, such as closing a Redis cursor, must still run). A source
    // that threw itself is done already; closing it again is a no-op.
    if (signal.aborted) return;
    emitStatus(call, toGrpcStatus(error, logger, method), logger, method);
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

/** Bytes a framed chunk of a page aims at: the next chunk's message count is scaled to it (see PageWriter). */
const CHUNK_BYTES = 64 * 1024;

/**
 * Writes a call's pages, in chunks of at most PAGE_CHUNK messages, each framed in one buffer where the
 * call allows (message-page.ts). grpc-js's stream counts chunks, not bytes, against its buffer (16), so a
 * framed chunk of 128 messages would let a client that does not read hold 2,048 messages in the server:
 * instead the next chunk is made only once the one before has been taken by HTTP/2 (its write callback),
 * and after each framed chunk the count of the next is scaled so that it holds about CHUNK_BYTES (a page
 * of large vectors goes a few messages at a time). At most two chunks of a call are in memory at once.
 */
class PageWriter<T> {
  readonly #framing: PageFraming | undefined;
  #chunk = PAGE_CHUNK;
  /** A framed chunk is written but HTTP/2 has not taken it yet (its write callback has not run). */
  #inFlight = false;
  /** That write failed (grpc-js then ends the call itself). */
  #failed = false;
  /** Wakes a writer waiting for the chunk in flight. */
  #taken: (() => void) | undefined;
  readonly #onWritten = (error: Error | null | undefined): void => {
    this.#inFlight = false;
    if (error) this.#failed = true;
    this.#taken?.();
    this.#taken = undefined;
  };

  constructor(
    private readonly call: ServerWritableStream<unknown, T>,
    private readonly signal: AbortSignal,
    private readonly aborted: Promise<typeof ABORTED>,
  ) {
    this.#framing = pageFraming(call);
  }

  /** False when the call was abandoned (the signal aborted, a write failed) before the page was all written. */
  async write(page: MessagePage<T>): Promise<boolean> {
    const { call, signal, aborted } = this;
    for (let start = 0; start < page.count; ) {
      if (!(await this.#previousTaken())) return false;
      const end = Math.min(page.count, start + this.#chunk);
      const messages: T[] = [];
      for (let i = start; i < end; i++) messages.push(page.message(i));
      start = end;
      if (this.#framing === undefined) {
        for (const message of messages) if (!call.write(message) && !(await drained(call, signal, aborted))) return false;
        continue;
      }
      const framed = this.#framing(messages, page.encodeFrames);
      this.#chunk = Math.max(1, Math.min(PAGE_CHUNK, Math.floor((framed.count * CHUNK_BYTES) / framed.bytes.length)));
      this.#inFlight = true;
      if (!call.write(framed as T, this.#onWritten) && !(await drained(call, signal, aborted))) return false;
    }
    return true;
  }

  /** Waits until the framed chunk in flight (if any) was taken by HTTP/2; false if the call was abandoned. */
  async #previousTaken(): Promise<boolean> {
    if (this.#inFlight) {
      const taken = new Promise<true>((resolve) => (this.#taken = () => resolve(true)));
      if ((await Promise.race([taken, this.aborted])) === ABORTED) return false;
    }
    return !this.#failed && !this.signal.aborted;
  }
}

/** Waits for 'drain'; false when the call was abandoned meanwhile (signal aborted). */
async function drained(call: ServerWritableStream<unknown, unknown>, signal: AbortSignal, aborted: Promise<typeof ABORTED>): Promise<boolean> {
  const drained = await Promise.race([
    once(call, "drain", { signal }).then(
      () => true,
      () => false,
    ),
    aborted,
  ]);
  return drained === true;
}

/**
 * Ends a streaming call with an error status (grpc-js turns an 'error' event on a server stream into the
 * call's final status, sent later from its own event handlers, where a throw would be lost: hence
 * sendableStatus first). Should the emit itself throw, a plain INTERNAL is emitted instead.
 */
function emitStatus(call: ServerWritableStream<unknown, unknown>, status: StatusObject, logger: CallLog, method: string): void {
  const sendable = sendableStatus(status, logger, method);
  try {
    call.emit("error", Object.assign(new Error(sendable.details), sendable));
  } catch (error: unknown) {
    logger.error({ err: error, method }, "sending the call's status failed; answering INTERNAL");
    const fallback = { code: GrpcCode.INTERNAL, details: UNSENDABLE_STATUS_DETAILS, metadata: new Metadata() };
    call.emit("error", Object.assign(new Error(fallback.details), fallback));
  }
}
