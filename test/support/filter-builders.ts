/**
 * Builders for the domain's filter tree (`FilterNode`, src/domain/filter/filter.ts), so a test reads
 * `and(tagFilter("labels", "books"), not(range("time", 0, 10)))` instead of nested literals.
 *
 * Import what you need: `import { ALL, and, range, tagFilter } from "../support/filter-builders.js"`.
 * A test that prefers shorter names can rename on import (`tagFilter as tag`).
 */
import type { FilterNode } from "../../src/domain/filter/filter.js";

/** Matches every item (`*`). */
export const ALL: FilterNode = { op: "all" };

/** The tag field `field` holds at least one of `values`. */
export const tagFilter = (field: string, ...values: string[]): FilterNode => ({ op: "tag", field, values });

/**
 * `min <= value <= max` on the numeric field `field`; either side exclusive when asked. Unbounded
 * sides are -Infinity / Infinity.
 */
export const range = (field: string, min: number, max: number, minExclusive = false, maxExclusive = false): FilterNode => ({
  op: "numeric",
  field,
  min,
  max,
  minExclusive,
  maxExclusive,
});

/** Every one of `terms` occurs in the text field `field` (after Redis-like analysis). */
export const textFilter = (field: string, ...terms: string[]): FilterNode => ({ op: "text", field, terms });

/** Every child matches. */
export const and = (...children: FilterNode[]): FilterNode => ({ op: "and", children });

/** At least one child matches. */
export const or = (...children: FilterNode[]): FilterNode => ({ op: "or", children });

/** `child` does not match. */
export const not = (child: FilterNode): FilterNode => ({ op: "not", child });
