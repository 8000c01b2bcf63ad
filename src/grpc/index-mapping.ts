/**
 * Index messages <-> domain values: IndexRequest -> IndexSpecInput (an unknown enum number is
 * Undecodable; unset enums stay unset for the defaults), InterestConfig, and IndexInfo for responses.
 */
import type { FieldInput, IndexSpecInput, InterestInput } from "../domain/index-spec.js";
import type {
  DistanceMetric as DomainMetric,
  FieldSpec,
  IndexInfo as DomainIndexInfo,
  InterestSpec,
  VectorAlgorithm as DomainAlgorithm,
  VectorElementType as DomainElementType,
} from "../domain/schema.js";
import { Undecodable, fieldPath, type Decoded } from "../domain/violations.js";
import {
  DistanceMetric,
  VectorAlgorithm,
  VectorElementType,
  type FieldSchema,
  type IndexInfo,
  type IndexRequest,
  type InterestConfig,
  type VectorFieldOptions,
} from "../gen/vecrec/v1/vecrec.js";
import { inverse } from "./enum-mapping.js";

// Each table is written once, domain -> proto; the decoding direction is its inverse.
const ALGORITHM_TO_PROTO: Record<DomainAlgorithm, VectorAlgorithm> = {
  FLAT: VectorAlgorithm.VECTOR_ALGORITHM_FLAT,
  HNSW: VectorAlgorithm.VECTOR_ALGORITHM_HNSW,
};
const METRIC_TO_PROTO: Record<DomainMetric, DistanceMetric> = {
  COSINE: DistanceMetric.DISTANCE_METRIC_COSINE,
  L2: DistanceMetric.DISTANCE_METRIC_L2,
  IP: DistanceMetric.DISTANCE_METRIC_IP,
};
const ALGORITHM_FROM_PROTO = inverse(ALGORITHM_TO_PROTO);
const METRIC_FROM_PROTO = inverse(METRIC_TO_PROTO);
const ELEMENT_TYPE_TO_PROTO: Record<DomainElementType, VectorElementType> = {
  FLOAT32: VectorElementType.VECTOR_ELEMENT_TYPE_FLOAT32,
  FLOAT64: VectorElementType.VECTOR_ELEMENT_TYPE_FLOAT64,
  FLOAT16: VectorElementType.VECTOR_ELEMENT_TYPE_FLOAT16,
  BFLOAT16: VectorElementType.VECTOR_ELEMENT_TYPE_BFLOAT16,
};
const ELEMENT_TYPE_FROM_PROTO = inverse(ELEMENT_TYPE_TO_PROTO);

/** An optional enum: undefined when UNSPECIFIED (0), Undecodable when unknown. */
function decodeEnum<D>(value: number, table: ReadonlyMap<number, D>, path: string, what: string): Decoded<D> | undefined {
  if (value === 0) return undefined;
  return table.get(value) ?? new Undecodable({ field: path, description: `unknown ${what} ${value}` });
}

function decodeVectorField(name: string, v: VectorFieldOptions, path: string): FieldInput {
  const algorithm = decodeEnum(v.algorithm, ALGORITHM_FROM_PROTO, fieldPath(path, "algorithm"), "algorithm");
  const metric = decodeEnum(v.distanceMetric, METRIC_FROM_PROTO, fieldPath(path, "distance_metric"), "distance metric");
  const elementType = decodeEnum(v.elementType, ELEMENT_TYPE_FROM_PROTO, fieldPath(path, "element_type"), "element type");
  return {
    name,
    type: "vector",
    dimension: v.dimension,
    ...(algorithm !== undefined && { algorithm }),
    ...(metric !== undefined && { metric }),
    ...(elementType !== undefined && { elementType }),
    ...(v.hnsw !== undefined && {
      hnsw: { m: v.hnsw.m, efConstruction: v.hnsw.efConstruction, efRuntime: v.hnsw.efRuntime },
    }),
  };
}

function decodeFieldSchema(field: FieldSchema, path: string): FieldInput {
  const { name, type } = field;
  if (type === undefined) return { name, type: undefined };
  switch (type.$case) {
    case "text":
      return { name, type: "text", weight: type.value.weight };
    case "tag":
      return { name, type: "tag", separator: type.value.separator, caseSensitive: type.value.caseSensitive };
    case "numeric":
      return { name, type: "numeric" };
    case "vector":
      return decodeVectorField(name, type.value, fieldPath(path, "vector"));
  }
}

export function decodeInterests(interests: InterestConfig | undefined): InterestInput | undefined {
  if (interests === undefined) return undefined;
  return {
    categoryNames: [...interests.categoryNames],
    tagField: interests.tagField,
    ...(interests.threshold !== undefined && { threshold: interests.threshold }),
  };
}

/** Decodes an IndexRequest into the spec the use case normalises. */
export function decodeIndexRequest(
  request: Pick<IndexRequest, "indexName" | "fields" | "defaultVectorDimension" | "interests">,
): IndexSpecInput {
  const interests = decodeInterests(request.interests);
  return {
    name: request.indexName,
    fields: request.fields.map((f, i) => decodeFieldSchema(f, fieldPath("fields", i))),
    defaultVectorDimension: request.defaultVectorDimension,
    ...(interests !== undefined && { interests }),
  };
}

function encodeFieldSpec(field: FieldSpec): FieldSchema {
  switch (field.type) {
    case "text":
      return { name: field.name, type: { $case: "text", value: { weight: field.weight } } };
    case "tag":
      return {
        name: field.name,
        type: { $case: "tag", value: { separator: field.separator, caseSensitive: field.caseSensitive } },
      };
    case "numeric":
      return { name: field.name, type: { $case: "numeric", value: {} } };
    case "vector":
      return {
        name: field.name,
        type: {
          $case: "vector",
          value: {
            dimension: field.dimension,
            algorithm: ALGORITHM_TO_PROTO[field.algorithm],
            distanceMetric: METRIC_TO_PROTO[field.metric],
            elementType: ELEMENT_TYPE_TO_PROTO[field.elementType],
            hnsw: field.hnsw && { m: field.hnsw.m, efConstruction: field.hnsw.efConstruction, efRuntime: field.hnsw.efRuntime },
          },
        },
      };
  }
}

function encodeInterests(interests: InterestSpec): InterestConfig {
  return { categoryNames: [...interests.categoryNames], threshold: interests.threshold, tagField: interests.tagField };
}

export function encodeIndexInfo(info: DomainIndexInfo): IndexInfo {
  return {
    indexName: info.spec.name,
    fields: info.spec.fields.map(encodeFieldSpec),
    interests: info.spec.interests && encodeInterests(info.spec.interests),
    itemCount: info.itemCount,
    indexing: info.indexing,
    indexingProgress: info.indexingProgress,
    indexingFailures: info.indexingFailures,
    aliases: [...(info.aliases ?? [])],
  };
}
