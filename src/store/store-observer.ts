/**
 * What a store tells an observer (metrics, tracing) about its round trips, without knowing who listens:
 * defined here, in the store layer, so that stores import no metrics or tracing package; main wires an
 * implementation (src/observability/). A store given none observes nothing and pays nothing.
 */
export interface StoreObserver {
  /**
   * One Redis round trip starts: `command` is the command's name (`HSET`, `FT.SEARCH`, `MULTI` for a
   * transaction), `signal` the signal of the call it serves (a tracer finds the call's span by it), when
   * it serves one. Returns the function to call once it ends, with the error when it failed.
   */
  redisCommand(command: string, signal: AbortSignal | undefined): (error?: unknown) => void;
}
