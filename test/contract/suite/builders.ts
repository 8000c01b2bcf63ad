/**
 * Builders and checks of the contract suite. IndexSpec literals built here are already normalised
 * (every default filled in), as the store receives them from the use cases.
 *
 * Expected distances are computed in float64 from the float32 inputs, independently of
 * src/domain/vector.ts, and compared within 1e-6 (absolute or relative).
 * Field values and filters come from test/support (field-values.ts, filter-builders.ts).
 */
import { expect } from "vitest";
import { IndexNotFoundError } from "../../../src/domain/errors.js";
import type { FieldValues, Item } from "../../../src/domain/item.js";
import type { DistanceMetric, FieldSpec, MetadataFieldSpec, VectorAlgorithm, VectorFieldSpec } from "../../../src/domain/schema.js";
import type { SearchQuery, SearchResult } from "../../../src/store/vector-store.js";
import { ALL } from "../../support/filter-builders.js";
import { referenceDistance } from "../../support/reference-distance.js";

// ---- schemas ----------------------------------------------------------------------------------------

export const textField = (name: string): MetadataFieldSpec => ({ name, type: "text", weight: 1 });
export const tagField = (name: string, options: { separator?: string; caseSensitive?: boolean } = {}): MetadataFieldSpec => ({
  name,
  type: "tag",
  separator: options.separator ?? ",",
  caseSensitive: options.caseSensitive ?? false,
});
export const numericField = (name: string): MetadataFieldSpec => ({ name, type: "numeric" });
export function vectorField(
  dimension: number,
  metric: DistanceMetric = "COSINE",
  algorithm: VectorAlgorithm = "FLAT",
  name = "vec",
): VectorFieldSpec {
  return algorithm === "HNSW"
    ? { name, type: "vector", dimension, algorithm, metric, elementType: "FLOAT32", hnsw: { m: 16, efConstruction: 200, efRuntime: 10 } }
    : { name, type: "vector", dimension, algorithm, metric, elementType: "FLOAT32" };
}

/** The proto's default schema: descr TEXT, labels TAG, time NUMERIC, vec VECTOR (FLAT, COSINE). */
export function defaultFields(dimension: number, metric: DistanceMetric = "COSINE"): FieldSpec[] {
  return [textField("descr"), tagField("labels"), numericField("time"), vectorField(dimension, metric)];
}

// ---- items and queries ------------------------------------------------------------------------------

export const f32 = (values: readonly number[]): Float32Array => new Float32Array(values);
export const item = (id: string, vector: readonly number[], fields: FieldValues = {}): Item => ({ id, vector: f32(vector), fields });

/** A KNN query for the `k` nearest to `vector`, matching everything unless `extra` says otherwise. */
export function knn(vector: readonly number[], k: number, extra: Partial<SearchQuery> = {}): SearchQuery {
  return { vector: f32(vector), k, offset: 0, filter: ALL, includeVectors: false, ...extra };
}

/** A filter-only query: the page of `k` matches from `offset`, in id order. */
export function filterOnly(filter: SearchQuery["filter"], k: number, offset = 0, extra: Partial<SearchQuery> = {}): SearchQuery {
  return { k, offset, filter, includeVectors: false, ...extra };
}

// ---- checks -----------------------------------------------------------------------------------------

/** Independent float64 references for the three metrics (Redis: COSINE 1-cos, IP 1-dot, L2 squared). */
export function expectedDistance(metric: DistanceMetric, a: readonly number[], b: readonly number[]): number {
  return referenceDistance(metric, f32(a), f32(b));
}

export function expectClose(actual: number, expected: number, what = "distance"): void {
  const diff = Math.abs(actual - expected);
  expect(diff <= 1e-6 || diff <= 1e-6 * Math.abs(expected), `${what}: got ${actual}, expected ${expected}`).toBe(true);
}

export const ids = (result: SearchResult): string[] => result.hits.map((h) => h.id);

export function sortedBy<T>(values: readonly T[], key: (v: T) => string): T[] {
  return [...values].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Bit patterns of a float32 vector, for bit-exact comparisons. */
export const bits = (v: Float32Array | undefined): number[] =>
  v === undefined ? [] : Array.from(new Uint32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)));

export async function expectIndexNotFound(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(IndexNotFoundError);
}
