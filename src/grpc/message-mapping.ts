/**
 * Proto messages <-> domain values (everything but vectors and filters). Decoding checks only what the
 * proto's shape leaves open (unset oneofs, unknown enum numbers); everything else is the use cases'.
 */
import type { FieldViolation } from "../domain/errors.js";
import type { Interaction as DomainInteraction, InteractionKind as DomainInteractionKind } from "../domain/interaction.js";
import type { FieldValue as DomainFieldValue, FieldValues, Item as DomainItem } from "../domain/item.js";
import type {
  DistanceMetric as DomainMetric,
  FieldSpec,
  IndexInfo as DomainIndexInfo,
  InterestSpec,
  VectorAlgorithm as DomainAlgorithm,
} from "../domain/schema.js";
import {
  DistanceMetric,
  InteractionKind,
  VectorAlgorithm,
  VectorElementType,
  type FieldSchema,
  type FieldValue,
  type IndexInfo,
  type Interaction,
  type InterestConfig,
  type Item,
} from "../gen/vecrec/v1/vecrec.js";
import type { FieldInput, IndexSpecInput, InterestInput } from "../usecases/index-admin.js";
import type { InteractionInput } from "../usecases/interactions.js";
import type { ItemInput } from "../usecases/items.js";
import { decodeOptionalVector, encodeVector } from "./vector-mapping.js";

// ---- enums ----

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
const KIND_TO_PROTO: Record<DomainInteractionKind, InteractionKind> = {
  view: InteractionKind.INTERACTION_KIND_VIEW,
  click: InteractionKind.INTERACTION_KIND_CLICK,
  like: InteractionKind.INTERACTION_KIND_LIKE,
  add_to_cart: InteractionKind.INTERACTION_KIND_ADD_TO_CART,
  purchase: InteractionKind.INTERACTION_KIND_PURCHASE,
};

/** proto number -> domain value; numbers not in `table` (UNSPECIFIED, unknown) are absent. */
function inverse<D extends string>(table: Record<D, number>): Map<number, D> {
  return new Map((Object.entries(table) as [D, number][]).map(([domain, proto]) => [proto, domain]));
}
const ALGORITHM_FROM_PROTO = inverse(ALGORITHM_TO_PROTO);
const METRIC_FROM_PROTO = inverse(METRIC_TO_PROTO);
const KIND_FROM_PROTO = inverse(KIND_TO_PROTO);

/** Decodes an InteractionKind; UNSPECIFIED or an unknown number is a violation on `path`. */
export function decodeInteractionKind(
  kind: InteractionKind,
  path: string,
  violations: FieldViolation[],
): DomainInteractionKind | undefined {
  const decoded = KIND_FROM_PROTO.get(kind);
  if (decoded === undefined) {
    violations.push({
      field: path,
      description:
        kind === InteractionKind.INTERACTION_KIND_UNSPECIFIED
          ? "the interaction kind is required"
          : `unknown interaction kind ${kind}`,
    });
  }
  return decoded;
}

export function encodeInteractionKind(kind: DomainInteractionKind): InteractionKind {
  return KIND_TO_PROTO[kind];
}

// ---- index specs ----

