/**
 * Threads that run the SIMD scan kernels (simd-kernels.ts) over an arena's rows while the main thread
 * scans other rows of the same search (knn-scan.ts): the rows live in a shared WebAssembly memory, so a
 * thread reads them in place; it writes its distances and picks into a region of that memory the arena
 * lent the job (vector-arena.ts, scanBelowInThread) and answers with the pick count.
 *
 * Measured on the 2-core machine of the README (scratch, 1M x 128 float32 rows, the dot kernel): one
 * thread scans them in 42 ms, the main thread and one more in 22 ms (1.92x). A job's round trip costs
 * ~55 µs (the message, and instantiating the kernels over the memory in the thread), so only scans of
 * many rows are shared (MIN_SHARED_SCAN_BYTES in knn-scan.ts).
 *
 * A thread holds at most JOBS_PER_THREAD jobs (it runs them in order); when every thread is full (other
 * searches), the caller scans the rows itself. A thread that fails (or exits) fails its jobs with
 * `undefined` (the caller then scans those rows itself) and is replaced by the next job that needs one.
 * The threads are unref'd (they never keep the process alive) and end with `close()`.
 *
 * Why by hand: the job is one kernel call over memory the threads already share; a worker-pool package
 * would add a queue and a task protocol around twenty lines (and none shares WebAssembly memories).
 */
import { Worker } from "node:worker_threads";
import type { KernelMetric, WasmMemory } from "./simd-kernels.js";

/** One kernel call over a shared memory: the arguments of a SimdKernels function, addresses in bytes. */
export interface ScanJob {
  readonly memory: WasmMemory;
  /** The kernels' module compiled for that shared memory (SimdMemory.shared.module). */
  readonly module: object;
  readonly metric: KernelMetric;
  readonly rows: number;
  readonly query: number;
  readonly count: number;
  readonly out: number;
  readonly picked: number;
  readonly threshold: number;
}

/** The thread's code (CommonJS, evaluated: it needs nothing but the job). */
const THREAD_SOURCE = `
const { parentPort } = require("node:worker_threads");
parentPort.on("message", (job) => {
  let picks = -1;
  try {
    const kernels = new WebAssembly.Instance(job.module, { env: { mem: job.memory } }).exports;
    picks = kernels[job.metric](job.rows, job.query, job.count, job.out, job.picked, job.threshold);
  } catch {
    picks = -1;
  }
  parentPort.postMessage(picks);
});
`;

/** Jobs a thread may hold at once: one running, one waiting in its message queue (no idle gap between them). */
export const JOBS_PER_THREAD = 2;

interface ScanThread {
  readonly worker: Worker;
  /** Settles the jobs handed to it, oldest first (undefined: the thread failed). */
  readonly pending: ((picks: number | undefined) => void)[];
}

export class ScanThreads {
  /** How many threads may run at once (besides the main thread). */
  readonly size: number;
  #closed = false;
  readonly #all = new Set<ScanThread>();
  #scans = 0;

  constructor(size: number) {
    this.size = Math.max(0, Math.floor(size));
  }

  /**
   * Counts a search of the store while `scan` runs, for `jobsFor`. Concurrent searches read the same
   * rows close together in time on the main thread and share the CPU caches: measured on 1M x 128 with
   * one thread (scratch, 48 searches, stores with and without threads alternately), 8 at once served
   * 1.75x as many searches a second as one at a time on the main thread alone, and spreading their
   * scans over the thread lost that (0.75x); 2 at once gained 1.34-1.38x from one job at a time on an
   * idle thread, 4 at once neither gained nor lost (0.94-1.05x).
   */
  async counting<T>(scan: () => Promise<T>): Promise<T> {
    this.#scans++;
    try {
      return await scan();
    } finally {
      this.#scans--;
    }
  }

  /**
   * How many jobs a search may have in flight now: `window` when it runs alone; while no more searches
   * run than there are threads and the main one, one job, if a thread is idle; else none (it keeps to the
   * main thread, see counting).
   */
  jobsFor(window: number): number {
    if (this.#closed) return 0;
    if (this.#scans <= 1) return window;
    if (this.#scans > this.size + 1) return 0;
    return this.#all.size < this.size || [...this.#all].some((t) => t.pending.length === 0) ? 1 : 0;
  }

  /** Whether the search asking runs alone (see counting). */
  get alone(): boolean {
    return this.#scans <= 1;
  }

  /**
   * Hands `job` to the least busy thread (started if there is room) holding fewer than JOBS_PER_THREAD:
   * resolves with the kernel's pick count, or undefined if the thread failed. Undefined at once when no
   * thread has room or the pool is closed.
   */
  tryRun(job: ScanJob): Promise<number | undefined> | undefined {
    const thread = this.#take();
    if (thread === undefined) return undefined;
    return new Promise((resolve) => {
      thread.pending.push(resolve);
      try {
        thread.worker.postMessage(job);
      } catch {
        this.#fail(thread);
      }
    });
  }

  /** Ends every thread; jobs in flight resolve with undefined. */
  async close(): Promise<void> {
    this.#closed = true;
    const threads = [...this.#all];
    this.#all.clear();
    await Promise.all(
      threads.map(async (thread) => {
        for (const settle of thread.pending.splice(0)) settle(undefined);
        await thread.worker.terminate();
      }),
    );
  }

  #take(): ScanThread | undefined {
    if (this.#closed) return undefined;
    let best: ScanThread | undefined;
    for (const thread of this.#all) if (best === undefined || thread.pending.length < best.pending.length) best = thread;
    if (best !== undefined && (best.pending.length === 0 || this.#all.size >= this.size)) {
      return best.pending.length < JOBS_PER_THREAD ? best : undefined;
    }
    if (this.#all.size >= this.size) return undefined;
    const worker = new Worker(THREAD_SOURCE, { eval: true });
    worker.unref();
    const thread: ScanThread = { worker, pending: [] };
    this.#all.add(thread);
    worker.on("message", (picks: number) => (picks >= 0 ? thread.pending.shift()?.(picks) : this.#fail(thread)));
    worker.on("error", () => this.#fail(thread));
    worker.on("exit", () => this.#fail(thread));
    return thread;
  }

  /** Drops a thread that failed (its jobs get undefined); a later job starts another in its place. */
  #fail(thread: ScanThread): void {
    if (!this.#all.delete(thread)) return;
    for (const settle of thread.pending.splice(0)) settle(undefined);
    void thread.worker.terminate().catch(() => undefined);
  }
}
