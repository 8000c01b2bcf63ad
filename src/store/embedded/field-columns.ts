/**
 * The metadata of one index's items in columns, not one object per item: per field, a kind byte per row
 * and either a float64 (NUMERIC) or the id of an interned value (TEXT, TAG: one shared value object per
 * distinct text or tag list, counted, freed when no row holds it). Rows are the arena's slots.
 *
 * Any field name may hold any type of value in any row (kept items of a dropped index are read through
 * another schema; interests add a field later), as the objects they replace could.
 *
 * Filters read the columns directly (column-filter.ts): a condition on one field is evaluated once per
 * distinct interned value, and a TEXT column keeps, once a text filter has asked for it, the vocabulary
 * of its distinct values (every indexed word and stem with the number of distinct values holding it),
 * so that a query word no value holds rules its condition out before the scan.
 */
import { analysisOf } from "../../domain/filter/match.js";
import type { FieldValue, FieldValues } from "../../domain/item.js";

/** What a row of a column holds (Column.kinds). */
export const ABSENT = 0;
export const TEXT = 1;
export const TAG = 2;
export const NUMERIC = 3;

const INITIAL_ROWS = 64;

type TextValue = Extract<FieldValue, { type: "text" }>;
type TagValue = Extract<FieldValue, { type: "tag" }>;

/** Distinct values of one kind in one column, each with the number of rows holding it. */
class InternTable<V extends FieldValue> {
  readonly values: (V | undefined)[] = [];
  private readonly keys: string[] = [];
  private readonly counts: number[] = [];
  private readonly idOf = new Map<string, number>();
  private readonly free: number[] = [];

  /** Calls `onAdd` with each value made, `onRemove` with each value freed (and its id). */
  constructor(
    private readonly onAdd?: (id: number, value: V) => void,
    private readonly onRemove?: (id: number, value: V) => void,
  ) {}

  /** The id of the value of `key`, made with `make(from)` when no row holds one yet; counts one more row. */
  acquire<F>(key: string, from: F, make: (from: F) => V): number {
    let id = this.idOf.get(key);
    if (id === undefined) {
      id = this.free.pop() ?? this.values.length;
      const value = make(from);
      this.values[id] = value;
      this.keys[id] = key;
      this.counts[id] = 0;
      this.idOf.set(key, id);
      this.onAdd?.(id, value);
    }
    this.counts[id] = (this.counts[id] as number) + 1;
    return id;
  }

  release(id: number): void {
    const count = (this.counts[id] as number) - 1;
    this.counts[id] = count;
    if (count > 0) return;
    const value = this.values[id];
    this.idOf.delete(this.keys[id] as string);
    this.values[id] = undefined;
    this.keys[id] = "";
    this.free.push(id);
    if (value !== undefined) this.onRemove?.(id, value);
  }
}

/**
 * The indexed words and stems (text-analysis.ts's AnalyzedText) of a TEXT column's distinct values, as
 * key ids (a word and a stem are different keys), each with the number of distinct values holding it,
 * and the key ids of each value (by value id): a filter matches a text by looking its ids up in a
 * table made for the query, without strings.
 */
export class TextVocabulary {
  private readonly ids = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly counts: number[] = [];
  private readonly free: number[] = [];
  /** The key ids of each value held (by value id); undefined for the others. */
  readonly keysOf: (Int32Array | undefined)[] = [];

  /** One more than the largest key id. */
  get keyCount(): number {
    return this.counts.length;
  }

  has(valueId: number): boolean {
    return this.keysOf[valueId] !== undefined;
  }

  add(valueId: number, value: TextValue): void {
    const analysis = analysisOf(value);
    const keys = new Int32Array(analysis.wordSet.size + analysis.stems.size);
    let i = 0;
    for (const word of analysis.wordSet) keys[i++] = this.acquire(`w${word}`);
    for (const stem of analysis.stems) keys[i++] = this.acquire(`s${stem}`);
    this.keysOf[valueId] = keys;
  }

  remove(valueId: number): void {
    const keys = this.keysOf[valueId];
    if (keys === undefined) return;
    this.keysOf[valueId] = undefined;
    for (const key of keys) {
      const count = (this.counts[key] as number) - 1;
      this.counts[key] = count;
      if (count === 0) {
        this.ids.delete(this.keys[key] as string);
        this.free.push(key);
      }
    }
  }

  /** The id of word `word` (`"w"`) or stem `stem` (`"s"`) when some value holds it. */
  keyId(kind: "w" | "s", text: string): number | undefined {
    return this.ids.get(kind + text);
  }

