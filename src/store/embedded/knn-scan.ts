/**
 * The exact KNN scan of one embedded index: every row's distance to the query, the rows that can enter
 * the top k offered to the heap (the filter run only on those), in slices paced as scan-pacing.ts says.
 * A large float32 scan is shared with the store's scan threads (scan-threads.ts) when there are some.
 */
import { negativeNaN } from "../../domain/vector.js";
import type { ScanThreads } from "./scan-threads.js";
import { ScanPacer } from "./scan-pacing.js";
import type { TopKHeap } from "./top-k-heap.js";
import type { PreparedQuery, TypedRows, TypedScanPicks } from "./typed-rows.js";
import { THREAD_REGIONS, THREAD_SCAN_ROWS, VectorArena, type ScanMetric, type ScanPicks, type ThreadPicks } from "./vector-arena.js";

// A zero query vector under COSINE: Redis answers -nan for every item.
const NEGATIVE_NAN = negativeNaN();
/** Rows scanned at a time while the KNN heap is not yet full (every row is picked until then). */
const FILLING_ROWS = 512;
/**
 * Float32 scans of at least this many bytes of vectors are shared with other threads when the store has
 * some (about 2.7 ms on one thread here; a job's round trip costs ~55 µs).
 */
export const MIN_SHARED_SCAN_BYTES = 32 * 1024 * 1024;
/** Bytes of vectors per round of a shared scan for this thread and for each job (pacing as SCAN_SLICE_MS). */
const THREAD_JOB_BYTES = 16 * 1024 * 1024;

/** What one scan needs (EmbeddedIndex.search prepares it). */
export interface KnnScan {
  readonly arena: VectorArena | TypedRows;
  /** The query prepared for typed rows, else undefined (then `query` is scanned). */
  readonly typed: PreparedQuery | undefined;
  /** The query vector (normalised for COSINE). */
  readonly query: Float32Array;
  readonly metric: ScanMetric;
  /** Rows of the index. */
  readonly rows: number;
  readonly dimension: number;
  readonly heap: TopKHeap;
  readonly k: number;
  /** A zero query under COSINE: every distance is NaN; rows are offered at NaN without a scan (none when hybrid or ranged). */
  readonly allNaN: boolean;
  /** A pre-filtered (hybrid) query: rows at a NaN distance are left out. */
  readonly hybrid: boolean;
  /** Whether `accepts` must be asked (a filter or excluded ids). */
  readonly filtering: boolean;
  readonly accepts: (slot: number) => boolean;
  /** A range query's radius in the distances' precision, else undefined. */
  readonly radius: number | undefined;
  /** Rows per slice on this thread. */
  readonly sliceRows: number;
  readonly signal: AbortSignal | undefined;
  readonly threads: ScanThreads | undefined;
}

