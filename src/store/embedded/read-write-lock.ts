/**
 * A readers-writer lock for one index: searches that yield to the event loop between chunks hold a read
 * lock so that writes (which move rows in the arena) wait for them. Waiting writers block new readers,
 * so a stream of searches cannot starve writes. Grants are FIFO. A waiter whose signal aborts leaves the
 * queue at once and fails with the signal's CancelledError / DeadlineExceededError: a call that ended
 * does not do its work later.
 */
import { throwIfAborted } from "../../domain/errors.js";

export class ReadWriteLock {
  private readers = 0;
  private writing = false;
  private readonly queue: { write: boolean; grant: () => void }[] = [];

  /** Runs `fn` under a read lock (unless `signal` aborts first). */
  async read<T>(fn: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    await this.acquire(false, signal);
    try {
      return await fn();
    } finally {
      this.readers--;
      this.pump();
    }
  }

  /** Runs `fn` under the write lock (unless `signal` aborts first). */
  async write<T>(fn: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    await this.acquire(true, signal);
    try {
      return await fn();
    } finally {
      this.writing = false;
      this.pump();
    }
  }

  private acquire(write: boolean, signal: AbortSignal | undefined): Promise<void> {
    throwIfAborted(signal);
    if (this.queue.length === 0 && !this.writing && (!write || this.readers === 0)) {
      if (write) this.writing = true;
      else this.readers++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.queue.indexOf(waiter);
        if (at < 0) return;
        this.queue.splice(at, 1);
        // A reader queued behind this waiter may go now.
        this.pump();
        try {
          throwIfAborted(signal);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      const waiter = {
        write,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.queue.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.writing) {
      const next = this.queue[0];
      if (next === undefined) return;
      if (next.write) {
        if (this.readers > 0) return;
        this.queue.shift();
        this.writing = true;
        next.grant();
        return;
      }
      this.queue.shift();
      this.readers++;
      next.grant();
    }
  }
}
