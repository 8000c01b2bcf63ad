/**
 * One index of the embedded engine: items in slots (id, metadata, vector rows in contiguous arenas),
 * exact KNN with the filter applied first, and filter-only queries by id.
 */
import { throwIfAborted } from "../../domain/errors.js";
import { createFilterMatcher } from "../../domain/filter/match.js";
import type { FieldValue, FieldValues, Item } from "../../domain/item.js";
import { vectorField, type DistanceMetric, type IndexSpec } from "../../domain/schema.js";
import { asRedisReports, float32Norm, negativeNaN, normalizeFloat32 } from "../../domain/vector.js";
import type { InterestTagUpdate, SearchHit, SearchQuery, SearchResult } from "../vector-store.js";
import { InteractionLog } from "./interaction-log.js";
import { ReadWriteLock } from "./read-write-lock.js";
import { TopKHeap } from "./top-k-heap.js";
import { SCAN_CHUNK_ROWS, VectorArena } from "./vector-arena.js";

// A zero query vector under COSINE: Redis answers -nan for every item.
const NEGATIVE_NAN = negativeNaN();

export class EmbeddedIndex {
  spec: IndexSpec;
  readonly metric: DistanceMetric;
  readonly dimension: number;
  readonly interactions: InteractionLog;
  readonly lock = new ReadWriteLock();
  /** Items kept from an earlier index of the same name whose vectors do not fit this one. */
  readonly unindexed: Map<string, Item>;

  private readonly ids: string[] = [];
  private readonly fields: FieldValues[] = [];
  private readonly slotOf = new Map<string, number>();
  /** The vectors as written (returned to readers, used for L2 and IP). */
  private readonly raw: VectorArena;
  /** COSINE only: the vectors normalised in float32 like VecSim does at insert time. */
  private readonly normalized: VectorArena | undefined;

  constructor(spec: IndexSpec, interactions = new InteractionLog(), unindexed = new Map<string, Item>()) {
    this.spec = spec;
    const field = vectorField(spec);
    this.metric = field.metric;
    this.dimension = field.dimension;
    // The arena KNN scans: the raw vectors for L2 and IP, the normalised ones for COSINE.
    this.raw = new VectorArena(this.dimension, { searchable: this.metric !== "COSINE" });
    this.normalized = this.metric === "COSINE" ? new VectorArena(this.dimension, { searchable: true }) : undefined;
    this.interactions = interactions;
    this.unindexed = unindexed;
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  /** Writes whole items (vectors must have the index dimension: checked first, nothing written otherwise). */
  upsert(items: readonly Item[]): void {
    for (const item of items) {
      if (item.vector === undefined || item.vector.length !== this.dimension) {
        throw new RangeError(
          `item "${item.id}" has a vector of ${item.vector?.length ?? 0} dimensions, index "${this.spec.name}" has ${this.dimension}`,
        );
      }
    }
    for (const item of items) {
      const vector = item.vector as Float32Array;
      const fields = copyFields(item.fields);
      const normalized = this.normalized === undefined ? undefined : normalizeFloat32(vector);
      const slot = this.slotOf.get(item.id);
      if (slot !== undefined) {
        this.raw.set(slot, vector);
        if (normalized !== undefined) this.normalized?.set(slot, normalized);
        this.fields[slot] = fields;
      } else {
        const newSlot = this.raw.append(vector);
        if (normalized !== undefined) this.normalized?.append(normalized);
        this.ids.push(item.id);
        this.fields.push(fields);
        this.slotOf.set(item.id, newSlot);
      }
      this.unindexed.delete(item.id);
    }
  }

  /**
   * For each update whose item exists with a vector bit-identical to `basedOnVector`: sets `tagField` to
   * `tags` (removes it when empty), nothing else. Returns how many items were written. Call under the
   * write lock.
   */
  setInterestTags(updates: readonly InterestTagUpdate[], tagField: string): number {
    let written = 0;
    for (const update of updates) {
      const slot = this.slotOf.get(update.id);
      if (slot === undefined || !this.raw.rowBitsEqual(slot, update.basedOnVector)) continue;
      const fields: Record<string, FieldValue> = { ...(this.fields[slot] as FieldValues) };
      if (update.tags.length > 0) fields[tagField] = { type: "tag", values: [...update.tags] };
      else delete fields[tagField];
      this.fields[slot] = fields;
      written++;
    }
    return written;
  }

  /** The item (a copy) or undefined. */
  get(id: string, includeVector: boolean): Item | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : this.itemAt(slot, undefined, includeVector);
  }

  /** Deletes items (and their interactions); returns how many existed. */
  delete(ids: readonly string[]): number {
    let deleted = 0;
    for (const id of new Set(ids)) {
      const slot = this.slotOf.get(id);
      if (slot === undefined) continue;
      const moved = this.raw.swapRemove(slot);
      this.normalized?.swapRemove(slot);
      const lastId = this.ids.pop() as string;
      const lastFields = this.fields.pop() as FieldValues;
      this.slotOf.delete(id);
      if (moved !== slot) {
        this.ids[slot] = lastId;
        this.fields[slot] = lastFields;
        this.slotOf.set(lastId, slot);
      }
      deleted++;
    }
    for (const id of ids) this.unindexed.delete(id);
    this.interactions.deleteItems(ids);
    return deleted;
  }

  /** The ids of every item, in slot order (a snapshot). */
  snapshotIds(): string[] {
    return [...this.ids];
  }

  /** Every item with its vector (for moving the data out when the index is dropped). */
  allItems(): Item[] {
    const items: Item[] = [];
    for (let slot = 0; slot < this.ids.length; slot++) items.push(this.itemAt(slot, undefined, true));
    return items;
  }

