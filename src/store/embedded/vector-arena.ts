/**
 * Vectors of one index in one contiguous Float32Array (row `slot` at `slot * dimension`), grown by
 * doubling; removal moves the last row into the hole so rows stay dense.
 *
 * A searchable arena can also compute the distances of a range of rows to a query (`scan`). It keeps its
 * rows in WebAssembly memory and uses the SIMD kernels when the runtime has them, else the JS kernels;
 * both give bit-identical results (those of src/domain/vector.ts).
 */
import { float32DotAt, float32SquaredL2At } from "../../domain/vector.js";
import { createSimdMemory, type SimdKernels, type WasmMemory } from "./simd-kernels.js";

/** The most rows one `scan` call covers. */
export const SCAN_CHUNK_ROWS = 8192;

const PAGE_BYTES = 65536;
const INITIAL_ROWS = 64;

/** `l2`: squared Euclidean distance; `dot`: 1 - dot product (IP, and COSINE over normalised rows). */
export type ScanMetric = "l2" | "dot";

export class VectorArena {
  readonly dimension: number;
  private data: Float32Array;
  private capacity: number;
  private rows = 0;
  private readonly wasm:
    | { memory: WasmMemory; kernels: SimdKernels; queryOffset: number; outOffset: number; rowsOffset: number }
    | undefined;
  private readonly jsOut: Float32Array | undefined;

  /**
   * @param options.searchable whether `scan` is needed (rows then live in WebAssembly memory when SIMD is
   *   available); `simd: false` forces the JS kernels (for tests).
   */
  constructor(dimension: number, options: { searchable: boolean; simd?: boolean }) {
    this.dimension = dimension;
    this.capacity = INITIAL_ROWS;
    if (options.searchable && options.simd !== false) {
      const queryBytes = align16(dimension * 4);
      const outOffset = queryBytes;
      const rowsOffset = align16(outOffset + SCAN_CHUNK_ROWS * 4);
      const simd = createSimdMemory(pagesFor(rowsOffset + this.capacity * dimension * 4));
      if (simd !== undefined) {
        this.wasm = { ...simd, queryOffset: 0, outOffset, rowsOffset };
        this.data = new Float32Array(simd.memory.buffer, rowsOffset, this.capacity * dimension);
        this.jsOut = undefined;
        return;
      }
    }
    this.wasm = undefined;
    this.data = new Float32Array(this.capacity * dimension);
    this.jsOut = options.searchable ? new Float32Array(SCAN_CHUNK_ROWS) : undefined;
  }

  get size(): number {
    return this.rows;
  }

  /** Whether `scan` runs the WebAssembly SIMD kernels. */
  get usesSimd(): boolean {
    return this.wasm !== undefined;
  }

  /** Appends a row; returns its slot. `vector.length` must equal the dimension. */
  append(vector: Float32Array): number {
    if (this.rows === this.capacity) this.grow(this.capacity * 2);
    this.data.set(vector, this.rows * this.dimension);
    return this.rows++;
  }

  /** Overwrites the row at `slot`. */
  set(slot: number, vector: Float32Array): void {
    this.data.set(vector, slot * this.dimension);
  }

  /** A copy of the row at `slot`. */
  copy(slot: number): Float32Array {
    return this.data.slice(slot * this.dimension, (slot + 1) * this.dimension);
  }

  /** Whether the row at `slot` holds exactly the bits of `vector` (so -0 differs from 0, NaN payloads count). */
  rowBitsEqual(slot: number, vector: Float32Array): boolean {
    const dim = this.dimension;
    if (vector.length !== dim) return false;
    const row = new Uint32Array(this.data.buffer, this.data.byteOffset + slot * dim * 4, dim);
    const other = new Uint32Array(vector.buffer, vector.byteOffset, dim);
    for (let i = 0; i < dim; i++) if (row[i] !== other[i]) return false;
    return true;
  }

  /**
   * Removes the row at `slot` by moving the last row into it; returns the slot the moved row came from
   * (equal to `slot` when the removed row was the last).
   */
  swapRemove(slot: number): number {
    const last = this.rows - 1;
    const dim = this.dimension;
    if (slot !== last) this.data.copyWithin(slot * dim, last * dim, this.rows * dim);
    this.rows = last;
    if (this.wasm === undefined && this.capacity > 1024 && this.rows * 4 < this.capacity) {
      // Give memory back after large deletions, keeping room to grow 2x (WebAssembly memory cannot shrink).
      this.capacity = Math.max(INITIAL_ROWS, this.rows * 2);
      this.data = this.data.slice(0, this.capacity * dim);
    }
    return last;
  }

  /**
   * Distances of rows `[start, end)` (at most SCAN_CHUNK_ROWS) to `query`, as float32 values in a
   * view that the next `scan` call overwrites. Only on searchable arenas.
   */
  scan(metric: ScanMetric, query: Float32Array, start: number, end: number): Float32Array {
    const count = end - start;
    const dim = this.dimension;
    if (count > SCAN_CHUNK_ROWS) throw new RangeError(`scan of ${count} rows exceeds ${SCAN_CHUNK_ROWS}`);
    const wasm = this.wasm;
    if (wasm !== undefined) {
      const buffer = wasm.memory.buffer;
      new Float32Array(buffer, wasm.queryOffset, dim).set(query);
      const rowsAddress = wasm.rowsOffset + start * dim * 4;
      if (metric === "l2") wasm.kernels.l2(rowsAddress, wasm.queryOffset, dim, count, wasm.outOffset);
      else wasm.kernels.dot(rowsAddress, wasm.queryOffset, dim, count, wasm.outOffset);
      return new Float32Array(buffer, wasm.outOffset, count);
    }
    const out = this.jsOut;
    if (out === undefined) throw new Error("scan on an arena that is not searchable");
    const rows = this.data;
    if (metric === "l2") {
      for (let i = 0; i < count; i++) out[i] = float32SquaredL2At(rows, (start + i) * dim, query, dim);
    } else {
      for (let i = 0; i < count; i++) out[i] = 1 - float32DotAt(rows, (start + i) * dim, query, dim);
    }
    return out.subarray(0, count);
  }

  private grow(capacity: number): void {
    const dim = this.dimension;
    const wasm = this.wasm;
    if (wasm !== undefined) {
      const needed = pagesFor(wasm.rowsOffset + capacity * dim * 4);
      const current = wasm.memory.buffer.byteLength / PAGE_BYTES;
      // Growing keeps the bytes in place; only the views must be made again.
      if (needed > current) wasm.memory.grow(needed - current);
      this.data = new Float32Array(wasm.memory.buffer, wasm.rowsOffset, capacity * dim);
    } else {
      const grown = new Float32Array(capacity * dim);
      grown.set(this.data.subarray(0, this.rows * dim));
      this.data = grown;
    }
    this.capacity = capacity;
  }
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

function pagesFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / PAGE_BYTES));
}
