/**
 * Request limits of the vecrec contract (see proto/vecrec/v1/vecrec.proto) and small pure validators
 * that return FieldViolation[] (empty when the value is fine). Callers pass the proto path of the value
 * (`items[3].id`, `k`, ...) so every violation names the field the client sent.
 */
import type { FieldViolation } from "./errors.js";
import { INTERACTION_KINDS } from "./interaction.js";
import { fieldPath } from "./violations.js";

/** An inclusive integer range. */
export interface IntRange {
  readonly min: number;
  readonly max: number;
}

/** KNN neighbours / filter-only page size (SearchRequest.k). */
export const K_RANGE: IntRange = { min: 1, max: 10_000 };
/** Items, ids or interactions per request. */
export const BATCH_RANGE: IntRange = { min: 1, max: 10_000 };
/** Item and user ids, in UTF-8 bytes. */
export const ID_BYTES_RANGE: IntRange = { min: 1, max: 256 };
/** Vector dimension. */
export const DIMENSION_RANGE: IntRange = { min: 1, max: 32_768 };
/** HNSW M. */
export const HNSW_M_RANGE: IntRange = { min: 1, max: 512 };
/** HNSW EF_CONSTRUCTION. */
export const HNSW_EF_CONSTRUCTION_RANGE: IntRange = { min: 1, max: 4_096 };
/** HNSW EF_RUNTIME (index default and per-search override). */
export const HNSW_EF_RUNTIME_RANGE: IntRange = { min: 1, max: 10_000 };
/** RecommendRequest.neighbor_count. */
export const NEIGHBOR_COUNT_RANGE: IntRange = { min: 1, max: 1_000 };
/** RecommendRequest.limit. */
export const RECOMMENDATION_LIMIT_RANGE: IntRange = { min: 1, max: 1_000 };
/** GetInteractionsRequest.limit. */
export const INTERACTIONS_PAGE_RANGE: IntRange = { min: 1, max: 10_000 };
/** TagCondition.values. */
export const TAG_CONDITION_VALUES_RANGE: IntRange = { min: 1, max: 100 };

/**
 * Filter-only searches: `offset + k` may not exceed this. It is Redis's default MAXSEARCHRESULTS
 * (`search-max-search-results`), past which FT.SEARCH fails with "LIMIT exceeds maximum"; the embedded
 * engine applies the same bound so both backends answer alike.
 */
export const MAX_SEARCH_WINDOW = 1_000_000;

/** Defaults the proto gives for zero values. */
export const DEFAULT_NEIGHBOR_COUNT = 20;
export const DEFAULT_RECOMMENDATION_LIMIT = 10;
export const DEFAULT_INTERACTIONS_PAGE = 100;

/** Index names: a letter, then up to 63 letters, digits, `_` or `-`. */
export const INDEX_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/**
 * Field names: a letter, then up to 63 letters, digits or `_`. Names starting with `__` are reserved for
 * vecrec's hidden fields (e.g. `__vecrec_id`); the leading letter already excludes them.
 */
export const FIELD_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

// \p{Cc}: C0 controls, DEL and C1 controls. \p{Cs} under the `u` flag matches only lone surrogates,
// which have no UTF-8 encoding.
const CONTROL_CHAR = /\p{Cc}/u;
const LONE_SURROGATE = /\p{Cs}/u;

const encoder = new TextEncoder();

/** UTF-8 length of `text` in bytes. */
export function utf8ByteLength(text: string): number {
  // Fast path: all ASCII, one byte per code unit.
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text.length;
  return encoder.encode(text).length;
}

/** An item or user id: 1..256 UTF-8 bytes, no control characters, valid Unicode. */
export function idViolations(id: string, field: string): FieldViolation[] {
  if (id.length === 0) return [{ field, description: "must not be empty" }];
  const bytes = utf8ByteLength(id);
  if (bytes > ID_BYTES_RANGE.max) {
    return [{ field, description: `must be at most ${ID_BYTES_RANGE.max} UTF-8 bytes (got ${bytes})` }];
  }
  if (CONTROL_CHAR.test(id)) return [{ field, description: "must not contain control characters" }];
  // Redis trims TAG values when it indexes them, so " a" and "a" would be the same hidden id tag: excluding
  // one from a KNN (search by item id, recommend) would hide the other on a real server.
  if (id.trim() !== id) return [{ field, description: "must not start or end with whitespace" }];
  if (LONE_SURROGATE.test(id)) return [{ field, description: "must be valid Unicode (lone surrogate)" }];
  return [];
}

/** An index name matching INDEX_NAME_PATTERN. */
export function indexNameViolations(name: string, field = "index_name"): FieldViolation[] {
  if (name.length === 0) return [{ field, description: "must not be empty" }];
  if (!INDEX_NAME_PATTERN.test(name)) {
    return [
      {
        field,
        description: "must be 1..64 characters of letters, digits, '_' and '-', starting with a letter",
      },
    ];
  }
  return [];
}

