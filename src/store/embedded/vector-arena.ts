/**
 * Vectors of one index in one contiguous Float32Array (row `slot` at `slot * dimension`), grown by
 * doubling; removal moves the last row into the hole so rows stay dense.
 *
 * A searchable arena can also compute the distances of a range of rows to a query (`scan`), and pick the
 * rows at or under a threshold (`scanBelow`). It keeps its rows in WebAssembly memory and uses the SIMD
 * kernels when the runtime has them, else the JS kernels; both give bit-identical results (those of
 * src/domain/vector.ts). The memory is shared when the runtime allows it, so that scan threads read the
 * rows in place (`scanBelowInThread`, scan-threads.ts); the layout is: the main thread's query,
 * distances and picks, THREAD_REGIONS regions for thread jobs (only touched when used), then the rows.
 *
 * A cosine arena stores each row normalised as normalizeFloat32 does (what COSINE scans, with `dot`), and
 * gives back the row as written from it: `fround(normalised * norm)` is the written component or one
 * float32 step away from it, so the arena keeps the row's float32 norm and two bits per component saying
 * which (4 + dim/4 bytes a row instead of a second copy of the vectors). A row that cannot be rebuilt so
 * (a zero vector, whose normalised components are NaN; components that underflow) is kept as written
 * beside it.
 */
import { float32DotAt, float32SquaredL2At } from "../../domain/vector.js";
import { createSimdMemory, type KernelMetric, type SimdKernels, type WasmMemory } from "./simd-kernels.js";
import type { ScanThreads } from "./scan-threads.js";

/** The most rows one `scan` call covers. */
export const SCAN_CHUNK_ROWS = 8192;

/** The most rows one `scanBelowInThread` job covers. */
export const THREAD_SCAN_ROWS = 32768;

/**
 * Jobs of one arena that can run on other threads at once (each needs its own query, distances and
 * picks in the shared memory: ~257 KiB of address space each, only touched when used).
 */
export const THREAD_REGIONS = 4;

const PAGE_BYTES = 65536;
const INITIAL_ROWS = 64;

/** `l2`: squared Euclidean distance; `dot`: 1 - dot product (IP, and COSINE over a cosine arena's rows). */
export type ScanMetric = KernelMetric;

/** What `scanBelow` found: views that the next scan overwrites. */
export interface ScanPicks {
  /** The distance of every row of the range, by position in the range. */
  readonly distances: Float32Array;
  /** Positions in the range of the rows picked (in no particular order), in `picked[0 .. count)`. */
  readonly picked: Int32Array;
  readonly count: number;
}

interface WasmLayout {
  memory: WasmMemory;
  kernels: SimdKernels;
  queryOffset: number;
  outOffset: number;
  pickedOffset: number;
  rowsOffset: number;
  /** When the memory is shared: the module for other threads, and the regions their jobs use. */
  threads: { readonly module: object; readonly regions: readonly ThreadRegion[]; readonly free: number[] } | undefined;
}

/** Where one thread job keeps its query, distances and picks (byte offsets). */
interface ThreadRegion {
  readonly query: number;
  readonly out: number;
  readonly picked: number;
}

/** What a thread job found (as ScanPicks); `release()` gives its region back once they are read. */
export interface ThreadPicks extends ScanPicks {
  release(): void;
}

/** What a cosine arena keeps to give back the rows as written. */
interface AsWritten {
  /** float32Norm of each row. */
  norms: Float32Array;
  /** Per row, 2 bits per component: 0 the rebuilt component is exact, 1 one step up, 2 one step down. */
  steps: Uint8Array;
  /** Rows that cannot be rebuilt, as written. */
  readonly verbatim: Map<number, Float32Array>;
}

/** A cosine arena's scratch for one row being written: the row as written and as rebuilt, with their bits. */
interface RowScratch {
  readonly written: Float32Array;
  readonly writtenBits: Int32Array;
  readonly rebuilt: Float32Array;
  readonly rebuiltBits: Int32Array;
}

function rowScratch(dimension: number): RowScratch {
  const written = new Float32Array(dimension);
  const rebuilt = new Float32Array(dimension);
  return { written, writtenBits: new Int32Array(written.buffer), rebuilt, rebuiltBits: new Int32Array(rebuilt.buffer) };
}

