/**
 * The AbortSignal of one call (call-signal.ts): the part of the AbortSignal interface that vecrec's
 * code and Node's `events.once(emitter, name, { signal })` use (`aborted`, `reason`,
 * `throwIfAborted()`, 'abort' listeners with `once`, `onabort`), as a plain object rather than a
 * Node AbortSignal.
 *
 * Why not `new AbortController().signal`: on Node 20 every AbortSignal outlives the scavenge that
 * follows it and is promoted to the old generation, with everything it reaches (its listeners and
 * what they close over), until the next full collection. Measured (a loop creating signals, node
 * --trace-gc-nvp): 294 bytes promoted per signal, none for a plain EventTarget or object. A server at
 * 16 concurrent Searches on Redis promoted ~900 bytes per call through its call's signal (74 with one
 * signal shared by every call, a probe), and spent about twice the scavenge time per call.
 *
 * Fidelity: listeners run in the order added, each once per abort, with `this` the signal and an
 * Event('abort'); adding a listener already there (same function, same capture) does nothing; a
 * listener added while the abort is dispatched is not called; one that throws is reported as an
 * uncaught exception on a later tick, as EventTarget reports it. It is not an EventTarget: it cannot
 * be passed to `AbortSignal.any`, nor to APIs that check for a real AbortSignal (none on vecrec's
 * paths; `events.once` and `timers/promises` only duck-type it), and `instanceof AbortSignal` is false
 * for it: vecrec's own code asks isAbortSignal below.
 */

type AbortListener = ((event: Event) => unknown) | { handleEvent(event: Event): unknown };

interface AddOptions {
  readonly capture?: boolean;
  readonly once?: boolean;
  readonly passive?: boolean;
  readonly signal?: AbortSignal;
}

interface Registered {
  readonly listener: AbortListener;
  readonly capture: boolean;
  readonly once: boolean;
}

function captureOf(options: boolean | { readonly capture?: boolean } | undefined): boolean {
  return typeof options === "boolean" ? options : options?.capture === true;
}

/** Whether `value` is an AbortSignal: Node's own, or a call's CallAbortSignal (which `instanceof AbortSignal` misses). */
export function isAbortSignal(value: unknown): value is AbortSignal {
  return value instanceof CallAbortSignal || value instanceof AbortSignal;
}

export class CallAbortSignal {
  aborted = false;
  reason: unknown = undefined;
  onabort: ((this: AbortSignal, event: Event) => unknown) | null = null;
  #listeners: Registered[] | undefined;

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  addEventListener(type: string, listener: AbortListener | null, options?: boolean | AddOptions): void {
    if (type !== "abort" || listener === null || this.aborted) return;
    const capture = captureOf(options);
    const listeners = (this.#listeners ??= []);
    if (listeners.some((r) => r.listener === listener && r.capture === capture)) return;
    const signal = typeof options === "object" ? options.signal : undefined;
    if (signal?.aborted === true) return;
    listeners.push({ listener, capture, once: typeof options === "object" && options.once === true });
    signal?.addEventListener("abort", () => this.removeEventListener(type, listener, options), { once: true });
  }

  removeEventListener(type: string, listener: AbortListener | null, options?: boolean | { readonly capture?: boolean }): void {
    if (type !== "abort" || listener === null || this.#listeners === undefined) return;
    const capture = captureOf(options);
    const at = this.#listeners.findIndex((r) => r.listener === listener && r.capture === capture);
    if (at >= 0) this.#listeners.splice(at, 1);
  }

  dispatchEvent(event: Event): boolean {
    const listeners = event.type === "abort" && this.#listeners !== undefined ? [...this.#listeners] : [];
    if (event.type === "abort" && this.onabort !== null) this.#call(this.onabort, event);
    for (const registered of listeners) {
      // One removed by a listener called before it is not called (as EventTarget does).
      if (this.#listeners?.includes(registered) !== true) continue;
      if (registered.once) this.removeEventListener("abort", registered.listener, registered.capture);
      this.#call(registered.listener, event);
    }
    return !event.defaultPrevented;
  }

  /** Aborts with `reason` (once: a later call does nothing), running the 'abort' listeners. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.dispatchEvent(new Event("abort"));
    this.#listeners = undefined;
  }

  #call(listener: AbortListener | ((this: AbortSignal, event: Event) => unknown), event: Event): void {
    try {
      if (typeof listener === "function") listener.call(this, event);
      else listener.handleEvent(event);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
}
