/**
 * Contract: FLOAT64, FLOAT16 and BFLOAT16 vector fields. The store receives vectors already rounded to
 * the type by the use cases (src/domain/element-type.ts); it keeps them bit for bit and ranks by the
 * distance Redis computes for the type, checked here against float64 references from the rounded values.
 */
import { describe, expect, it } from "vitest";
import { roundVector } from "../../../src/domain/element-type.js";
import type { DistanceMetric, VectorElementType, VectorFieldSpec } from "../../../src/domain/schema.js";
import { tags } from "../../support/field-values.js";
import { tagFilter } from "../../support/filter-builders.js";
import { referenceDistance } from "../../support/reference-distance.js";
import { bits, ids, knn, tagField } from "./builders.js";
import type { ContractContext } from "./context.js";

/** Values each type rounds (recorded on Redis 7.4.1 + RediSearch 2.10.32, 11-element-types.json). */
const ROUNDED: Record<VectorElementType, [number, number, number]> = {
  FLOAT32: [Math.fround(0.1), Math.fround(1 / 3), Math.fround(3.14159)],
  FLOAT64: [Math.fround(0.1), Math.fround(1 / 3), Math.fround(3.14159)],
  FLOAT16: [0.0999755859375, 0.333251953125, 3.140625],
  BFLOAT16: [0.10009765625, 0.333984375, 3.140625],
};

/**
 * Tolerance of the type's distances against a float64 reference from the stored values (COSINE
 * normalises in the type first, which moves FLOAT16 by up to ~1e-3 and BFLOAT16 by up to ~5e-3).
 */
const TOLERANCE: Record<VectorElementType, number> = { FLOAT32: 1e-6, FLOAT64: 1e-9, FLOAT16: 1e-3, BFLOAT16: 5e-3 };

const typedField = (elementType: VectorElementType, metric: DistanceMetric, dimension = 4): VectorFieldSpec => ({
  name: "vec",
  type: "vector",
  dimension,
  algorithm: "FLAT",
  metric,
  elementType,
});

export function describeElementTypes(ctx: ContractContext): void {
  describe("element types", () => {
    const { store, createIndex } = ctx;
    const raw: [string, number[]][] = [
      ["a", [0.1, 1 / 3, 3.14159, -2]],
      ["b", [1, 0.5, -0.25, 0.125]],
      ["c", [-0.7, 0.2, 3.14159, 6e-8]],
      ["d", [300.5, -1.5, 0.001, 2]],
      ["e", [0.3, 0.6, 0.1, 0.7]],
    ];
    const query = [0.25, 0.5, 1, -0.5];

    for (const type of ["FLOAT64", "FLOAT16", "BFLOAT16"] as const) {
      it(`keeps ${type} values bit for bit as rounded`, async () => {
        const spec = await createIndex(`et_keep_${type}`, [typedField(type, "L2", 3)]);
        const v = roundVector(type, new Float32Array([0.1, 1 / 3, 3.14159]));
        expect(Array.from(v)).toEqual(ROUNDED[type]);
        await store.upsert(spec.name, [{ id: "x", vector: v, fields: {} }]);
        const [got] = await store.getItems(spec.name, ["x"], { includeVectors: true });
        expect(bits(got?.vector)).toEqual(bits(v));
        const scanned = [];
        for await (const batch of store.scanItems(spec.name, 10)) scanned.push(...batch);
        expect(bits(scanned[0]?.vector)).toEqual(bits(v));
        // UpdateItems writes the new vector in the index's type too.
        const w = roundVector(type, new Float32Array([3.14159, 0.1, 1 / 3]));
        await store.updateItems(spec.name, [{ id: "x", vector: w, set: {}, remove: [] }], { createMissing: false });
        const [updated] = await store.getItems(spec.name, ["x"], { includeVectors: true });
        expect(bits(updated?.vector)).toEqual(bits(w));
      });

      for (const metric of ["L2", "IP", "COSINE"] as const) {
        it(`ranks ${type} vectors by the ${metric} distance of the stored values, with range and filter`, async () => {
          const spec = await createIndex(`et_${type}_${metric}`, [typedField(type, metric), tagField("labels")]);
          const items = raw.map(([id, values], i) => ({
            id,
            vector: roundVector(type, new Float32Array(values)),
            even: i % 2 === 0,
            fields: { labels: tags(i % 2 === 0 ? "even" : "odd") },
          }));
          await store.upsert(spec.name, items.map(({ id, vector, fields }) => ({ id, vector, fields })));
          const q = roundVector(type, new Float32Array(query));
          const expected = items
            .map((item) => ({ id: item.id, even: item.even, d: referenceDistance(metric, item.vector, q) }))
            .sort((x, y) => x.d - y.d);
          const result = await store.search(spec.name, knn(Array.from(q), 5));
          expect(ids(result)).toEqual(expected.map((e) => e.id));
          result.hits.forEach((hit, i) => {
            const want = expected[i]?.d as number;
            const diff = Math.abs(hit.distance - want);
            expect(diff <= TOLERANCE[type] * Math.max(1, Math.abs(want)), `${type} ${metric} ${hit.id}: ${hit.distance} vs ${want}`).toBe(true);
          });
          // Range: a radius between the 2nd and 3rd distances.
          const radius = Math.max(0, ((expected[1]?.d as number) + (expected[2]?.d as number)) / 2);
          const inRange = await store.search(spec.name, knn(Array.from(q), 5, { maxDistance: radius }));
          expect(ids(inRange)).toEqual(expected.filter((e) => e.d <= radius).map((e) => e.id));
          const even = await store.search(spec.name, knn(Array.from(q), 5, { filter: tagFilter("labels", "even") }));
          expect(ids(even)).toEqual(expected.filter((e) => e.even).map((e) => e.id));
        });
      }
    }
  });
}