export class VectorArena {
  readonly dimension: number;
  /** The rows (normalised in a cosine arena). */
  private data: Float32Array;
  private readonly asWritten: AsWritten | undefined;
  private readonly scratch: RowScratch;
  private readonly stepBytes: number;
  private capacity: number;
  private rows = 0;
  private readonly wasm: WasmLayout | undefined;
  private readonly jsOut: Float32Array | undefined;
  private readonly jsPicked: Int32Array | undefined;

  /**
   * @param options.searchable whether `scan` is needed (rows then live in WebAssembly memory when SIMD is
   *   available); `simd: false` forces the JS kernels (for tests); `cosine` stores the rows normalised
   *   (see above).
   */
  constructor(dimension: number, options: { searchable: boolean; simd?: boolean; cosine?: boolean }) {
    this.dimension = dimension;
    this.capacity = INITIAL_ROWS;
    this.stepBytes = Math.ceil(dimension / 4);
    this.scratch = rowScratch(options.cosine === true ? dimension : 0);
    this.asWritten =
      options.cosine === true
        ? { norms: new Float32Array(this.capacity), steps: new Uint8Array(this.capacity * this.stepBytes), verbatim: new Map() }
        : undefined;
    if (options.searchable && options.simd !== false) {
      const outOffset = align16(dimension * 4);
      const pickedOffset = outOffset + SCAN_CHUNK_ROWS * 4;
      const regionsOffset = pickedOffset + SCAN_CHUNK_ROWS * 4;
      const regionBytes = align16(dimension * 4) + THREAD_SCAN_ROWS * 8;
      const regions: ThreadRegion[] = [];
      for (let i = 0; i < THREAD_REGIONS; i++) {
        const query = regionsOffset + i * regionBytes;
        const out = query + align16(dimension * 4);
        regions.push({ query, out, picked: out + THREAD_SCAN_ROWS * 4 });
      }
      // The regions are laid out either way (the memory is shared or not only once it is made).
      const rowsOffset = regionsOffset + THREAD_REGIONS * regionBytes;
      const simd = createSimdMemory(dimension, pagesFor(rowsOffset + this.capacity * dimension * 4));
      if (simd !== undefined) {
        const threads = simd.shared === undefined ? undefined : { module: simd.shared.module, regions, free: regions.map((_, i) => i) };
        this.wasm = { memory: simd.memory, kernels: simd.kernels, queryOffset: 0, outOffset, pickedOffset, rowsOffset, threads };
        this.data = new Float32Array(simd.memory.buffer, rowsOffset, this.capacity * dimension);
        this.jsOut = undefined;
        this.jsPicked = undefined;
        return;
      }
    }
    this.wasm = undefined;
    this.data = new Float32Array(this.capacity * dimension);
    this.jsOut = options.searchable ? new Float32Array(SCAN_CHUNK_ROWS) : undefined;
    this.jsPicked = options.searchable ? new Int32Array(SCAN_CHUNK_ROWS) : undefined;
  }

  get size(): number {
    return this.rows;
  }

  /** Whether `scan` runs the WebAssembly SIMD kernels. */
  get usesSimd(): boolean {
    return this.wasm !== undefined;
  }

  /** Whether the rows are in shared memory, so that `scanBelowInThread` can run. */
  get scansInThreads(): boolean {
    return this.wasm?.threads !== undefined;
  }

  /** Appends a row; returns its slot. `vector.length` must equal the dimension. */
  append(vector: Float32Array): number {
    if (this.rows === this.capacity) this.grow(this.capacity * 2);
    this.set(this.rows, vector);
    return this.rows++;
  }

