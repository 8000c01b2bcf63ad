/**
 * The arena's compact forms: a cosine arena keeps the rows normalised (what COSINE scans) and gives back
 * the rows exactly as written; the kernels pick exactly the rows at or under a threshold, with distances
 * bit-identical to the JS kernels and to src/domain/vector.ts, for every dimension shape.
 */
import { describe, expect, it } from "vitest";
import { distance, normalizeFloat32 } from "../../../../src/domain/vector.js";
import { VectorArena } from "../../../../src/store/embedded/vector-arena.js";

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function bits(vector: Float32Array): number[] {
  return Array.from(new Uint32Array(vector.buffer, vector.byteOffset, vector.length));
}

describe("cosine arena", () => {
  it("gives back every row bit for bit as written, across swap-removes and overwrites", () => {
    const next = random(11);
    for (const simd of [true, false]) {
      const arena = new VectorArena(9, { searchable: true, cosine: true, simd });
      const written: Float32Array[] = [];
      for (let i = 0; i < 400; i++) {
        const scale = [1, 1e-3, 1e30, 1e-30, 3e-39][i % 5] as number;
        const row = Float32Array.from({ length: 9 }, () => (next() * 2 - 1) * scale * (i % 7 === 0 ? next() ** 12 : 1));
        if (i % 11 === 0) row.fill(0);
        if (i % 13 === 0) row[3] = -0;
        if (i % 17 === 0) row.fill(-0);
        written.push(row);
        arena.append(row);
      }
      for (let i = 0; i < 60; i++) {
        const slot = Math.floor(next() * arena.size);
        const last = arena.swapRemove(slot);
        written[slot] = written[last] as Float32Array;
        written.pop();
      }
      const replacement = Float32Array.from({ length: 9 }, () => next());
      arena.set(5, replacement);
      written[5] = replacement;
      // A row kept verbatim (a zero vector) overwritten by one rebuilt from its steps, and the other way.
      const zeroSlot = written.findIndex((row, slot) => slot !== 5 && row.every((x) => x === 0));
      expect(zeroSlot).toBeGreaterThanOrEqual(0);
      const rebuilt = Float32Array.from({ length: 9 }, () => next() - 0.5);
      arena.set(zeroSlot, rebuilt);
      written[zeroSlot] = rebuilt;
      const zero = new Float32Array(9);
      arena.set(6, zero);
      written[6] = zero;
      for (let slot = 0; slot < arena.size; slot++) {
        const row = written[slot] as Float32Array;
        expect(bits(arena.copy(slot))).toEqual(bits(row));
        expect(arena.rowBitsEqual(slot, row)).toBe(true);
      }
      // The scan sees the rows normalised as normalizeFloat32 does.
      const query = normalizeFloat32(Float32Array.from({ length: 9 }, () => next() - 0.5));
      const distances = arena.scan("dot", query, 0, arena.size);
      for (let slot = 0; slot < arena.size; slot++) {
        expect(Object.is(distances[slot], Math.fround(1 - dot(normalizeFloat32(written[slot] as Float32Array), query)))).toBe(true);
      }
    }
  });
});

function dot(a: Float32Array, b: Float32Array): number {
  return 1 - distance("IP", a, b);
}

describe("scanBelow", () => {
  it("picks exactly the rows at or under the threshold (all of them for NaN), with the JS kernels' distances", () => {
    for (const dimension of [1, 2, 3, 4, 5, 8, 15, 16, 17, 64, 100, 128, 131]) {
      const next = random(dimension * 31);
      const simd = new VectorArena(dimension, { searchable: true });
      const js = new VectorArena(dimension, { searchable: true, simd: false });
      expect(simd.usesSimd).toBe(true);
      for (let i = 0; i < 203; i++) {
        const row = Float32Array.from({ length: dimension }, () => next() * 4 - 2);
        simd.append(row);
        js.append(row);
      }
      const query = Float32Array.from({ length: dimension }, () => next() * 4 - 2);
      for (const metric of ["l2", "dot"] as const) {
        const all = Array.from(js.scan(metric, query, 3, 200));
        for (let slot = 3; slot < 200; slot++) {
          const expected = metric === "l2" ? distance("L2", js.copy(slot), query) : distance("IP", js.copy(slot), query);
          expect(all[slot - 3]).toBe(expected);
        }
        const sorted = [...all].sort((a, b) => a - b);
        for (const threshold of [NaN, sorted[0] as number, sorted[20] as number, sorted[196] as number, -Infinity]) {
          const picks = simd.scanBelow(metric, query, 3, 200, threshold);
          expect(Array.from(picks.distances)).toEqual(all);
          const expected = all.flatMap((d, i) => (Number.isNaN(threshold) || d <= threshold ? [i] : []));
          expect(Array.from(picks.picked).sort((a, b) => a - b)).toEqual(expected);
          expect(picks.count).toBe(expected.length);
          const jsPicks = js.scanBelow(metric, query, 3, 200, threshold);
          expect(Array.from(jsPicks.picked)).toEqual(expected);
        }
      }
    }
  });
});
