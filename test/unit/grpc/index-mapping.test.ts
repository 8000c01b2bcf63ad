import { describe, expect, it } from "vitest";
import type { FieldViolation } from "../../../src/domain/errors.js";
import { defaultIndexSpec } from "../../../src/domain/index-spec.js";
import { isUndecodable } from "../../../src/domain/violations.js";
import { DistanceMetric, VectorAlgorithm, VectorElementType } from "../../../src/gen/vecrec/v1/vecrec.js";
import { decodeIndexRequest, encodeIndexInfo } from "../../../src/grpc/index-mapping.js";

/** The violations carried by the Undecodable values of a decoded spec. */
function undecodables(value: unknown): FieldViolation[] {
  if (isUndecodable(value)) return [...value.violations];
  if (typeof value !== "object" || value === null) return [];
  return Object.values(value).flatMap(undecodables);
}

describe("index mapping", () => {
  it("decodes a vector field schema, leaving unspecified enums to the defaults", () => {
    const input = decodeIndexRequest({
      indexName: "i",
      defaultVectorDimension: 0,
      fields: [
        { name: "v", type: { $case: "vector", value: { dimension: 4, algorithm: 0, distanceMetric: 2, elementType: 0, hnsw: undefined } } },
        { name: "t", type: { $case: "tag", value: { separator: ";", caseSensitive: true } } },
        { name: "x" },
      ],
    });
    expect(undecodables(input)).toEqual([]);
    expect(input.fields).toEqual([
      { name: "v", type: "vector", dimension: 4, metric: "L2" },
      { name: "t", type: "tag", separator: ";", caseSensitive: true },
      { name: "x", type: undefined },
    ]);
  });

  it("rejects unknown enum numbers with their paths", () => {
    const input = decodeIndexRequest({
      indexName: "i",
      defaultVectorDimension: 0,
      fields: [
        {
          name: "v",
          type: {
            $case: "vector",
            value: { dimension: 4, algorithm: 7 as VectorAlgorithm, distanceMetric: 9 as DistanceMetric, elementType: 11 as VectorElementType },
          },
        },
      ],
    });
    expect(undecodables(input).map((v) => v.field)).toEqual([
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
});
