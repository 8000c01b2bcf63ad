/**
 * The ids of one index's rows: `ids[row]`, and the row of an id through an open-addressing hash table
 * of row numbers (an Int32Array, linear probing, backward-shift deletion) instead of a Map, whose
 * entries cost several times more per item. Rows are dense (the arena's slots).
 */

const INITIAL_CAPACITY = 64;

export class IdTable {
  /** The id of each row. */
  readonly ids: string[] = [];
  /** row + 1 per bucket, 0 for an empty bucket; the size is a power of 2, at most 3/4 full. */
  private table = new Int32Array(INITIAL_CAPACITY);

  get size(): number {
    return this.ids.length;
  }

  /** The row of `id`, or undefined. */
  rowOf(id: string): number | undefined {
    const table = this.table;
    const mask = table.length - 1;
    for (let bucket = hash(id) & mask; ; bucket = (bucket + 1) & mask) {
      const entry = table[bucket] as number;
      if (entry === 0) return undefined;
      if (this.ids[entry - 1] === id) return entry - 1;
    }
  }

  /** Adds `id` (absent) as a new last row; returns the row. */
  push(id: string): number {
    const row = this.ids.length;
    this.ids.push(id);
    if ((row + 1) * 4 > this.table.length * 3) this.rehash(this.table.length * 2);
    else this.place(id, row);
    return row;
  }

  /**
   * Removes the row of `id` (present) by moving the last row into it, as the arena does; returns the
   * row the moved id came from (the removed row when it was the last).
   */
  swapRemove(id: string): number {
    const row = this.rowOf(id) as number;
    this.unplace(id, row);
    const last = this.ids.length - 1;
    if (row !== last) {
      const moved = this.ids[last] as string;
      this.ids[row] = moved;
      this.retarget(moved, last, row);
    }
    this.ids.pop();
    if (this.table.length > INITIAL_CAPACITY && this.ids.length * 8 < this.table.length) {
      this.rehash(Math.max(INITIAL_CAPACITY, this.table.length / 2));
    }
    return last;
  }

  private place(id: string, row: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let bucket = hash(id) & mask;
    while (table[bucket] !== 0) bucket = (bucket + 1) & mask;
    table[bucket] = row + 1;
  }

  /** Points the bucket of `id` holding row `from` at row `to`. */
  private retarget(id: string, from: number, to: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let bucket = hash(id) & mask;
    while (table[bucket] !== from + 1) bucket = (bucket + 1) & mask;
    table[bucket] = to + 1;
  }

  /** Empties the bucket of `id` (at `row`), shifting back the entries after it that probed past it. */
  private unplace(id: string, row: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let hole = hash(id) & mask;
    while (table[hole] !== row + 1) hole = (hole + 1) & mask;
    table[hole] = 0;
    for (let bucket = (hole + 1) & mask; ; bucket = (bucket + 1) & mask) {
      const entry = table[bucket] as number;
      if (entry === 0) return;
      const home = hash(this.ids[entry - 1] as string) & mask;
      // The entry may move into the hole when its home is not in (hole, bucket], cyclically.
      const stays = hole <= bucket ? home > hole && home <= bucket : home > hole || home <= bucket;
      if (stays) continue;
      table[hole] = entry;
      table[bucket] = 0;
      hole = bucket;
    }
  }

  private rehash(capacity: number): void {
    this.table = new Int32Array(capacity);
    for (let row = 0; row < this.ids.length; row++) this.place(this.ids[row] as string, row);
  }
}

/** FNV-1a over the UTF-16 code units. */
function hash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h ^ (h >>> 15);
}
