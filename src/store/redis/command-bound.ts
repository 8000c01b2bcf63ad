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

/** A command waiting for its reply, in the connection's list of them (oldest first). */
interface Pending {
  readonly expiresAt: number;
  expire(): void;
  previous: Pending | undefined;
  next: Pending | undefined;
}

export class CommandBound {
  readonly #maxMs: number;
  /**
   * The commands waiting, oldest first: a list linked through the entries, each unlinked (both its
   * links cleared) once it settles. Not a Set: with the Set this used to be, at 16 concurrent Searches
   * the server promoted 10-12 KB per Search to the old generation (each command's promise and reply
   * surviving the scavenges until the next full collection) and spent 21-29 µs of scavenge per Search,
   * against 0.9-1.9 KB and 6-10 µs with the list (node --trace-gc-nvp; the Set alone, in a copy of the
   * build, made the difference). The likely path: under a steady stream of adds and deletes V8 rebuilds
   * a Set's table every few dozen adds, and a table left behind points to its successor and still
   * holds its old entries, so one table in the old generation keeps every later one alive.
   */
  #oldest: Pending | undefined;
  #newest: Pending | undefined;
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
        this.#unlink(entry);
        forget();
        return true;
      };
      const onAbort = (): void => {
        if (finish() && signal !== undefined) reject(abortReason(signal));
      };
      const entry: Pending = {
        previous: undefined,
        next: undefined,
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
      this.#append(entry);
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
    const oldest = this.#oldest;
    if (oldest === undefined) return;
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, oldest.expiresAt - Date.now()) + 1);
    this.#timer.unref();
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = Date.now();
    // expire() unlinks the entry, so the oldest is always the next to look at.
    for (let entry = this.#oldest; entry !== undefined && entry.expiresAt <= now; entry = this.#oldest) entry.expire();
    this.#arm();
  }

  #append(entry: Pending): void {
    entry.previous = this.#newest;
    if (this.#newest === undefined) this.#oldest = entry;
    else this.#newest.next = entry;
    this.#newest = entry;
  }

  #unlink(entry: Pending): void {
    if (entry.previous === undefined) this.#oldest = entry.next;
    else entry.previous.next = entry.next;
    if (entry.next === undefined) this.#newest = entry.previous;
    else entry.next.previous = entry.previous;
    entry.previous = undefined;
    entry.next = undefined;
  }
}