  /** Overwrites the row at `slot`. */
  set(slot: number, vector: Float32Array): void {
    const asWritten = this.asWritten;
    if (asWritten === undefined) {
      this.data.set(vector, slot * this.dimension);
      return;
    }
    const dim = this.dimension;
    const offset = slot * dim;
    const data = this.data;
    // The row as written, in scratch with an integer view of its bits (no view made per row), and each
    // normalised component multiplied back, side by side: three plain loops over typed arrays (a 128-dim
    // row cost ~2.8 µs with a float-to-bits round trip per component, 1.4-1.9 µs so).
    const written = this.scratch.written;
    const rebuilt = this.scratch.rebuilt;
    written.set(vector);
    // float32Norm's loop, inline: calling it here measured as slow as the old code.
    let sum = 0;
    for (let j = 0; j < dim; j++) {
      const x = written[j] as number;
      sum += x * x;
    }
    const norm = Math.fround(Math.sqrt(sum));
    // normalizeFloat32: each component divided by the norm, rounded to float32.
    for (let j = 0; j < dim; j++) {
      const normalised = Math.fround((written[j] as number) / norm);
      data[offset + j] = normalised;
      rebuilt[j] = normalised * norm;
    }
    asWritten.norms[slot] = norm;
    // Per component, how far (in float32 steps) the written value lies from the rebuilt one: 2 bits each.
    const writtenBits = this.scratch.writtenBits;
    const rebuiltBits = this.scratch.rebuiltBits;
    const steps = asWritten.steps;
    const stepsOffset = slot * this.stepBytes;
    let exact = true;
    for (let b = 0; b < this.stepBytes; b++) {
      let byte = 0;
      for (let k = 0; k < 4; k++) {
        const j = b * 4 + k;
        if (j >= dim) break;
        const step = (writtenBits[j] as number) - (rebuiltBits[j] as number);
        if (step === 1) byte |= 1 << (k * 2);
        else if (step === -1) byte |= 2 << (k * 2);
        else if (step !== 0) exact = false;
      }
      steps[stepsOffset + b] = byte;
    }
    if (exact) {
      if (asWritten.verbatim.size > 0) asWritten.verbatim.delete(slot);
    } else asWritten.verbatim.set(slot, vector.slice());
  }

  /** A copy of the row at `slot` (as written). */
  copy(slot: number): Float32Array {
    const dim = this.dimension;
    const asWritten = this.asWritten;
    if (asWritten === undefined) return this.data.slice(slot * dim, (slot + 1) * dim);
    const verbatim = asWritten.verbatim.get(slot);
    if (verbatim !== undefined) return verbatim.slice();
    const out = new Float32Array(dim);
    const bits = new Int32Array(out.buffer);
    const data = this.data;
    const offset = slot * dim;
    const norm = asWritten.norms[slot] as number;
    const steps = asWritten.steps;
    const stepsOffset = slot * this.stepBytes;
    for (let j = 0; j < dim; j++) {
      out[j] = (data[offset + j] as number) * norm;
      const code = ((steps[stepsOffset + (j >> 2)] as number) >> ((j & 3) * 2)) & 3;
      if (code !== 0) bits[j] = (bits[j] as number) + (code === 1 ? 1 : -1);
    }
    return out;
  }

  /** Whether the row at `slot` holds exactly the bits of `vector` (so -0 differs from 0, NaN payloads count). */
  rowBitsEqual(slot: number, vector: Float32Array): boolean {
    const dim = this.dimension;
    if (vector.length !== dim) return false;
    const rowData = this.asWritten === undefined ? this.data.subarray(slot * dim, (slot + 1) * dim) : this.copy(slot);
    const row = new Uint32Array(rowData.buffer, rowData.byteOffset, dim);
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
    const asWritten = this.asWritten;
    if (slot !== last) {
      this.data.copyWithin(slot * dim, last * dim, this.rows * dim);
      if (asWritten !== undefined) {
        asWritten.norms[slot] = asWritten.norms[last] as number;
        const bytes = this.stepBytes;
        asWritten.steps.copyWithin(slot * bytes, last * bytes, (last + 1) * bytes);
        const moved = asWritten.verbatim.get(last);
        if (moved !== undefined) asWritten.verbatim.set(slot, moved);
        else asWritten.verbatim.delete(slot);
      }
    }
    asWritten?.verbatim.delete(last);
    this.rows = last;
    if (this.capacity > 1024 && this.rows * 4 < this.capacity) {
      // Give memory back after large deletions, keeping room to grow 2x (WebAssembly memory cannot
      // shrink: only what lives in JS can).
      this.capacity = Math.max(INITIAL_ROWS, this.rows * 2);
      if (this.wasm === undefined) this.data = this.data.slice(0, this.capacity * dim);
      if (asWritten !== undefined) {
        asWritten.norms = asWritten.norms.slice(0, this.capacity);
        asWritten.steps = asWritten.steps.slice(0, this.capacity * this.stepBytes);
      }
    }
    return last;
  }