  /**
   * At most how many distinct values can match the query word `term` (lower-cased, not a prefix) whose
   * stem is `stem`, by createTextTermsMatcher's rule (its stem among the values' stems or words, or the
   * word itself among the words); 0 when none can.
   */
  frequency(term: string, stem: string): number {
    return this.count("s", stem) + this.count("w", stem) + (stem === term ? 0 : this.count("w", term));
  }

  private count(kind: "w" | "s", text: string): number {
    const id = this.ids.get(kind + text);
    return id === undefined ? 0 : (this.counts[id] as number);
  }

  private acquire(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.free.pop() ?? this.counts.length;
      this.ids.set(key, id);
      this.keys[id] = key;
      this.counts[id] = 0;
    }
    this.counts[id] = (this.counts[id] as number) + 1;
    return id;
  }
}

/** One field's values: a kind per row (ABSENT, TEXT, TAG, NUMERIC), the number or interned value id. */
export class Column {
  kinds: Uint8Array;
  numbers: Float64Array;
  refs: Int32Array;
  /**
   * The vocabulary of the texts, from the first text filter on (null before): built in slices by
   * buildTextVocabulary, kept up to date by every write from its start (it knows which values it holds
   * so far).
   */
  private vocabulary: TextVocabulary | null = null;
  private vocabularyComplete = false;
  private vocabularyBuild: Promise<void> | undefined;
  readonly texts = new InternTable<TextValue>(
    (id, value) => this.vocabulary?.add(id, value),
    (id) => this.vocabulary?.remove(id),
  );
  readonly tags = new InternTable<TagValue>();

  /** The vocabulary of the column's texts once it is complete (see buildTextVocabulary), else undefined. */
  textVocabulary(): TextVocabulary | undefined {
    return this.vocabularyComplete && this.vocabulary !== null ? this.vocabulary : undefined;
  }

  /**
   * Builds the vocabulary of the column's texts (once; later calls wait for the same build), calling
   * `pause` between slices of values so that a large column does not hold the thread. Writes may run
   * during the pauses: from the start of the build on, each write keeps the vocabulary up to date.
   */
  buildTextVocabulary(pause: () => Promise<void>, sliceValues = 16): Promise<void> {
    if (this.vocabularyComplete) return Promise.resolve();
    this.vocabularyBuild ??= (async () => {
      const vocabulary = new TextVocabulary();
      this.vocabulary = vocabulary;
      try {
        for (let id = 0; id < this.texts.values.length; id++) {
          const value = this.texts.values[id];
          if (value !== undefined && !vocabulary.has(id)) vocabulary.add(id, value);
          if (id % sliceValues === sliceValues - 1) await pause();
        }
        this.vocabularyComplete = true;
      } catch (error) {
        // Never left half-built: the next text filter starts again (filters work without it meanwhile).
        this.vocabulary = null;
        this.vocabularyBuild = undefined;
        throw error;
      }
    })();
    return this.vocabularyBuild;
  }

  constructor(readonly name: string, capacity: number) {
    this.kinds = new Uint8Array(capacity);
    this.numbers = new Float64Array(0);
    this.refs = new Int32Array(0);
  }

  resize(capacity: number, rows: number): void {
    const kinds = new Uint8Array(capacity);
    kinds.set(this.kinds.subarray(0, rows));
    this.kinds = kinds;
    // The value arrays are made at the first value that needs one.
    if (this.numbers.length > 0) this.numbers = resized(this.numbers, new Float64Array(capacity), rows);
    if (this.refs.length > 0) this.refs = resized(this.refs, new Int32Array(capacity), rows);
  }

  set(row: number, value: FieldValue | undefined): void {
    this.clear(row);
    if (value === undefined) return;
    const capacity = this.kinds.length;
    switch (value.type) {
      case "numeric":
        if (this.numbers.length === 0) this.numbers = new Float64Array(capacity);
        this.numbers[row] = value.value;
        this.kinds[row] = NUMERIC;
        return;
      case "text": {
        if (this.refs.length === 0) this.refs = new Int32Array(capacity);
        this.refs[row] = this.texts.acquire(value.value, value.value, makeText);
        this.kinds[row] = TEXT;
        return;
      }
      case "tag": {
        if (this.refs.length === 0) this.refs = new Int32Array(capacity);
        this.refs[row] = this.tags.acquire(tagKey(value.values), value.values, makeTags);
        this.kinds[row] = TAG;
        return;
      }
    }
  }

  clear(row: number): void {
    const kind = this.kinds[row];
    if (kind === TEXT) this.texts.release(this.refs[row] as number);
    else if (kind === TAG) this.tags.release(this.refs[row] as number);
    this.kinds[row] = ABSENT;
  }

