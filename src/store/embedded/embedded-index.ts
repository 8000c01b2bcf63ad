/**
 * One index of the embedded engine: items in dense slots (the id in the id table, the metadata in
 * columns, the vector a row of one contiguous arena), exact KNN with the filter applied first, and
 * filter-only queries by id.
 */
import { throwIfAborted, untilAborted } from "../../domain/errors.js";
import type { FilterNode } from "../../domain/filter/filter.js";
import { compareIds } from "../../domain/id-order.js";
import type { Interaction } from "../../domain/interaction.js";
import type { Item, ItemUpdate, ItemUpdateOutcome } from "../../domain/item.js";
import { vectorField, type DistanceMetric, type IndexSpec } from "../../domain/schema.js";
import { asRedisReports, float32Norm, normalizeFloat32 } from "../../domain/vector.js";
import type { InterestTagUpdate, SearchHit, SearchQuery, SearchResult } from "../vector-store.js";
import { compileColumnFilter, matchesNothing, textFieldsOf, type RowMatcher } from "./column-filter.js";
import { FieldColumns } from "./field-columns.js";
import { IdTable } from "./id-table.js";
import { InteractionLog } from "./interaction-log.js";
import { ReadWriteLock } from "./read-write-lock.js";
import { TopKHeap } from "./top-k-heap.js";
import { TypedRows } from "./typed-rows.js";
import type { ScanThreads } from "./scan-threads.js";
import { pauseEvery, ScanPacer, SCAN_SLICE_MS } from "./scan-pacing.js";
import { scanKnn } from "./knn-scan.js";
import { SCAN_CHUNK_ROWS, VectorArena } from "./vector-arena.js";

/**
 * A scan goes in slices of about this many bytes of vectors (2048 rows of 128 dimensions, 8 of 32768),
 * and of at most FILTER_SLICE_ROWS rows when each row may run the filter; between slices it looks at
 * the clock and the call's signal (see ScanPacer), so no slice holds the thread for long whatever the
 * dimension or the filter (whose size is bounded: src/domain/filter/limits.ts).
 */
const SLICE_BYTES = 1 << 20;
const FILTER_SLICE_ROWS = 1024;

export class EmbeddedIndex {
  spec: IndexSpec;
  readonly metric: DistanceMetric;
  readonly dimension: number;
  readonly interactions: InteractionLog;
  readonly lock = new ReadWriteLock();
  /** Items kept from an earlier index of the same name whose vectors do not fit this one. */
  readonly unindexed: Map<string, Item>;

  private readonly idTable = new IdTable();
  /** The id of each slot (the id table's). */
  private readonly ids: readonly string[] = this.idTable.ids;
  private readonly fields = new FieldColumns();
  /**
   * The vectors: FLOAT32 in the SIMD arena (for COSINE scanned normalised in float32 like VecSim does at
   * insert time), the other element types in their own compact rows (typed-rows.ts).
   */
  private readonly vectors: VectorArena | TypedRows;

