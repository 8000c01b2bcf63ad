/**
 * The rows of an index whose vector field is FLOAT16, BFLOAT16 or FLOAT64 (FLOAT32 indexes use the
 * SIMD VectorArena): each row kept compactly in its own type, and distances computed in JS exactly as
 * the Redis Query Engine computes them for that type (src/domain/element-type.ts), so both backends
 * return the same numbers.
 *
 * Storage per row (dimension d):
 * - FLOAT16/BFLOAT16: the row as written, 2 bytes per component (Uint16Array of the type's bits); under
 *   COSINE also the row normalised in the type (another 2d bytes), as VecSim keeps it for scanning.
 * - FLOAT64: the row as written in float32 (4d bytes: vecrec's values are float32, so nothing is lost);
 *   under COSINE also the row normalised in double (8d bytes).
 * Rows are dense: removal moves the last row into the hole, as VectorArena does.
 */
import { bfloat16Bits, bfloat16Value, float16Bits, float16Value, normalizeInElementType } from "../../domain/element-type.js";
import type { DistanceMetric, VectorElementType } from "../../domain/schema.js";
import { SCAN_CHUNK_ROWS } from "./vector-arena.js";

const INITIAL_ROWS = 64;

/** What `scanBelow` found: views that the next scan overwrites. */
export interface TypedScanPicks {
  /** The distance of every row of the range, by position in the range. */
  readonly distances: Float64Array;
  /** Positions in the range of the rows picked, in `picked[0 .. count)`. */
  readonly picked: Int32Array;
  readonly count: number;
}

/** A query prepared once per search (normalised for COSINE). */
export interface PreparedQuery {
  readonly values: Float32Array | Float64Array;
  /** A zero vector under COSINE: every distance is NaN. */
  readonly allNaN: boolean;
}

type HalfType = "FLOAT16" | "BFLOAT16";

let bfloat16Table: Float32Array | undefined;
let float16Table: Float32Array | undefined;

/** Value of every 16-bit pattern of the type. */
function tableOf(type: HalfType): Float32Array {
  if (type === "FLOAT16") {
    if (float16Table === undefined) {
      float16Table = new Float32Array(65536);
      for (let h = 0; h < 65536; h++) float16Table[h] = float16Value(h);
    }
    return float16Table;
  }
  if (bfloat16Table === undefined) {
    bfloat16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) bfloat16Table[h] = bfloat16Value(h);
  }
  return bfloat16Table;
}

export class TypedRows {
  readonly dimension: number;
  readonly elementType: Exclude<VectorElementType, "FLOAT32">;
  private readonly metric: DistanceMetric;
  private capacity = INITIAL_ROWS;
  private rows = 0;
  /** Rows as written: 16-bit patterns (half types) or float32 values (FLOAT64). */
  private raw: Uint16Array | Float32Array;
  /** COSINE: rows normalised in the type (half types: bits; FLOAT64: doubles). */
  private normalised: Uint16Array | Float64Array | undefined;
  private readonly out = new Float64Array(SCAN_CHUNK_ROWS);
  private readonly picks = new Int32Array(SCAN_CHUNK_ROWS);

  constructor(dimension: number, elementType: Exclude<VectorElementType, "FLOAT32">, metric: DistanceMetric) {
    this.dimension = dimension;
    this.elementType = elementType;
    this.metric = metric;
    const half = elementType !== "FLOAT64";
    this.raw = half ? new Uint16Array(this.capacity * dimension) : new Float32Array(this.capacity * dimension);
    this.normalised = metric !== "COSINE" ? undefined : half ? new Uint16Array(this.capacity * dimension) : new Float64Array(this.capacity * dimension);
  }

  get size(): number {
    return this.rows;
  }

  /** Bytes held per row (raw + normalised copy), for measurements. */
  get bytesPerRow(): number {
    const d = this.dimension;
    return this.raw.BYTES_PER_ELEMENT * d + (this.normalised === undefined ? 0 : this.normalised.BYTES_PER_ELEMENT * d);
  }

  /** Appends a row (values already rounded to the type); returns its slot. */
  append(vector: Float32Array): number {
    if (this.rows === this.capacity) this.grow(this.capacity * 2);
    this.set(this.rows, vector);
    return this.rows++;
  }

  set(slot: number, vector: Float32Array): void {
    const d = this.dimension;
    const offset = slot * d;
    const type = this.elementType;
    if (type === "FLOAT64") {
      (this.raw as Float32Array).set(vector, offset);
      const normalised = this.normalised as Float64Array | undefined;
      if (normalised !== undefined) {
        let sum = 0;
        for (let j = 0; j < d; j++) sum += (vector[j] as number) * (vector[j] as number);
        const norm = Math.sqrt(sum);
        for (let j = 0; j < d; j++) normalised[offset + j] = (vector[j] as number) / norm;
      }
      return;
    }
    const bitsOf = type === "FLOAT16" ? float16Bits : bfloat16Bits;
    const raw = this.raw as Uint16Array;
    for (let j = 0; j < d; j++) raw[offset + j] = bitsOf(vector[j] as number);
    const normalised = this.normalised as Uint16Array | undefined;
    if (normalised !== undefined) {
      const n = normalizeInElementType(type, vector);
      for (let j = 0; j < d; j++) normalised[offset + j] = bitsOf(n[j] as number);
    }
  }

