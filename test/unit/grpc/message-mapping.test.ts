import { describe, expect, it } from "vitest";
import type { FieldViolation } from "../../../src/domain/errors.js";
import { defaultIndexSpec } from "../../../src/domain/index-spec.js";
import { DistanceMetric, VectorAlgorithm, VectorElementType } from "../../../src/gen/vecrec/v1/vecrec.js";
import {
  decodeFieldValues,
  decodeIndexSpecInput,
  decodeInteraction,
  encodeIndexInfo,
  encodeInteraction,
} from "../../../src/grpc/message-mapping.js";
import { decodeVector, encodeVector } from "../../../src/grpc/vector-mapping.js";

describe("message mapping", () => {
  it("decodes a vector field schema, leaving unspecified enums to the defaults", () => {
    const violations: FieldViolation[] = [];
    const input = decodeIndexSpecInput(
      {
        indexName: "i",
        defaultVectorDimension: 0,
        fields: [
          { name: "v", type: { $case: "vector", value: { dimension: 4, algorithm: 0, distanceMetric: 2, elementType: 0, hnsw: undefined } } },
          { name: "t", type: { $case: "tag", value: { separator: ";", caseSensitive: true } } },
          { name: "x" },
        ],
      },
      violations,
    );
    expect(violations).toEqual([]);
    expect(input.fields).toEqual([
      { name: "v", type: "vector", dimension: 4, metric: "L2" },
      { name: "t", type: "tag", separator: ";", caseSensitive: true },
      { name: "x", type: undefined },
    ]);
  });

  it("rejects unknown enum numbers with their paths", () => {
    const violations: FieldViolation[] = [];
    decodeIndexSpecInput(
      {
        indexName: "i",
        defaultVectorDimension: 0,
        fields: [
          { name: "v", type: { $case: "vector", value: { dimension: 4, algorithm: 7 as VectorAlgorithm, distanceMetric: 9 as DistanceMetric, elementType: 3 as VectorElementType } } },
        ],
      },
      violations,
    );
    expect(violations.map((v) => v.field)).toEqual([
      "fields[0].vector.algorithm",
      "fields[0].vector.distance_metric",
      "fields[0].vector.element_type",
    ]);
  });

  it("encodes an index spec with every default filled in", () => {
    const info = encodeIndexInfo({ spec: defaultIndexSpec("d", 3), itemCount: 2, indexing: false, indexingProgress: 1, indexingFailures: 0 });
    expect(info.indexName).toBe("d");
    expect(info.fields.find((f) => f.name === "vec")?.type).toEqual({
      $case: "vector",
      value: {
        dimension: 3,
        algorithm: VectorAlgorithm.VECTOR_ALGORITHM_FLAT,
        distanceMetric: DistanceMetric.DISTANCE_METRIC_COSINE,
        elementType: VectorElementType.VECTOR_ELEMENT_TYPE_FLOAT32,
        hnsw: undefined,
      },
    });
  });

  it("names an unset field value", () => {
    const violations: FieldViolation[] = [];
    const fields = decodeFieldValues({ a: { kind: { $case: "number", value: 2 } }, b: {} }, "items[4].fields", violations);
    expect(fields).toEqual({ a: { type: "numeric", value: 2 } });
    expect(violations.map((v) => v.field)).toEqual(["items[4].fields.b"]);
  });

  it("fills interaction defaults and round-trips kinds and times", () => {
    const violations: FieldViolation[] = [];
    const input = decodeInteraction({ userId: "u", itemId: "i", kind: 5 }, "interactions[0]", 1234, violations);
    expect(input).toEqual({ userId: "u", itemId: "i", kind: "purchase", weight: 1, occurredAtMs: 1234 });
    expect(encodeInteraction({ userId: "u", itemId: "i", kind: "add_to_cart", weight: 2, occurredAtMs: 99 })).toEqual({
      userId: "u",
      itemId: "i",
      kind: 4,
      weight: 2,
      occurredAt: new Date(99),
    });
  });

  it("decodes both vector encodings and rejects a partial float", () => {
    const violations: FieldViolation[] = [];
    const bytes = encodeVector(Float32Array.from([0.5, -2]));
    expect(Array.from(decodeVector(bytes, "vector", violations) ?? [])).toEqual([0.5, -2]);
    expect(Array.from(decodeVector({ encoding: { $case: "float32Values", value: { values: [1, 2] } } }, "v", violations) ?? [])).toEqual([1, 2]);
    expect(violations).toEqual([]);
    decodeVector({ encoding: { $case: "float32Le", value: Buffer.alloc(7) } }, "items[1].vector", violations);
    decodeVector(undefined, "vector", violations);
    expect(violations.map((v) => v.field)).toEqual(["items[1].vector.float32_le", "vector"]);
  });
});
