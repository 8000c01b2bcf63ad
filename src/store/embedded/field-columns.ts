/**
 * The metadata of one index's items in columns, not one object per item: per field, a kind byte per row
 * and either a float64 (NUMERIC) or the id of an interned value (TEXT, TAG: one shared value object per
 * distinct text or tag list, counted, freed when no row holds it). Rows are the arena's slots.
 *
 * Any field name may hold any type of value in any row (kept items of a dropped index are read through
 * another schema; interests add a field later), as the objects they replace could.
 *
 * Filters run the domain's matcher unchanged over a view object refilled for each row with the fields
 * the filter refers to: the interned TEXT values stay the same objects between queries, so the matcher's
 * analysis of each distinct text is reused.
 */
import { ANY_TEXT_FIELD, referencedFields, type FilterNode } from "../../domain/filter/filter.js";
import type { FieldValue, FieldValues } from "../../domain/item.js";

const ABSENT = 0;
const TEXT = 1;
const TAG = 2;
const NUMERIC = 3;

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

  acquire(key: string, make: () => V): number {
    let id = this.idOf.get(key);
    if (id === undefined) {
      id = this.free.pop() ?? this.values.length;
      this.values[id] = make();
      this.keys[id] = key;
      this.counts[id] = 0;
      this.idOf.set(key, id);
    }
    this.counts[id] = (this.counts[id] as number) + 1;
    return id;
  }

  release(id: number): void {
    const count = (this.counts[id] as number) - 1;
    this.counts[id] = count;
    if (count > 0) return;
    this.idOf.delete(this.keys[id] as string);
    this.values[id] = undefined;
    this.keys[id] = "";
    this.free.push(id);
  }
}

class Column {
  kinds: Uint8Array;
  numbers: Float64Array;
  refs: Int32Array;
  readonly texts = new InternTable<TextValue>();
  readonly tags = new InternTable<TagValue>();

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
        const text = value.value;
        this.refs[row] = this.texts.acquire(text, () => ({ type: "text", value: text }));
        this.kinds[row] = TEXT;
        return;
      }
      case "tag": {
        if (this.refs.length === 0) this.refs = new Int32Array(capacity);
        const values = [...value.values];
        this.refs[row] = this.tags.acquire(JSON.stringify(values), () => ({ type: "tag", values }));
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
    for (const [name, value] of Object.entries(fields)) this.columnFor(name).set(row, value);
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
   * A function giving, for a row, the fields `filter` refers to as a FieldValues object. The object is
   * the same for every call, refilled each time: read it before the next call, never keep it.
   */
  viewFor(filter: FilterNode): (row: number) => FieldValues {
    let names = referencedFields(filter);
    if (names.includes(ANY_TEXT_FIELD)) names = [...new Set([...names, ...this.columns.keys()])];
    const view = Object.create(null) as Record<string, FieldValue | undefined>;
    const fields: { name: string; column: Column; numeric: { type: "numeric"; value: number } }[] = [];
    for (const name of names) {
      const column = this.columns.get(name);
      view[name] = undefined;
      if (column !== undefined) fields.push({ name, column, numeric: { type: "numeric", value: 0 } });
    }
    const frozen = view as FieldValues;
    return (row) => {
      for (const { name, column, numeric } of fields) view[name] = column.valueAt(row, numeric);
      return frozen;
    };
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