function decodeFieldSchema(field: FieldSchema, path: string, violations: FieldViolation[]): FieldInput {
  const { name, type } = field;
  if (type === undefined) return { name, type: undefined };
  switch (type.$case) {
    case "text":
      return { name, type: "text", weight: type.value.weight };
    case "tag":
      return { name, type: "tag", separator: type.value.separator, caseSensitive: type.value.caseSensitive };
    case "numeric":
      return { name, type: "numeric" };
    case "vector": {
      const v = type.value;
      const at = `${path}.vector`;
      let algorithm: DomainAlgorithm | undefined;
      if (v.algorithm !== VectorAlgorithm.VECTOR_ALGORITHM_UNSPECIFIED) {
        algorithm = ALGORITHM_FROM_PROTO.get(v.algorithm);
        if (algorithm === undefined) violations.push({ field: `${at}.algorithm`, description: `unknown algorithm ${v.algorithm}` });
      }
      let metric: DomainMetric | undefined;
      if (v.distanceMetric !== DistanceMetric.DISTANCE_METRIC_UNSPECIFIED) {
        metric = METRIC_FROM_PROTO.get(v.distanceMetric);
        if (metric === undefined) {
          violations.push({ field: `${at}.distance_metric`, description: `unknown distance metric ${v.distanceMetric}` });
        }
      }
      let elementType: "FLOAT32" | undefined;
      if (v.elementType === VectorElementType.VECTOR_ELEMENT_TYPE_FLOAT32) elementType = "FLOAT32";
      else if (v.elementType !== VectorElementType.VECTOR_ELEMENT_TYPE_UNSPECIFIED) {
        violations.push({ field: `${at}.element_type`, description: `unknown element type ${v.elementType}` });
      }
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

/** Decodes the schema part of an IndexRequest. */
export function decodeIndexSpecInput(
  request: { indexName: string; fields: FieldSchema[]; defaultVectorDimension: number; interests?: InterestConfig | undefined },
  violations: FieldViolation[],
): IndexSpecInput {
  const interests = decodeInterests(request.interests);
  return {
    name: request.indexName,
    fields: request.fields.map((f, i) => decodeFieldSchema(f, `fields[${i}]`, violations)),
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
            elementType: VectorElementType.VECTOR_ELEMENT_TYPE_FLOAT32,
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
  };
}

// ---- items ----

/** Decodes metadata values; an unset `kind` is a violation on `<path>.<name>`. */
export function decodeFieldValues(
  fields: { [key: string]: FieldValue },
  path: string,
  violations: FieldViolation[],
): Record<string, DomainFieldValue> {
  const decoded: Record<string, DomainFieldValue> = {};
  for (const [name, value] of Object.entries(fields)) {
    const kind = value.kind;
    if (kind === undefined) {
      violations.push({ field: `${path}.${name}`, description: "no value set: set one of text, tags, number" });
      continue;
    }
    if (kind.$case === "text") decoded[name] = { type: "text", value: kind.value };
    else if (kind.$case === "tags") decoded[name] = { type: "tag", values: [...kind.value.values] };
    else decoded[name] = { type: "numeric", value: kind.value };
  }
  return decoded;
}

export function encodeFieldValues(fields: FieldValues): { [key: string]: FieldValue } {
  const encoded: { [key: string]: FieldValue } = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value.type === "text") encoded[name] = { kind: { $case: "text", value: value.value } };
    else if (value.type === "tag") encoded[name] = { kind: { $case: "tags", value: { values: [...value.values] } } };
    else encoded[name] = { kind: { $case: "number", value: value.value } };
  }
  return encoded;
}

/** Decodes one item of an UpsertRequest (`path` = `items[i]`). A missing vector is left to the use case. */
export function decodeItem(item: Item, path: string, violations: FieldViolation[]): ItemInput {
  return {
    id: item.id,
    vector: decodeOptionalVector(item.vector, `${path}.vector`, violations),
    fields: decodeFieldValues(item.fields, `${path}.fields`, violations),
  };
}

export function encodeItem(item: DomainItem): Item {
  return {
    id: item.id,
    vector: item.vector && encodeVector(item.vector),
    fields: encodeFieldValues(item.fields),
  };
}

// ---- interactions ----

/** The range of google.protobuf.Timestamp (0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z), in ms. */
export const MIN_TIMESTAMP_MS = -62_135_596_800_000;
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;

/**
 * Decodes one interaction (`path` = `interactions[i]`): weight defaults to 1, time to `nowMs`. Times are
 * kept to the millisecond and must lie in the Timestamp range.
 */
export function decodeInteraction(
  interaction: Interaction,
  path: string,
  nowMs: number,
  violations: FieldViolation[],
): InteractionInput | undefined {
  const kind = decodeInteractionKind(interaction.kind, `${path}.kind`, violations);
  let occurredAtMs = nowMs;
  if (interaction.occurredAt !== undefined) {
    occurredAtMs = interaction.occurredAt.getTime();
    // The generated decoder adds nanos / 1e6 to seconds * 1000 in float64, which rounds a time in the
    // last millisecond of 9999 up to year 10000: that millisecond belongs to 9999.
    if (occurredAtMs === MAX_TIMESTAMP_MS + 1) occurredAtMs = MAX_TIMESTAMP_MS;
    if (!Number.isFinite(occurredAtMs) || occurredAtMs < MIN_TIMESTAMP_MS || occurredAtMs > MAX_TIMESTAMP_MS) {
      // Stored, it could never be read back: GetInteractions could not encode it as a valid Timestamp.
      violations.push({
        field: `${path}.occurred_at`,
        description: "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (the google.protobuf.Timestamp range)",
      });
      return undefined;
    }
  }
  if (kind === undefined) return undefined;
  return {
    userId: interaction.userId,
    itemId: interaction.itemId,
    kind,
    weight: interaction.weight ?? 1,
    occurredAtMs,
  };
}

export function encodeInteraction(interaction: DomainInteraction): Interaction {
  return {
    userId: interaction.userId,
    itemId: interaction.itemId,
    kind: encodeInteractionKind(interaction.kind),
    weight: interaction.weight,
    occurredAt: new Date(interaction.occurredAtMs),
  };
}