  /** Moves row `from` into the empty row `to`, leaving `from` empty (no counts change). */
  move(from: number, to: number): void {
    const kind = this.kinds[from] as number;
    this.kinds[to] = kind;
    if (kind === NUMERIC) this.numbers[to] = this.numbers[from] as number;
    else if (kind !== ABSENT) this.refs[to] = this.refs[from] as number;
    this.kinds[from] = ABSENT;
  }

  /** The value at `row` (interned TEXT and TAG values are shared: never hand them out uncopied). */
  valueAt(row: number, numeric: { type: "numeric"; value: number }): FieldValue | undefined {
    switch (this.kinds[row]) {
      case NUMERIC:
        numeric.value = this.numbers[row] as number;
        return numeric;
      case TEXT:
        return this.texts.values[this.refs[row] as number];
      case TAG:
        return this.tags.values[this.refs[row] as number];
      default:
        return undefined;
    }
  }
}

const makeText = (text: string): TextValue => ({ type: "text", value: text });
/** The interned list is the column's own copy: the caller's array may change after the write. */
const makeTags = (values: readonly string[]): TagValue => ({ type: "tag", values: [...values] });

/**
 * The intern key of a tag list: its one value after "=" (the common case, no JSON made), else its JSON
 * (which starts with "[", so the two forms never meet).
 */
function tagKey(values: readonly string[]): string {
  return values.length === 1 ? `=${values[0] as string}` : JSON.stringify(values);
}

function resized<T extends Float64Array | Int32Array>(from: T, to: T, rows: number): T {
  to.set(from.subarray(0, Math.min(rows, to.length)));
  return to;
}

export class FieldColumns {
  private readonly columns = new Map<string, Column>();
  private capacity = INITIAL_ROWS;
  private rows = 0;

  /** Makes room for `rows` rows (new rows are empty). */
  setRowCount(rows: number): void {
    // Only the rows that stay are copied when resizing.
    this.rows = Math.min(this.rows, rows);
    if (rows > this.capacity) {
      let capacity = this.capacity;
      while (capacity < rows) capacity *= 2;
      this.resize(capacity);
    } else if (this.capacity > 1024 && rows * 4 < this.capacity) {
      this.resize(Math.max(INITIAL_ROWS, rows * 2));
    }
    this.rows = rows;
  }

  /** Replaces every field of `row` with `fields`. */
  setRow(row: number, fields: FieldValues): void {
    for (const column of this.columns.values()) if (!Object.hasOwn(fields, column.name)) column.clear(row);
    for (const name in fields) {
      if (Object.hasOwn(fields, name)) this.columnFor(name).set(row, fields[name]);
    }
  }

  /** Sets (or, with undefined, removes) one field of `row`. */
  setField(row: number, name: string, value: FieldValue | undefined): void {
    if (value === undefined) this.columns.get(name)?.clear(row);
    else this.columnFor(name).set(row, value);
  }

  clearRow(row: number): void {
    for (const column of this.columns.values()) column.clear(row);
  }

  /** Moves row `from` into row `to` (cleared first); `from` is left empty. */
  moveRow(from: number, to: number): void {
    for (const column of this.columns.values()) {
      column.clear(to);
      column.move(from, to);
    }
  }

  /** Copies of the fields of `row` (only `names` when given, in that order). */
  valuesAt(row: number, names?: readonly string[]): Record<string, FieldValue> {
    const out: Record<string, FieldValue> = {};
    const numeric = { type: "numeric" as const, value: 0 };
    if (names === undefined) {
      for (const column of this.columns.values()) {
        const value = column.valueAt(row, numeric);
        if (value !== undefined) out[column.name] = copyValue(value);
      }
      return out;
    }
    for (const name of names) {
      const value = this.columns.get(name)?.valueAt(row, numeric);
      if (value !== undefined) out[name] = copyValue(value);
    }
    return out;
  }

  /**
   * Builds the text vocabularies of columns `names` (Column.buildTextVocabulary), pausing with `pause`;
   * resolves once they are complete.
   */
  async buildTextVocabularies(names: readonly string[], pause: () => Promise<void>, sliceValues?: number): Promise<void> {
    for (const name of names) await this.columns.get(name)?.buildTextVocabulary(pause, sliceValues);
  }

  /** The column of field `name`, undefined when no row ever held it (read it, never change it). */
  column(name: string): Column | undefined {
    return this.columns.get(name);
  }

  private columnFor(name: string): Column {
    let column = this.columns.get(name);
    if (column === undefined) {
      column = new Column(name, this.capacity);
      this.columns.set(name, column);
    }
    return column;
  }

  private resize(capacity: number): void {
    for (const column of this.columns.values()) column.resize(capacity, this.rows);
    this.capacity = capacity;
  }
}

function copyValue(value: FieldValue): FieldValue {
  return value.type === "tag" ? { type: "tag", values: [...value.values] } : { ...value };
}
