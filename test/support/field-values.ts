/**
 * Builders for an item's field values (`FieldValue`, src/domain/item.ts):
 * `{ descr: text("red apple"), labels: tags("fruit", "red"), time: num(5) }`.
 */
import type { FieldValue } from "../../src/domain/item.js";

/** A TEXT field's value. */
export const text = (value: string): FieldValue => ({ type: "text", value });

/** A TAG field's values. */
export const tags = (...values: string[]): FieldValue => ({ type: "tag", values });

/** A NUMERIC field's value. */
export const num = (value: number): FieldValue => ({ type: "numeric", value });
