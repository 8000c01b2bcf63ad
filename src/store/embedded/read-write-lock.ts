/**
 * A readers-writer lock for one index: searches that yield to the event loop between chunks hold a read
 * lock so that writes (which move rows in the arena) wait for them. Waiting writers block new readers,
 * so a stream of searches cannot starve writes. Grants are FIFO.
 */
export class ReadWriteLock {
  private readers = 0;
  private writing = false;
  private readonly queue: { write: boolean; grant: () => void }[] = [];

  /** Runs `fn` under a read lock. */
  async read<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.readers--;
      this.pump();
    }
  }

  /** Runs `fn` under the write lock. */
  async write<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.writing = false;
      this.pump();
    }
  }

  private acquire(write: boolean): Promise<void> {
    if (this.queue.length === 0 && !this.writing && (!write || this.readers === 0)) {
      if (write) this.writing = true;
      else this.readers++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push({ write, grant: resolve }));
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