  constructor(spec: IndexSpec, interactions = new InteractionLog(), unindexed = new Map<string, Item>()) {
    this.spec = spec;
    const field = vectorField(spec);
    this.metric = field.metric;
    this.dimension = field.dimension;
    this.vectors =
      field.elementType === "FLOAT32"
        ? new VectorArena(this.dimension, { searchable: true, cosine: this.metric === "COSINE" })
        : new TypedRows(this.dimension, field.elementType, this.metric);
    this.interactions = interactions;
    this.unindexed = unindexed;
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.idTable.rowOf(id) !== undefined;
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
      let slot = this.idTable.rowOf(item.id);
      if (slot !== undefined) {
        this.vectors.set(slot, vector);
      } else {
        slot = this.vectors.append(vector);
        this.idTable.push(item.id);
        this.fields.setRowCount(this.ids.length);
      }
      this.fields.setRow(slot, item.fields);
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
      const slot = this.idTable.rowOf(update.id);
      if (slot === undefined || !this.vectors.rowBitsEqual(slot, update.basedOnVector)) continue;
      this.fields.setField(slot, tagField, update.tags.length > 0 ? { type: "tag", values: update.tags } : undefined);
      written++;
    }
    return written;
  }

  /**
   * Applies each update to its item (fields set and removed, vector replaced when given); a missing item
   * is created from the update when `createMissing` and it has a vector. Call under the write lock.
   */
  update(updates: readonly ItemUpdate[], createMissing: boolean): ItemUpdateOutcome[] {
    for (const update of updates) {
      if (update.vector !== undefined && update.vector.length !== this.dimension) {
        throw new RangeError(`item "${update.id}" has a vector of ${update.vector.length} dimensions, index "${this.spec.name}" has ${this.dimension}`);
      }
    }
    return updates.map((update) => {
      const slot = this.idTable.rowOf(update.id);
      if (slot === undefined) {
        if (!createMissing || update.vector === undefined) return "missing";
        this.upsert([{ id: update.id, vector: update.vector, fields: update.set }]);
        return "created";
      }
      if (update.vector !== undefined) this.vectors.set(slot, update.vector);
      for (const [name, value] of Object.entries(update.set)) this.fields.setField(slot, name, value);
      for (const name of update.remove) this.fields.setField(slot, name, undefined);
      return "updated";
    });
  }

  /** The item (a copy) or undefined. */
  get(id: string, includeVector: boolean): Item | undefined {
    const slot = this.idTable.rowOf(id);
    return slot === undefined ? undefined : this.itemAt(slot, undefined, includeVector);
  }

  /**
   * Deletes items (and their interactions); returns how many existed. The interactions removed are
   * pushed to `removedInteractions` when given (what the persistence deletes).
   */
  delete(ids: readonly string[], removedInteractions?: Interaction[]): number {
    let deleted = 0;
    for (const id of new Set(ids)) {
      const slot = this.idTable.rowOf(id);
      if (slot === undefined) continue;
      // The last slot moves into the hole, in the arena, the id table and the columns alike.
      const moved = this.vectors.swapRemove(slot);
      this.idTable.swapRemove(id);
      this.fields.clearRow(slot);
      if (moved !== slot) this.fields.moveRow(moved, slot);
      this.fields.setRowCount(this.ids.length);
      deleted++;
    }
    for (const id of ids) this.unindexed.delete(id);
    const removed = this.interactions.deleteItems(ids);
    if (removedInteractions !== undefined) for (const interaction of removed) removedInteractions.push(interaction);
    return deleted;
  }

  /**
   * The ids of the items matching `filter`, after `afterId` when given, in id order (compareIds). Goes
   * in slices as a search does (ScanPacer): yields to the event loop, and throws once `signal` aborts.
   * Call under a read lock.
   */
  async matchingIds(filter: FilterNode, afterId: string | undefined, signal?: AbortSignal): Promise<string[]> {
    const matcher = await this.compileFilter(filter, signal);
    const out: string[] = [];
    const n = this.ids.length;
    const pacer = new ScanPacer(signal);
    for (let start = 0; start < n; start += FILTER_SLICE_ROWS) {
      await pacer.pace(FILTER_SLICE_ROWS);
      const end = Math.min(n, start + FILTER_SLICE_ROWS);
      for (let slot = start; slot < end; slot++) {
        const id = this.ids[slot] as string;
        if (afterId !== undefined && compareIds(id, afterId) <= 0) continue;
        if (matcher !== undefined && !matcher(slot)) continue;
        out.push(id);
      }
    }
    throwIfAborted(signal);
    return out.sort(compareIds);
  }

  /**
   * `filter` compiled against the columns, undefined for `all`. The text vocabularies it uses are built
   * first, once per column, in slices (the first text filter over a large column waits for it, or for
   * its own cancellation).
   */
  private async compileFilter(filter: FilterNode, signal: AbortSignal | undefined): Promise<RowMatcher | undefined> {
    if (filter.op === "all") return undefined;
    const textFields = textFieldsOf(filter, this.spec);
    if (textFields.length > 0) await untilAborted(this.fields.buildTextVocabularies(textFields, pauseEvery(SCAN_SLICE_MS)), signal);
    return compileColumnFilter(filter, this.spec, this.fields);
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
   * result is exactly that of filtering first), else a filter-only page by id. Yields to the event loop
   * every SCAN_SLICE_MS or so (ScanPacer) and throws CancelledError/DeadlineExceededError once
   * `query.signal` is aborted. Call under a read lock.
   */
  async search(query: SearchQuery, threads?: ScanThreads): Promise<SearchResult> {
    const { signal } = query;
    throwIfAborted(signal);
    const matcher = await this.compileFilter(query.filter, signal);
    if (matcher !== undefined && matchesNothing(matcher)) return { hits: [], totalMatches: 0 };
    const excluded = new Set<number>();
    for (const id of query.excludeIds ?? []) {
      const slot = this.idTable.rowOf(id);
      if (slot !== undefined) excluded.add(slot);
    }
    const accepts = (slot: number): boolean =>
      !(excluded.size > 0 && excluded.has(slot)) && (matcher === undefined || matcher(slot));

    if (query.vector === undefined) return this.filterOnly(query, accepts);

    const k = query.k;
    const heap = new TopKHeap(k, (slot) => this.ids[slot] as string);
    let q = query.vector;
    let allNaN = false;
    const arena = this.vectors;
    const typed = arena instanceof TypedRows ? arena.prepare(q) : undefined;
    if (typed !== undefined) allNaN = typed.allNaN;
    else if (this.metric === "COSINE") {
      const norm = float32Norm(q);
      if (norm === 0) allNaN = true;
      else q = normalizeFloat32(q);
    }
    const n = this.ids.length;
    const scanMetric = this.metric === "L2" ? "l2" : "dot";
    const filtering = excluded.size > 0 || matcher !== undefined;
    // Redis answers a KNN with a pre-filter (any filter, or ids to leave out) as a hybrid query, which
    // leaves out rows at a NaN distance (zero vectors under COSINE); a plain KNN lists them last
    // (shared/conformance/README.md, "A vector containing NaN").
    const hybrid = matcher !== undefined || (query.excludeIds?.length ?? 0) > 0;
    // Range search: Redis compares a float32 distance (FLOAT32, FLOAT16, BFLOAT16) with the radius
    // rounded to float32 (to nearest: a distance a hair above the radius as written can be in), a
    // FLOAT64 distance with the radius as is (seen on Redis 7.4.1 + RediSearch 2.10.32). NaN distances
    // never fall in a range.
    const radius =
      query.maxDistance === undefined ? undefined : vectorField(this.spec).elementType === "FLOAT64" ? query.maxDistance : Math.fround(query.maxDistance);
    const sliceRows = Math.max(
      1,
      Math.min(filtering ? FILTER_SLICE_ROWS : SCAN_CHUNK_ROWS, Math.floor(SLICE_BYTES / (this.dimension * 4))),
    );
    await scanKnn({ arena, typed, query: q, metric: scanMetric, rows: n, dimension: this.dimension, heap, k, allNaN, hybrid, filtering, accepts, radius, sliceRows, signal, threads });
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
    const pacer = new ScanPacer(query.signal);
    for (let start = 0; start < n; start += FILTER_SLICE_ROWS) {
      await pacer.pace(FILTER_SLICE_ROWS);
      const end = Math.min(n, start + FILTER_SLICE_ROWS);
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
    const fields = this.fields.valuesAt(slot, returnFields);
    const id = this.ids[slot] as string;
    return includeVector ? { id, vector: this.vectors.copy(slot), fields } : { id, fields };
  }
}
