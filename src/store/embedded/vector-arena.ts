/**
 * Vectors of one index in one contiguous Float32Array (row `slot` at `slot * dimension`), grown by
 * doubling; removal moves the last row into the hole so rows stay dense.
 */
export class VectorArena {
  readonly dimension: number;
  private data: Float32Array;
  private rows = 0;

  constructor(dimension: number, initialCapacity = 64) {
    this.dimension = dimension;
    this.data = new Float32Array(Math.max(1, initialCapacity) * dimension);
  }

  /** The backing array; valid until the next append (which may reallocate). */
  get values(): Float32Array {
    return this.data;
  }

  get size(): number {
    return this.rows;
  }

  /** Appends a row; returns its slot. `vector.length` must equal the dimension. */
  append(vector: Float32Array): number {
    if ((this.rows + 1) * this.dimension > this.data.length) {
      const grown = new Float32Array(Math.max(this.data.length * 2, (this.rows + 1) * this.dimension));
      grown.set(this.data.subarray(0, this.rows * this.dimension));
      this.data = grown;
    }
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

  /**
   * Removes the row at `slot` by moving the last row into it; returns the slot the moved row came from
   * (equal to `slot` when the removed row was the last).
   */
  swapRemove(slot: number): number {
    const last = this.rows - 1;
    if (slot !== last) this.data.copyWithin(slot * this.dimension, last * this.dimension, this.rows * this.dimension);
    this.rows = last;
    if (this.data.length > 1024 * this.dimension && this.rows * this.dimension * 4 < this.data.length) {
      // Give memory back after large deletions (keep room to grow by 2x without reallocating).
      this.data = this.data.slice(0, this.rows * this.dimension * 2);
    }
    return last;
  }

  clear(): void {
    this.rows = 0;
    this.data = new Float32Array(64 * this.dimension);
  }
}
