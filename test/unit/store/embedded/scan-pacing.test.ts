/**
 * Issue 11: a long embedded scan neither stalls the event loop nor outlives its deadline by more than
 * a slice. Before, a scan yielded only between 8,192-row chunks, so a search over fewer rows never
 * yielded at all: a timer due during it fired only after it, and an abort came too late to stop it.
 */
import { describe, expect, it } from "vitest";
import { DeadlineExceededError } from "../../../../src/domain/errors.js";
import type { FilterNode } from "../../../../src/domain/filter/filter.js";
import type { IndexSpec } from "../../../../src/domain/schema.js";
import { createEmbeddedStore } from "../../../../src/store/embedded/embedded-store.js";

const ROWS = 8_000;
const DIM = 256;
const spec = {
  name: "p",
  fields: [
    { name: "descr", type: "text", weight: 1 },
    { name: "vec", type: "vector", dimension: DIM, algorithm: "FLAT", metric: "COSINE", elementType: "FLOAT32" },
  ],
} as unknown as IndexSpec;
// A costly filter for any matcher: prefixes that no word of a row's long text starts with, so each row
// compares every prefix with every word (filters of the stand-in's Redis dialect may hold prefixes).
const WORDS = Array.from({ length: 100 }, (_, i) => `w${i}`);
const costly: FilterNode = {
  op: "or",
  children: Array.from({ length: 16 }, (_, c): FilterNode => ({ op: "text", field: "descr", terms: [`zz${c}*`] })),
};

async function filledStore() {
  const store = createEmbeddedStore();
  await store.createIndex(spec);
  let seed = 1;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647) - 0.5;
  await store.upsert(
    "p",
    Array.from({ length: ROWS }, (_, i) => ({
      id: `i${i}`,
      vector: Float32Array.from({ length: DIM }, random),
      fields: { descr: { type: "text" as const, value: `${WORDS.join(" ")} item${i}` } },
    })),
  );
  return store;
}
const query = (signal?: AbortSignal) => ({
  vector: Float32Array.from({ length: DIM }, (_, i) => (i % 3) - 1),
  k: 10,
  offset: 0,
  filter: costly,
  returnFields: [],
  includeVectors: false,
  ...(signal && { signal }),
});

describe("embedded scan pacing", () => {
  it("lets a timer run while one scan of fewer than 8,192 rows is under way", async () => {
    const store = await filledStore();
    let timerRanDuringScan = false;
    let scanning = true;
    setTimeout(() => (timerRanDuringScan = scanning), 1);
    const started = performance.now();
    await store.search("p", query());
    scanning = false;
    const took = performance.now() - started;
    // The scan takes tens of ms even on a fast machine; if it ever took under 5 ms, say so.
    if (took < 5) console.log(`scan-pacing: the scan took only ${took.toFixed(1)} ms; the timer may not have been due`);
    else expect(timerRanDuringScan).toBe(true);
    await store.close();
  });

  it("stops a scan once its deadline passes, before the scan is done", async () => {
    const store = await filledStore();
    const full = performance.now();
    await store.search("p", query());
    const fullMs = performance.now() - full;
    const controller = new AbortController();
    let aborted = false;
    setTimeout(() => {
      aborted = true;
      controller.abort(new DeadlineExceededError());
    }, 1);
    await expect(store.search("p", query(controller.signal))).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(aborted).toBe(true);
    expect(fullMs).toBeGreaterThan(0);
    await store.close();
  });
});