  /** A copy of the row at `slot` as written (the type's values, widened to float32). */
  copy(slot: number): Float32Array {
    const d = this.dimension;
    const offset = slot * d;
    if (this.elementType === "FLOAT64") return (this.raw as Float32Array).slice(offset, offset + d);
    const table = tableOf(this.elementType);
    const raw = this.raw as Uint16Array;
    const out = new Float32Array(d);
    for (let j = 0; j < d; j++) out[j] = table[raw[offset + j] as number] as number;
    return out;
  }

  /** Whether the row at `slot` holds exactly the bits of `vector` (as rounded to the type). */
  rowBitsEqual(slot: number, vector: Float32Array): boolean {
    if (vector.length !== this.dimension) return false;
    const row = this.copy(slot);
    const a = new Uint32Array(row.buffer, row.byteOffset, row.length);
    const b = new Uint32Array(vector.buffer, vector.byteOffset, vector.length);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** Removes the row at `slot` by moving the last row into it; returns the slot the moved row came from. */
  swapRemove(slot: number): number {
    const last = this.rows - 1;
    const d = this.dimension;
    if (slot !== last) {
      this.raw.copyWithin(slot * d, last * d, this.rows * d);
      this.normalised?.copyWithin(slot * d, last * d, this.rows * d);
    }
    this.rows = last;
    if (this.capacity > 1024 && this.rows * 4 < this.capacity) {
      this.capacity = Math.max(INITIAL_ROWS, this.rows * 2);
      this.raw = this.raw.slice(0, this.capacity * d);
      this.normalised = this.normalised?.slice(0, this.capacity * d);
    }
    return last;
  }

  /** The query (already rounded to the type) as the scans read it: normalised in the type under COSINE. */
  prepare(query: Float32Array): PreparedQuery {
    if (this.metric !== "COSINE") return { values: query, allNaN: false };
    let sum = 0;
    for (let j = 0; j < query.length; j++) sum += (query[j] as number) * (query[j] as number);
    if (sum === 0) return { values: query, allNaN: true };
    if (this.elementType === "FLOAT64") {
      const norm = Math.sqrt(sum);
      return { values: Float64Array.from(query, (x) => x / norm), allNaN: false };
    }
    return { values: normalizeInElementType(this.elementType, query), allNaN: false };
  }

  /**
   * Distances of rows `[start, end)` (at most SCAN_CHUNK_ROWS) to the prepared query, and the rows at or
   * under `threshold` (NaN picks every row). A row at a NaN distance is picked only when `threshold` is NaN.
   */
  scanBelow(query: PreparedQuery, start: number, end: number, threshold: number): TypedScanPicks {
    const count = end - start;
    const d = this.dimension;
    const out = this.out;
    const q = query.values;
    const f = Math.fround;
    const metric = this.metric;
    if (this.elementType === "FLOAT64") {
      const rows = metric === "COSINE" ? (this.normalised as Float64Array) : (this.raw as Float32Array);
      for (let i = 0; i < count; i++) {
        const o = (start + i) * d;
        let s = 0;
        if (metric === "L2") {
          for (let j = 0; j < d; j++) {
            const diff = (rows[o + j] as number) - (q[j] as number);
            s += diff * diff;
          }
          out[i] = s;
        } else {
          for (let j = 0; j < d; j++) s += (rows[o + j] as number) * (q[j] as number);
          out[i] = 1 - s;
        }
      }
    } else {
      const table = tableOf(this.elementType);
      const rows = (metric === "COSINE" ? this.normalised : this.raw) as Uint16Array;
      for (let i = 0; i < count; i++) {
        const o = (start + i) * d;
        let s = 0;
        if (metric === "L2") {
          for (let j = 0; j < d; j++) {
            const diff = f((table[rows[o + j] as number] as number) - (q[j] as number));
            s = f(s + f(diff * diff));
          }
          out[i] = s;
        } else {
          for (let j = 0; j < d; j++) s = f(s + f((table[rows[o + j] as number] as number) * (q[j] as number)));
          out[i] = f(1 - s);
        }
      }
    }
    const all = Number.isNaN(threshold);
    const picked = this.picks;
    let picks = 0;
    for (let i = 0; i < count; i++) if (all || (out[i] as number) <= threshold) picked[picks++] = i;
    return { distances: out.subarray(0, count), picked: picked.subarray(0, picks), count: picks };
  }

  private grow(capacity: number): void {
    const d = this.dimension;
    const raw = this.raw instanceof Uint16Array ? new Uint16Array(capacity * d) : new Float32Array(capacity * d);
    raw.set(this.raw.subarray(0, this.rows * d));
    this.raw = raw;
    if (this.normalised !== undefined) {
      const normalised = this.normalised instanceof Uint16Array ? new Uint16Array(capacity * d) : new Float64Array(capacity * d);
      normalised.set(this.normalised.subarray(0, this.rows * d));
      this.normalised = normalised;
    }
    this.capacity = capacity;
  }
}