/** Runs the scan: `heap` then holds the top k. Throws once `signal` aborts (between slices). */
export async function scanKnn(scan: KnnScan): Promise<void> {
  const { arena, typed, query: q, metric: scanMetric, rows: n, heap, k, allNaN, hybrid, filtering, accepts, radius, sliceRows, signal, threads } = scan;
  const pacer = new ScanPacer(signal);
  const below = (): number => (radius === undefined ? heap.threshold : heap.size < k ? radius : Math.min(radius, heap.threshold));
  /** Offers the rows a scan of `[from, ...)` picked to the heap (filtering only rows that would enter). */
  const take = ({ distances, picked, count }: ScanPicks | TypedScanPicks, from: number): void => {
    for (let i = 0; i < count; i++) {
      const at = picked[i] as number;
      const d = distances[at] as number;
      const slot = from + at;
      if (!filtering) {
        heap.offer(d, slot);
        continue;
      }
      if (hybrid && Number.isNaN(d)) continue;
      // Distances are cheap, filters are not: only rows that would enter the top k are filtered.
      // Rows are skipped only once the heap holds k matches, so the result is exact.
      if (heap.admits(d, slot) && accepts(slot)) heap.offer(d, slot);
    }
  };
  /** Scans rows `[start, end)` on this thread, in slices of at most sliceRows. */
  const scanHere = (start: number, end: number): void => {
    for (let from = start; from < end; ) {
      // Only rows at or under the heap's threshold at the start of a scan can enter it (the threshold
      // never rises once the heap is full): the kernel picks those, so most rows never reach JS. Until
      // the heap is full every row is picked, so the rows are scanned in small parts until then.
      const to = heap.size < k ? Math.min(end, from + FILLING_ROWS) : Math.min(end, from + sliceRows);
      const threshold = below();
      take(typed !== undefined ? (arena as TypedRows).scanBelow(typed, from, to, threshold) : (arena as VectorArena).scanBelow(scanMetric, q, from, to, threshold), from);
      from = to;
    }
  };
  // A large float32 scan is shared with other threads (scan-threads.ts) when there are some: rows are
  // handed out `ownRows` at a time, up to THREAD_REGIONS jobs ahead (so a thread always has its next
  // job queued), while this thread scans a slice of its own and then takes the oldest job's picks; they
  // go through the same heap, so the result is the same as one thread's.
  const shared =
    threads !== undefined && threads.size > 0 && !allNaN && arena instanceof VectorArena && arena.scansInThreads && n * scan.dimension * 4 >= MIN_SHARED_SCAN_BYTES
      ? arena
      : undefined;
  const ownRows = shared === undefined ? sliceRows : Math.max(sliceRows, Math.min(THREAD_SCAN_ROWS, Math.floor(THREAD_JOB_BYTES / (scan.dimension * 4))));
  const jobs: { from: number; to: number; picks: Promise<ThreadPicks | undefined>; settled: boolean }[] = [];
  /** A job's picks into the heap (or its rows scanned here, if its thread failed). */
  const collect = (job: (typeof jobs)[number], picks: ThreadPicks | undefined): void => {
    if (picks === undefined) scanHere(job.from, job.to);
    else {
      take(picks, job.from);
      picks.release();
    }
  };
  try {
    for (let next = 0; next < n || jobs.length > 0; ) {
      await pacer.pace(shared !== undefined && threads?.alone === true ? ownRows : sliceRows);
      if (shared !== undefined && threads !== undefined && heap.size >= k) {
        const window = threads.jobsFor(THREAD_REGIONS);
        while (next < n && jobs.length < window) {
          const to = Math.min(n, next + ownRows);
          const picks = shared.scanBelowInThread(threads, scanMetric, q, next, to, below());
          if (picks === undefined) break;
          const job = { from: next, to, picks, settled: false };
          void picks.then(() => (job.settled = true));
          jobs.push(job);
          next = to;
        }
      }
      if (next < n) {
        // Until the heap is full, this thread scans only what fills it (jobs start once it is); with
        // other searches running, slices of one thread's size (see ScanThreads.counting).
        const rows = shared === undefined ? sliceRows : heap.size < k ? FILLING_ROWS : threads?.alone === true ? ownRows : sliceRows;
        const end = Math.min(n, next + rows);
        if (!allNaN) scanHere(next, end);
        else if (!hybrid && radius === undefined) {
          for (let slot = next; slot < end; slot++) {
            if (heap.admits(NEGATIVE_NAN, slot) && (!filtering || accepts(slot))) heap.offer(NEGATIVE_NAN, slot);
          }
        }
        next = end;
      }
      // The jobs done meanwhile; the oldest is waited for only once this thread has no rows left.
      while (jobs[0]?.settled === true || (next >= n && jobs.length > 0)) {
        const job = jobs.shift() as (typeof jobs)[number];
        collect(job, await job.picks);
      }
    }
  } finally {
    // A job's region is in use (and its rows read) until it settles: none is left behind.
    const left = jobs.splice(0);
    await Promise.all(left.map((job) => job.picks.then((picks) => picks?.release())));
  }
}