  /**
   * Runs a query: KNN when `query.vector` is set (the k closest among the items that pass the filter and
   * are not excluded, closest first, ties by id, NaN distances last, or left out under a filter or
   * exclusion, as Redis does; the filter is evaluated lazily but the
   * result is exactly that of filtering first), else a filter-only page by id. Yields to the event loop between chunks of rows
   * and throws CancelledError/DeadlineExceededError once `query.signal` is aborted. Call under a read lock.
   */
  async search(query: SearchQuery): Promise<SearchResult> {
    const { signal } = query;
    throwIfAborted(signal);
    const matcher = query.filter.op === "all" ? undefined : createFilterMatcher(query.filter, this.spec);
    const excluded = new Set<number>();
    for (const id of query.excludeIds ?? []) {
      const slot = this.slotOf.get(id);
      if (slot !== undefined) excluded.add(slot);
    }
    const accepts = (slot: number): boolean =>
      !(excluded.size > 0 && excluded.has(slot)) && (matcher === undefined || matcher(this.fields[slot] as FieldValues));

    if (query.vector === undefined) return this.filterOnly(query, accepts);

    const k = query.k;
    const heap = new TopKHeap(k, (slot) => this.ids[slot] as string);
    let q = query.vector;
    let allNaN = false;
    if (this.metric === "COSINE") {
      const norm = float32Norm(q);
      if (norm === 0) allNaN = true;
      else q = normalizeFloat32(q);
    }
    const n = this.ids.length;
    const arena = this.normalized ?? this.raw;
    const scanMetric = this.metric === "L2" ? "l2" : "dot";
    const filtering = excluded.size > 0 || matcher !== undefined;
    // Redis answers a KNN with a pre-filter (any filter, or ids to leave out) as a hybrid query, which
    // leaves out rows at a NaN distance (zero vectors under COSINE); a plain KNN lists them last
    // (shared/conformance/README.md, "A vector containing NaN").
    const hybrid = matcher !== undefined || (query.excludeIds?.length ?? 0) > 0;
    for (let start = 0; start < n; start += SCAN_CHUNK_ROWS) {
      if (start > 0) {
        // Between chunks: let other work run, and notice cancellation.
        await yieldToEventLoop();
        throwIfAborted(signal);
      }
      const end = Math.min(n, start + SCAN_CHUNK_ROWS);
      if (allNaN) {
        if (hybrid) continue;
        for (let slot = start; slot < end; slot++) {
          if (heap.admits(NEGATIVE_NAN, slot) && (!filtering || accepts(slot))) heap.offer(NEGATIVE_NAN, slot);
        }
        continue;
      }
      const distances = arena.scan(scanMetric, q, start, end);
      if (!filtering) {
        for (let slot = start; slot < end; slot++) heap.offer(distances[slot - start] as number, slot);
        continue;
      }
      for (let slot = start; slot < end; slot++) {
        const d = distances[slot - start] as number;
        if (hybrid && Number.isNaN(d)) continue;
        // Distances are cheap, filters are not: only rows that would enter the top k are filtered.
        // Rows are skipped only once the heap holds k matches, so the result is exact.
        if (heap.admits(d, slot) && accepts(slot)) heap.offer(d, slot);
      }
    }
    throwIfAborted(signal);
    const hits: SearchHit[] = heap.drain().map(({ distance, slot, id }) => ({
      id,
      // Rounded only now: distinct float32 distances stay distinct at 12 digits, so the order holds.
      distance: asRedisReports(distance),
      item: this.itemAt(slot, query.returnFields, query.includeVectors),
    }));
    // The heap holds min(k, matches) items: it only skips rows once it holds k matches.
    return { hits, totalMatches: hits.length };
  }

  private async filterOnly(query: SearchQuery, accepts: (slot: number) => boolean): Promise<SearchResult> {
    const ids = this.ids;
    const n = ids.length;
    const wanted = query.offset + query.k;
    // The first `offset + k` ids of the matches: a bounded heap (all distances 0, so ranked by id)
    // avoids sorting every match when the page is near the start.
    const heap = new TopKHeap(Math.min(wanted, Math.max(n, 1)), (slot) => ids[slot] as string);
    let matches = 0;
    for (let start = 0; start < n; start += SCAN_CHUNK_ROWS) {
      if (start > 0) {
        await yieldToEventLoop();
        throwIfAborted(query.signal);
      }
      const end = Math.min(n, start + SCAN_CHUNK_ROWS);
      for (let slot = start; slot < end; slot++) {
        if (!accepts(slot)) continue;
        matches++;
        heap.offer(0, slot);
      }
    }
    throwIfAborted(query.signal);
    const hits: SearchHit[] = heap
      .drain()
      .slice(query.offset)
      .map(({ slot, id }) => ({ id, distance: 0, item: this.itemAt(slot, query.returnFields, query.includeVectors) }));
    return { hits, totalMatches: matches };
  }

  private itemAt(slot: number, returnFields: readonly string[] | undefined, includeVector: boolean): Item {
    const stored = this.fields[slot] as FieldValues;
    let fields: Record<string, FieldValue>;
    if (returnFields === undefined) {
      fields = copyFields(stored);
    } else {
      fields = {};
      for (const name of returnFields) {
        const value = Object.hasOwn(stored, name) ? stored[name] : undefined;
        if (value !== undefined) fields[name] = copyValue(value);
      }
    }
    const id = this.ids[slot] as string;
    return includeVector ? { id, vector: this.raw.copy(slot), fields } : { id, fields };
  }
}

function copyValue(value: FieldValue): FieldValue {
  return value.type === "tag" ? { type: "tag", values: [...value.values] } : { ...value };
}

function copyFields(fields: FieldValues): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(fields)) out[name] = copyValue(value);
  return out;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
