/**
 * Index specifications: the schema of an index, with every default filled in. A normalised IndexSpec is
 * what stores persist and compare (Index is idempotent on an equal spec).
 */

export type DistanceMetric = "COSINE" | "L2" | "IP";
export type VectorAlgorithm = "FLAT" | "HNSW";
/** See src/domain/element-type.ts. */
export type VectorElementType = "FLOAT32" | "FLOAT64" | "FLOAT16" | "BFLOAT16";

export interface HnswParams {
  readonly m: number;
  readonly efConstruction: number;
  readonly efRuntime: number;
}

export interface TextFieldSpec {
  readonly name: string;
  readonly type: "text";
  readonly weight: number;
}

export interface TagFieldSpec {
  readonly name: string;
  readonly type: "tag";
  readonly separator: string;
  readonly caseSensitive: boolean;
}

export interface NumericFieldSpec {
  readonly name: string;
  readonly type: "numeric";
}

export interface VectorFieldSpec {
  readonly name: string;
  readonly type: "vector";
  readonly dimension: number;
  readonly algorithm: VectorAlgorithm;
  readonly metric: DistanceMetric;
  readonly elementType: VectorElementType;
  /** Present exactly when algorithm is HNSW. */
  readonly hnsw?: HnswParams;
}

export type MetadataFieldSpec = TextFieldSpec | TagFieldSpec | NumericFieldSpec;
export type FieldSpec = MetadataFieldSpec | VectorFieldSpec;
export type FieldType = FieldSpec["type"];

/** Names for the components of the vector; see InterestConfig in the proto. */
export interface InterestSpec {
  readonly categoryNames: readonly string[];
  /** A component strictly above this means "interested". */
  readonly threshold: number;
  /** Name of the TAG field (present in `fields`) the interests are written to. */
  readonly tagField: string;
}

export interface IndexSpec {
  readonly name: string;
  /** Every field, including the interests tag field when interests are configured. Exactly one vector. */
  readonly fields: readonly FieldSpec[];
  readonly interests?: InterestSpec;
}

/** What a store knows about an index beyond its spec. */
export interface IndexInfo {
  readonly spec: IndexSpec;
  readonly itemCount: number;
  readonly indexing: boolean;
  /** 0..1 */
  readonly indexingProgress: number;
  readonly indexingFailures: number;
  /** The aliases pointing to the index, sorted by UTF-8 bytes (compareIds); absent or empty when none. */
  readonly aliases?: readonly string[];
}

export const DEFAULT_INTEREST_THRESHOLD = 0.4;
export const DEFAULT_INTEREST_TAG_FIELD = "interests";
export const DEFAULT_HNSW: HnswParams = { m: 16, efConstruction: 200, efRuntime: 10 };
export const DEFAULT_TAG_SEPARATOR = ",";

/** The vector field of a spec (validation guarantees there is exactly one). */
export function vectorField(spec: IndexSpec): VectorFieldSpec {
  const field = spec.fields.find((f): f is VectorFieldSpec => f.type === "vector");
  if (!field) throw new Error(`index spec ${spec.name} has no vector field`);
  return field;
}

/** The metadata (non-vector) fields of a spec, in schema order. */
export function metadataFields(spec: IndexSpec): MetadataFieldSpec[] {
  return spec.fields.filter((f): f is MetadataFieldSpec => f.type !== "vector");
}

export function findField(spec: IndexSpec, name: string): FieldSpec | undefined {
  return spec.fields.find((f) => f.name === name);
}
