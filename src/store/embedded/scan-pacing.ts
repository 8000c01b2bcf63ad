/**
 * Pacing of the embedded engine's scans: they hold the event loop for about SCAN_SLICE_MS at a time,
 * then yield to it (setImmediate), and stop once the call's signal aborts.
 */
import { throwIfAborted } from "../../domain/errors.js";
import { SCAN_CHUNK_ROWS } from "./vector-arena.js";

/**
 * How long a scan keeps the event loop before yielding to it (setImmediate): other calls, health checks
 * and the call's own deadline timer run in between, so a search never stalls the server for more than
 * about this long, and stops within about this long of its deadline or cancellation.
 */
export const SCAN_SLICE_MS = 4;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A pause that yields to the event loop once `ms` have passed since it last did. */
export function pauseEvery(ms: number): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < ms) return;
    await yieldToEventLoop();
    since = performance.now();
  };
}

/**
 * Paces a scan by elapsed time: `pace()` between slices throws once the signal is aborted, and yields
 * to the event loop once SCAN_SLICE_MS have passed since the last yield (the call's deadline is a timer
 * aborting the signal: it can only fire while the scan yields).
 */
export class ScanPacer {
  private since = performance.now();
  private rows = 0;
  constructor(private readonly signal: AbortSignal | undefined) {}

  /** Call before each slice of `rows` rows. */
  async pace(rows: number): Promise<void> {
    throwIfAborted(this.signal);
    // Also every SCAN_CHUNK_ROWS rows, however fast they go: a scan of many small rows still lets
    // other calls in (and notices its signal) as it always did.
    if (this.rows < SCAN_CHUNK_ROWS && performance.now() - this.since < SCAN_SLICE_MS) {
      this.rows += rows;
      return;
    }
    await yieldToEventLoop();
    throwIfAborted(this.signal);
    this.since = performance.now();
    this.rows = rows;
  }
}
