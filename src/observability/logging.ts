/**
 * The process's JSON log (pino) and where it goes: stdout (or a file), written asynchronously in
 * batches instead of one synchronous write(2) per line, so that the access line of each call costs a
 * string append, not a system call on the event loop (nor a stall when the reader of a pipe is slow).
 *
 * - Lines are buffered until `LOG_BUFFER_BYTES` are pending (then written at once, off the event loop,
 *   by sonic-boom), and at most `LOG_FLUSH_MS` later otherwise, so a quiet server's lines still show
 *   promptly.
 * - Nothing is lost at shutdown: `flush()` (the graceful stop awaits it) writes out what is pending and
 *   waits for it; every other exit (`process.exit` on a fatal path, a second signal, an uncaught error)
 *   goes through pino's exit hook, which writes what is pending synchronously.
 * - Every line a call logs carries its trace id: the serving code logs a call's lines through a child
 *   logger with the call's fields (src/grpc/call-annotations.ts, callLogger), without an async context.
 */
import { pino, type Logger } from "pino";

/** Pending bytes that trigger a write. */
export const LOG_BUFFER_BYTES = 4096;
/** Longest time a line waits in the buffer (ms). */
export const LOG_FLUSH_MS = 100;

export interface ServiceLog {
  readonly logger: Logger;
  /** Writes out the pending lines and resolves once they are written (or the stream failed). */
  flush(): Promise<void>;
}

export interface ServiceLogOptions {
  readonly level: string;
  /** A file descriptor (default 1, stdout) or a file path (appended to). */
  readonly dest?: number | string;
}

export function createServiceLog(options: ServiceLogOptions): ServiceLog {
  // pino.destination registers the synchronous flush on process exit for asynchronous destinations.
  const destination = pino.destination({ dest: options.dest ?? 1, sync: false, minLength: LOG_BUFFER_BYTES });
  // sonic-boom's own periodicFlush writes (an empty buffer) even when idle; this only when something
  // is pending (its byte count; should that private field go away, every tick flushes, as periodicFlush).
  const pending = (): boolean => (destination as unknown as { _len?: number })._len !== 0;
  const timer = setInterval(() => {
    if (!pending()) return;
    try {
      destination.flush(); // a no-op while a write is under way: the next tick
    } catch {
      clearInterval(timer); // destroyed (EPIPE: the reader of stdout is gone)
    }
  }, LOG_FLUSH_MS);
  timer.unref();
  const logger = pino({ name: "vecrec", level: options.level }, destination);
  return {
    logger,
    flush: () =>
      new Promise<void>((resolve) => {
        try {
          destination.flush(() => resolve()); // called with an error too (destroyed, no fsync on a pipe)
        } catch {
          resolve();
        }
      }),
  };
}
