/**
 * Measurement helpers shared by the benchmark parts: a seeded PRNG (every run loads the same data),
 * quantiles, latency at one caller and throughput at many concurrent callers.
 */
import { performance } from "node:perf_hooks";

/** Deterministic PRNG (mulberry32) so every run loads the same data. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The q-quantile (nearest rank) of an ascending array; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx] as number;
}

export const median = (sorted: readonly number[]): number => quantile(sorted, 0.5);

/** The median (nearest rank, as `median`) of values in any order (sorts a copy). */
export const medianOf = (values: readonly number[]): number => median([...values].sort((a, b) => a - b));

/**
 * Latency at concurrency 1 of several calls measured together: `warmup` untimed rounds, then `rounds`
 * rounds calling each in turn (the order rotating every round, so none always runs right after
 * another). Returns each call's latencies in ms, ascending.
 */
export async function interleavedLatency(
  calls: readonly (() => Promise<unknown>)[],
  rounds: number,
  warmup = 30,
): Promise<number[][]> {
  for (let i = 0; i < warmup; i++) for (const call of calls) await call();
  const samples = calls.map((): number[] => []);
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < calls.length; j++) {
      const which = (round + j) % calls.length;
      const t0 = performance.now();
      await (calls[which] as () => Promise<unknown>)();
      (samples[which] as number[]).push(performance.now() - t0);
    }
  }
  return samples.map((s) => s.sort((a, b) => a - b));
}

/** Calls per second of `callers` concurrent loops sharing `total` calls (after a short warm-up). */
export async function throughput(call: () => Promise<unknown>, callers: number, total: number): Promise<number> {
  const run = async (count: number): Promise<void> => {
    let next = 0;
    const loop = async (): Promise<void> => {
      while (next < count) {
        next++;
        await call();
      }
    };
    await Promise.all(Array.from({ length: callers }, loop));
  };
  await run(Math.min(total, callers * 4));
  const t0 = performance.now();
  await run(total);
  return total / ((performance.now() - t0) / 1000);
}

export const fixed = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");
