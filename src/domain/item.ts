/** Items: an id, a float32 vector and metadata values keyed by field name. */

/** TEXT -> string, TAG -> string[], NUMERIC -> number. */
export type FieldValue =
  | { readonly type: "text"; readonly value: string }
  | { readonly type: "tag"; readonly values: readonly string[] }
  | { readonly type: "numeric"; readonly value: number };

export type FieldValues = Readonly<Record<string, FieldValue>>;

export interface Item {
  readonly id: string;
  /** Always present on upsert; present on reads only when vectors were asked for. */
  readonly vector?: Float32Array;
  readonly fields: FieldValues;
}

export const MAX_ID_BYTES = 256;
export const MAX_BATCH_ITEMS = 10_000;

/** A change to one stored item (UpdateItems): fields to set, fields to remove, optionally a new vector. */
export interface ItemUpdate {
  readonly id: string;
  /** Replaces the stored vector when set (dimension already checked). */
  readonly vector?: Float32Array;
  /** Metadata fields to set (interests tag included when derived from a new vector). */
  readonly set: FieldValues;
  /** Metadata fields to remove; never also in `set`. */
  readonly remove: readonly string[];
}

/** What became of one ItemUpdate: changed, created (create_missing with a vector), or not found. */
export type ItemUpdateOutcome = "updated" | "created" | "missing";