  /**
   * Distances of rows `[start, end)` (at most SCAN_CHUNK_ROWS) to `query`, as float32 values in a
   * view that the next scan overwrites. Only on searchable arenas.
   */
  scan(metric: ScanMetric, query: Float32Array, start: number, end: number): Float32Array {
    return this.scanBelow(metric, query, start, end, NaN).distances;
  }

  /**
   * Like `scan`, and picks the rows whose distance is at most `threshold` (a float32 value; NaN picks
   * every row). A row at a NaN distance is picked only when `threshold` is NaN.
   */
  scanBelow(metric: ScanMetric, query: Float32Array, start: number, end: number, threshold: number): ScanPicks {
    const count = end - start;
    const dim = this.dimension;
    if (count > SCAN_CHUNK_ROWS) throw new RangeError(`scan of ${count} rows exceeds ${SCAN_CHUNK_ROWS}`);
    const wasm = this.wasm;
    if (wasm !== undefined) {
      const buffer = wasm.memory.buffer;
      new Float32Array(buffer, wasm.queryOffset, dim).set(query);
      const rowsAddress = wasm.rowsOffset + start * dim * 4;
      const picks = wasm.kernels[metric](rowsAddress, wasm.queryOffset, count, wasm.outOffset, wasm.pickedOffset, threshold);
      return {
        distances: new Float32Array(buffer, wasm.outOffset, count),
        picked: new Int32Array(buffer, wasm.pickedOffset, picks),
        count: picks,
      };
    }
    const out = this.jsOut;
    const picked = this.jsPicked;
    if (out === undefined || picked === undefined) throw new Error("scan on an arena that is not searchable");
    const rows = this.data;
    if (metric === "l2") {
      for (let i = 0; i < count; i++) out[i] = float32SquaredL2At(rows, (start + i) * dim, query, dim);
    } else {
      for (let i = 0; i < count; i++) out[i] = 1 - float32DotAt(rows, (start + i) * dim, query, dim);
    }
    const all = Number.isNaN(threshold);
    let picks = 0;
    for (let i = 0; i < count; i++) if (all || (out[i] as number) <= threshold) picked[picks++] = i;
    return { distances: out.subarray(0, count), picked: picked.subarray(0, picks), count: picks };
  }

  /**
   * `scanBelow` of rows `[start, end)` (at most THREAD_SCAN_ROWS) on one of `threads`, reading the rows
   * where they are. Undefined at once when it cannot start (no shared memory, every region of this arena
   * in use, no free thread); the promise gives undefined when the thread failed (the caller then scans
   * those rows itself). The rows must not change until it settles (the caller holds the read lock), and
   * the picks stay valid until `release()`, which must be called.
   */
  scanBelowInThread(
    threads: ScanThreads,
    metric: ScanMetric,
    query: Float32Array,
    start: number,
    end: number,
    threshold: number,
  ): Promise<ThreadPicks | undefined> | undefined {
    const wasm = this.wasm;
    const shared = wasm?.threads;
    const count = end - start;
    if (wasm === undefined || shared === undefined) return undefined;
    if (count > THREAD_SCAN_ROWS) throw new RangeError(`thread scan of ${count} rows exceeds ${THREAD_SCAN_ROWS}`);
    const index = shared.free.pop();
    if (index === undefined) return undefined;
    const region = shared.regions[index] as ThreadRegion;
    const release = (): void => void shared.free.push(index);
    new Float32Array(wasm.memory.buffer, region.query, this.dimension).set(query);
    const job = threads.tryRun({
      memory: wasm.memory,
      module: shared.module,
      metric,
      rows: wasm.rowsOffset + start * this.dimension * 4,
      query: region.query,
      count,
      out: region.out,
      picked: region.picked,
      threshold,
    });
    if (job === undefined) {
      release();
      return undefined;
    }
    return job.then((picks) => {
      if (picks === undefined) {
        release();
        return undefined;
      }
      const buffer = wasm.memory.buffer;
      return {
        distances: new Float32Array(buffer, region.out, count),
        picked: new Int32Array(buffer, region.picked, picks),
        count: picks,
        release,
      };
    });
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
    const asWritten = this.asWritten;
    if (asWritten !== undefined) {
      const norms = new Float32Array(capacity);
      norms.set(asWritten.norms.subarray(0, this.rows));
      asWritten.norms = norms;
      const steps = new Uint8Array(capacity * this.stepBytes);
      steps.set(asWritten.steps.subarray(0, this.rows * this.stepBytes));
      asWritten.steps = steps;
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
