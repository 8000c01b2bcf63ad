/**
 * How long a Redis command may keep a call waiting. node-redis's own `timeout` and `abortSignal`
 * command options only cover a command still waiting to be written: once it is on the socket their
 * listeners are removed (commands-queue.js, commandsToWrite), so a Redis that stopped answering behind
 * an open socket (frozen, swapping, a long blocking command) would keep the call forever. So every
 * command is raced here against
 * - the caller's AbortSignal (the gRPC call's cancel or deadline), and
 * - a server-side maximum (`commandTimeoutMs`, 10 s by default),
 * whichever comes first. The reply, if it ever comes, is dropped; the command itself may still run on
 * Redis (nothing can take back bytes already written), which is what the proto comments tell clients.
 *
 * One timer per connection, not one per command: every command gets the same maximum, so the pending
 * ones expire in the order they were sent; the timer is set for the oldest one only.
 */
import { CancelledError, UnavailableError, VecrecError } from "../../domain/errors.js";

/** What a call aborted with: its CancelledError or DeadlineExceededError (as throwIfAborted throws). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof VecrecError ? reason : new CancelledError();
}

/**
 * The commands waiting on each signal. One 'abort' listener per signal fans out to all of them: an
 * Upsert of 1,000 items sends 1,000 commands under one call's signal, and a listener each would cost as
 * much and make Node warn about a listener leak (MaxListenersExceededWarning).
 */
const waitersBySignal = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `onAbort` when `signal` aborts; returns the function that forgets it. */
function whenAborted(signal: AbortSignal, onAbort: () => void): () => void {
  let waiters = waitersBySignal.get(signal);
  if (waiters === undefined) {
    const created = new Set<() => void>();
    waiters = created;
    waitersBySignal.set(signal, created);
    signal.addEventListener(
      "abort",
      () => {
        for (const waiter of [...created]) waiter();
        created.clear();
      },
      { once: true },
    );
  }
  const set = waiters;
  set.add(onAbort);
  return () => void set.delete(onAbort);
}

interface Pending {
  readonly expiresAt: number;
  expire(): void;
}

export class CommandBound {
  readonly #maxMs: number;
  readonly #pending = new Set<Pending>();
  #timer: NodeJS.Timeout | undefined;
  #lastAnswerAt = 0;

  constructor(maxMs: number) {
    this.#maxMs = maxMs;
  }

  get maxMs(): number {
    return this.#maxMs;
  }

  /** When Redis last answered one of these commands (a reply or an error reply), Date.now() ms; 0 never. */
  get lastAnswerAt(): number {
    return this.#lastAnswerAt;
  }

  /**
   * Records an answer from Redis now: for the commands of a pipeline, which run under one bound but
   * answer one by one (a long pipeline keeps Redis visibly answering while its PING waits behind it).
   */
  answered(): void {
    this.#lastAnswerAt = Date.now();
  }

  /**
   * Runs `send` unless `signal` has already aborted (then nothing is sent), and settles with its reply,
   * or rejects once `signal` aborts (with the signal's CancelledError or DeadlineExceededError) or
   * the maximum passes (UnavailableError), whichever comes first.
   */
  run<T>(send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let forget = (): void => undefined;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        this.#pending.delete(entry);
        forget();
        return true;
      };
      const onAbort = (): void => {
        if (finish() && signal !== undefined) reject(abortReason(signal));
      };
      const entry: Pending = {
        expiresAt: Date.now() + this.#maxMs,
        expire: () => {
          if (!finish()) return;
          reject(
            new UnavailableError(
              `Redis did not answer within ${this.#maxMs} ms (the longest vecrec waits for one command): ` +
                `it may be frozen or overloaded; the command may still run when it answers again`,
            ),
          );
        },
      };
      if (signal !== undefined) forget = whenAborted(signal, onAbort);
      this.#pending.add(entry);
      this.#arm();
      let sent: Promise<T>;
      try {
        sent = send();
      } catch (error) {
        finish();
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      sent.then(
        (value) => {
          this.#lastAnswerAt = Date.now();
          if (finish()) resolve(value);
        },
        (error: unknown) => {
          if (finish()) reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** Sets the timer for the oldest pending command, if none is set. */
  #arm(): void {
    if (this.#timer !== undefined) return;
    const oldest = this.#pending.values().next();
    if (oldest.done === true) return;
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, oldest.value.expiresAt - Date.now()) + 1);
    this.#timer.unref();
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = Date.now();
    for (const entry of this.#pending) {
      if (entry.expiresAt > now) break;
      entry.expire();
    }
    this.#arm();
  }
}
