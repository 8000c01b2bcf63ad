import { idSortKey } from "../../domain/id-order.js";

/**
 * The k best (smallest distance; ties by id ascending in compareIds order; NaN after every number) of a stream of
 * candidates, kept in a bounded max-heap whose root is the worst kept candidate.
 */
export class TopKHeap {
  private readonly distances: Float64Array;
  private readonly slots: Int32Array;
  private readonly ids: string[];
  /** idSortKey of each kept id: compared with `<`, computed once per candidate. */
  private readonly keys: string[];
  private count = 0;

  constructor(
    private readonly k: number,
    /** Id of a slot (for tie-breaks). */
    private readonly idOf: (slot: number) => string,
  ) {
    this.distances = new Float64Array(k);
    this.slots = new Int32Array(k);
    this.ids = new Array<string>(k);
    this.keys = new Array<string>(k);
  }

  get size(): number {
    return this.count;
  }

  /**
   * The distance a candidate must not exceed to be kept: the worst kept one's once the heap holds k
   * (never rises after that), NaN before (anything is kept; also when the worst kept is NaN).
   */
  get threshold(): number {
    if (this.k === 0) return -Infinity;
    return this.count < this.k ? NaN : (this.distances[0] as number);
  }

  /** Whether `offer(distance, slot)` would keep the candidate (lets callers skip costly checks). */
  admits(distance: number, slot: number): boolean {
    if (this.count < this.k) return true;
    const worst = this.distances[0] as number;
    if (distance > worst) return false;
    if (distance < worst) return true;
    return isWorse(worst, this.keys[0] as string, distance, idSortKey(this.idOf(slot)));
  }

  /** Offers a candidate; keeps it when it beats the worst kept one (or the heap is not full). */
  offer(distance: number, slot: number): void {
    const k = this.k;
    if (this.count < k) {
      this.distances[this.count] = distance;
      this.slots[this.count] = slot;
      const id = this.idOf(slot);
      this.ids[this.count] = id;
      this.keys[this.count] = idSortKey(id);
      this.siftUp(this.count++);
      return;
    }
    const worst = this.distances[0] as number;
    // Fast reject: the common case in a large scan.
    if (distance > worst) return;
    if (distance !== distance) {
      // NaN: only beats a NaN root with a larger id.
      if (worst === worst) return;
    }
    const id = this.idOf(slot);
    const key = idSortKey(id);
    if (!isWorse(worst, this.keys[0] as string, distance, key)) return;
    this.distances[0] = distance;
    this.slots[0] = slot;
    this.ids[0] = id;
    this.keys[0] = key;
    this.siftDown(0);
  }

  /** The kept candidates, best first. */
  drain(): { distance: number; slot: number; id: string }[] {
    const out: { distance: number; slot: number; id: string; key: string }[] = [];
    for (let i = 0; i < this.count; i++) {
      out.push({
        distance: this.distances[i] as number,
        slot: this.slots[i] as number,
        id: this.ids[i] as string,
        key: this.keys[i] as string,
      });
    }
    out.sort((a, b) => (isWorse(a.distance, a.key, b.distance, b.key) ? 1 : isWorse(b.distance, b.key, a.distance, a.key) ? -1 : 0));
    return out.map(({ distance, slot, id }) => ({ distance, slot, id }));
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worseAt(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.count;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < n && this.worseAt(l, top)) top = l;
      if (r < n && this.worseAt(r, top)) top = r;
      if (top === i) return;
      this.swap(i, top);
      i = top;
    }
  }

  private worseAt(i: number, j: number): boolean {
    return isWorse(this.distances[i] as number, this.keys[i] as string, this.distances[j] as number, this.keys[j] as string);
  }

  private swap(i: number, j: number): void {
    const d = this.distances[i] as number;
    this.distances[i] = this.distances[j] as number;
    this.distances[j] = d;
    const s = this.slots[i] as number;
    this.slots[i] = this.slots[j] as number;
    this.slots[j] = s;
    const id = this.ids[i] as string;
    this.ids[i] = this.ids[j] as string;
    this.ids[j] = id;
    const key = this.keys[i] as string;
    this.keys[i] = this.keys[j] as string;
    this.keys[j] = key;
  }
}

/**
 * Whether (da, ida) ranks after (db, idb): larger distance, NaN last, equal distances by id. Ids are
 * compared with `>`: pass idSortKey(id) for compareIds order.
 */
export function isWorse(da: number, ida: string, db: number, idb: string): boolean {
  const aNaN = da !== da;
  const bNaN = db !== db;
  if (aNaN !== bNaN) return aNaN;
  if (!aNaN && da !== db) return da > db;
  return ida > idb;
}