/** A schema field name matching FIELD_NAME_PATTERN (which also excludes the reserved `__` prefix). */
export function fieldNameViolations(name: string, field: string): FieldViolation[] {
  if (name.length === 0) return [{ field, description: "must not be empty" }];
  if (name.startsWith("__")) return [{ field, description: "names starting with '__' are reserved" }];
  if (!FIELD_NAME_PATTERN.test(name)) {
    return [
      { field, description: "must be 1..64 characters of letters, digits and '_', starting with a letter" },
    ];
  }
  return [];
}

/** `value` is an integer in `min..max` (inclusive). */
export function rangeViolations(value: number, min: number, max: number, field: string): FieldViolation[] {
  if (!Number.isInteger(value) || value < min || value > max) {
    return [{ field, description: `must be an integer in ${min}..${max} (got ${String(value)})` }];
  }
  return [];
}

/** `value` is an integer in `range`. */
export function intRangeViolations(value: number, range: IntRange, field: string): FieldViolation[] {
  return rangeViolations(value, range.min, range.max, field);
}

/** A list of `count` elements is within BATCH_RANGE. */
export function batchSizeViolations(count: number, field: string): FieldViolation[] {
  if (count < BATCH_RANGE.min) return [{ field, description: `must hold at least ${BATCH_RANGE.min} element` }];
  if (count > BATCH_RANGE.max) {
    return [{ field, description: `must hold at most ${BATCH_RANGE.max} elements (got ${count})` }];
  }
  return [];
}

/** A finite number (no NaN, no Infinity). */
export function finiteViolations(value: number, field: string): FieldViolation[] {
  return Number.isFinite(value) ? [] : [{ field, description: `must be a finite number (got ${String(value)})` }];
}

/**
 * Most an interaction's weight (Interaction.weight) and a kind's multiplier (InteractionWeight.weight)
 * may be. A score sums similarity x weight x multiplier over at most 1000 neighbours and their
 * interactions: with both factors <= 1e6 and a similarity at most float32's largest value (3.4e38, IP),
 * every term and sum stays finite in float64 (< 1.8e308), so scores stay finite and the shares of an
 * item's score add up to 1.
 */
export const MAX_WEIGHT = 1_000_000;

/** A weight: a finite number in 0..MAX_WEIGHT. */
export function weightViolations(value: number, field: string): FieldViolation[] {
  if (Number.isFinite(value) && value > MAX_WEIGHT) {
    return [{ field, description: `must be at most ${MAX_WEIGHT} (got ${value}), so that scores stay finite` }];
  }
  return nonNegativeViolations(value, field);
}

/** A finite number >= 0 (weights, durations). */
export function nonNegativeViolations(value: number, field: string): FieldViolation[] {
  if (Number.isFinite(value) && value < 0) return [{ field, description: `must be >= 0 (got ${value})` }];
  return finiteViolations(value, field);
}

/** A page offset: an integer >= 0. */
export function offsetViolations(offset: number, field: string): FieldViolation[] {
  if (!Number.isInteger(offset) || offset < 0) {
    return [{ field, description: `must be a non-negative integer (got ${String(offset)})` }];
  }
  return [];
}

/** One of INTERACTION_KINDS (a value the transport decoded, or one from a test). */
export function interactionKindViolations(kind: string, field: string): FieldViolation[] {
  if ((INTERACTION_KINDS as readonly string[]).includes(kind)) return [];
  return [{ field, description: `must be one of ${INTERACTION_KINDS.join(", ")} (got "${kind}")` }];
}

/**
 * Repeated values: each value equal to an earlier one gets a violation at `path(i)` naming the first.
 * `key` maps a value to what counts as equal (default: the value itself); values it maps to undefined
 * are skipped (e.g. empty names, reported elsewhere).
 */
export function duplicateViolations(
  values: readonly string[],
  path: (index: number) => string,
  key: (value: string) => string | undefined = (v) => v,
): FieldViolation[] {
  const firstIndex = new Map<string, number>();
  const violations: FieldViolation[] = [];
  values.forEach((value, i) => {
    const k = key(value);
    if (k === undefined) return;
    const first = firstIndex.get(k);
    if (first === undefined) firstIndex.set(k, i);
    else violations.push({ field: path(i), description: `duplicate of ${path(first)}` });
  });
  return violations;
}

/**
 * A list of ids (GetItems, DeleteItems): 1..10000 of them, each a valid id at `${field}[i]`.
 * Duplicates are allowed.
 */
export function idListViolations(ids: readonly string[], field: string): FieldViolation[] {
  const violations = batchSizeViolations(ids.length, field);
  if (ids.length > BATCH_RANGE.max) return violations;
  ids.forEach((id, i) => violations.push(...idViolations(id, fieldPath(field, i))));
  return violations;
}
