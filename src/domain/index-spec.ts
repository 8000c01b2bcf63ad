/**
 * Index specs from requests: validation (every violation, with proto field paths), defaults, the
 * default schema, and equality (Index is idempotent on an equal normalised spec).
 */
import { InvalidArgumentError, type FieldViolation } from "./errors.js";
import {
  DIMENSION_RANGE,
  HNSW_EF_CONSTRUCTION_RANGE,
  HNSW_EF_RUNTIME_RANGE,
  HNSW_M_RANGE,
  duplicateViolations,
  fieldNameViolations,
  indexNameViolations,
  intRangeViolations,
} from "./request-limits.js";
import {
  DEFAULT_HNSW,
  DEFAULT_INTEREST_TAG_FIELD,
  DEFAULT_INTEREST_THRESHOLD,
  DEFAULT_TAG_SEPARATOR,
  type DistanceMetric,
  type FieldSpec,
  type HnswParams,
  type IndexSpec,
  type InterestSpec,
  type TagFieldSpec,
  type VectorAlgorithm,
  type VectorElementType,
  type VectorFieldSpec,
} from "./schema.js";
import { fieldPath, isUndecodable, type Decoded } from "./violations.js";

/** A schema field as the transport decodes it; zero values mean "default". */
export type FieldInput =
  /** `weight` 0 = default 1. */
  | { name: string; type: "text"; weight: number }
  /** `separator` "" = default ",". */
  | { name: string; type: "tag"; separator: string; caseSensitive: boolean }
  | { name: string; type: "numeric" }
  /**
   * Unset enums and zero HNSW params = defaults; an enum value the transport could not decode (an
   * unknown number) is Undecodable. `hnsw` present only when the request set it.
   */
  | {
      name: string;
      type: "vector";
      dimension: number;
      algorithm?: Decoded<VectorAlgorithm>;
      metric?: Decoded<DistanceMetric>;
      elementType?: Decoded<VectorElementType>;
      hnsw?: { m: number; efConstruction: number; efRuntime: number };
    }
  /** The `type` oneof was not set: a violation. */
  | { name: string; type: undefined };

/** InterestConfig as decoded: `threshold` undefined = 0.4, `tagField` "" = default. */
export interface InterestInput {
  categoryNames: string[];
  threshold?: number;
  tagField: string;
}

/** IndexRequest as decoded. */
export interface IndexSpecInput {
  name: string;
  fields: FieldInput[];
  /** Used only when `fields` is empty. */
  defaultVectorDimension: number;
  interests?: InterestInput;
}

export const DEFAULT_VECTOR_ALGORITHM: VectorAlgorithm = "FLAT";
export const DEFAULT_DISTANCE_METRIC: DistanceMetric = "COSINE";
export const DEFAULT_ELEMENT_TYPE: VectorElementType = "FLOAT32";
export const DEFAULT_TEXT_WEIGHT = 1;

// One ASCII punctuation character, as Redis accepts for TAG SEPARATOR.
const ASCII_PUNCTUATION = /^[!-/:-@[-`{-~]$/;

/**
 * The default schema of the proto: `descr` TEXT, `labels` TAG, `time` NUMERIC, `vec` VECTOR (FLAT, COSINE,
 * FLOAT32, `dimension`). Does not validate: use normalizeIndexSpec for input.
 */
export function defaultIndexSpec(name: string, dimension: number): IndexSpec {
  return { name, fields: defaultFields(dimension) };
}

function defaultFields(dimension: number): FieldSpec[] {
  return [
    { name: "descr", type: "text", weight: DEFAULT_TEXT_WEIGHT },
    { name: "labels", type: "tag", separator: DEFAULT_TAG_SEPARATOR, caseSensitive: false },
    { name: "time", type: "numeric" },
    {
      name: "vec",
      type: "vector",
      dimension,
      algorithm: DEFAULT_VECTOR_ALGORITHM,
      metric: DEFAULT_DISTANCE_METRIC,
      elementType: DEFAULT_ELEMENT_TYPE,
    },
  ];
}

/** The TAG field interests are written to: case-insensitive, separator ",". */
export function interestTagField(name: string): TagFieldSpec {
  return { name, type: "tag", separator: ",", caseSensitive: false };
}

/**
 * Validates an IndexRequest and fills every default. With interests, the interests tag field is appended
 * to the fields (after the declared ones).
 * @throws InvalidArgumentError listing every violation, with paths such as `index_name`,
 *   `fields[1].vector.dimension`, `default_vector_dimension`, `interests.category_names[2]`.
 */
export function normalizeIndexSpec(input: IndexSpecInput): IndexSpec {
  const violations: FieldViolation[] = [...indexNameViolations(input.name, "index_name")];
  let fields: FieldSpec[];
  if (input.fields.length === 0) {
    const dimViolations = intRangeViolations(input.defaultVectorDimension, DIMENSION_RANGE, "default_vector_dimension");
    if (input.defaultVectorDimension === 0) {
      violations.push({ field: "default_vector_dimension", description: "required when fields is empty" });
    } else {
      violations.push(...dimViolations);
    }
    fields = defaultFields(input.defaultVectorDimension);
  } else {
    fields = normalizeFields(input.fields, violations);
  }

  let interests: InterestSpec | undefined;
  if (input.interests !== undefined) {
    const vector = fields.filter((f): f is VectorFieldSpec => f.type === "vector");
    const dimension =
      vector.length === 1 && vector[0] !== undefined && isValidDimension(vector[0].dimension)
        ? vector[0].dimension
        : undefined;
    const tagField = input.interests.tagField === "" ? DEFAULT_INTEREST_TAG_FIELD : input.interests.tagField;
    const tagViolations = fieldNameViolations(tagField, "interests.tag_field");
    if (tagViolations.length === 0) {
      const declared = fields.findIndex((f) => f.name === tagField);
      if (declared >= 0) {
        tagViolations.push({
          field: "interests.tag_field",
          description:
            input.fields.length === 0
              ? `"${tagField}" is a field of the default schema; choose another interests tag field`
              : `"${tagField}" is declared in fields[${declared}]; the interests tag field is added by vecrec and must not be declared`,
        });
      }
    }
    violations.push(...tagViolations);
    interests = normalizeInterestValues(input.interests, dimension, tagField, "interests", violations);
    fields = [...fields, interestTagField(tagField)];
  }

  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return interests === undefined ? { name: input.name, fields } : { name: input.name, fields, interests };
}

/**
 * Validates new interests of an existing index (UpdateInterests) and fills defaults. The tag field cannot
 * be renamed: "" keeps the current one (or `interests` when the index has none); a name already in the
 * schema must be a TAG field with separator "," that is case-insensitive (e.g. the field left behind when
 * interests were removed).
 * @throws InvalidArgumentError with paths under `interests.`
 */
export function normalizeInterestUpdate(spec: IndexSpec, input: InterestInput): InterestSpec {
  const violations: FieldViolation[] = [];
  const current = spec.interests?.tagField;
  const tagField = input.tagField === "" ? (current ?? DEFAULT_INTEREST_TAG_FIELD) : input.tagField;
  if (current !== undefined && tagField !== current) {
    violations.push({
      field: "interests.tag_field",
      description: `the interests tag field is "${current}" and cannot be renamed`,
    });
  } else {
    const nameViolations = fieldNameViolations(tagField, "interests.tag_field");
    violations.push(...nameViolations);
    const existing = spec.fields.find((f) => f.name === tagField);
    if (
      nameViolations.length === 0 &&
      existing !== undefined &&
      !(existing.type === "tag" && existing.separator === "," && !existing.caseSensitive)
    ) {
      violations.push({
        field: "interests.tag_field",
        description: `"${tagField}" is a ${existing.type.toUpperCase()} field of the schema, not usable for interests`,
      });
    }
  }
  const vector = spec.fields.find((f): f is VectorFieldSpec => f.type === "vector");
  const interests = normalizeInterestValues(input, vector?.dimension, tagField, "interests", violations);
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return interests;
}

/**
 * Deep equality of normalised specs; field order matters (it is the schema order).
 */
export function specsEqual(a: IndexSpec, b: IndexSpec): boolean {
  if (a.name !== b.name || a.fields.length !== b.fields.length) return false;
  for (let i = 0; i < a.fields.length; i++) {
    const fa = a.fields[i];
    const fb = b.fields[i];
    if (fa === undefined || fb === undefined || !fieldsEqual(fa, fb)) return false;
  }
  return interestsEqual(a.interests, b.interests);
}

function fieldsEqual(a: FieldSpec, b: FieldSpec): boolean {
  if (a.name !== b.name) return false;
  switch (a.type) {
    case "text":
      return b.type === "text" && a.weight === b.weight;
    case "tag":
      return b.type === "tag" && a.separator === b.separator && a.caseSensitive === b.caseSensitive;
    case "numeric":
      return b.type === "numeric";
    case "vector":
      return (
        b.type === "vector" &&
        a.dimension === b.dimension &&
        a.algorithm === b.algorithm &&
        a.metric === b.metric &&
        a.elementType === b.elementType &&
        hnswEqual(a.hnsw, b.hnsw)
      );
  }
}

function hnswEqual(a: HnswParams | undefined, b: HnswParams | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.m === b.m && a.efConstruction === b.efConstruction && a.efRuntime === b.efRuntime;
}

/** Deep equality of interest specs (category order matters); both undefined is equal. */
export function interestsEqual(a: InterestSpec | undefined, b: InterestSpec | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.threshold === b.threshold &&
    a.tagField === b.tagField &&
    a.categoryNames.length === b.categoryNames.length &&
    a.categoryNames.every((name, i) => name === b.categoryNames[i])
  );
}

function isValidDimension(dimension: number): boolean {
  return intRangeViolations(dimension, DIMENSION_RANGE, "").length === 0;
}

function normalizeFields(inputs: readonly FieldInput[], violations: FieldViolation[]): FieldSpec[] {
  const fields: FieldSpec[] = [];
  const vectorIndexes: number[] = [];
  inputs.forEach((input, i) => {
    const path = fieldPath("fields", i);
    violations.push(...fieldNameViolations(input.name, fieldPath(path, "name")));
    const field = normalizeField(input, path, violations);
    if (field === undefined) return;
    if (field.type === "vector") vectorIndexes.push(i);
    fields.push(field);
  });
  violations.push(
    ...duplicateViolations(
      inputs.map((f) => f.name),
      (i) => fieldPath("fields", i, "name"),
      (name) => (name === "" ? undefined : name),
    ),
  );
  if (vectorIndexes.length === 0 && inputs.every((f) => f.type !== undefined)) {
    violations.push({ field: "fields", description: "must have exactly one VECTOR field (found none)" });
  }
  for (const extra of vectorIndexes.slice(1)) {
    violations.push({
      field: fieldPath("fields", extra, "vector"),
      description: `an index has exactly one VECTOR field (the first is fields[${vectorIndexes[0]}])`,
    });
  }
  return fields;
}

function normalizeField(input: FieldInput, path: string, violations: FieldViolation[]): FieldSpec | undefined {
  switch (input.type) {
    case "text": {
      const weight = input.weight === 0 ? DEFAULT_TEXT_WEIGHT : input.weight;
      if (!Number.isFinite(weight) || weight <= 0) {
        violations.push({
          field: fieldPath(path, "text", "weight"),
          description: `must be a positive finite number (got ${String(input.weight)})`,
        });
      }
      return { name: input.name, type: "text", weight };
    }
    case "tag": {
      const separator = input.separator === "" ? DEFAULT_TAG_SEPARATOR : input.separator;
      if (!ASCII_PUNCTUATION.test(separator)) {
        violations.push({
          field: fieldPath(path, "tag", "separator"),
          description: `must be one ASCII punctuation character (got ${JSON.stringify(input.separator)})`,
        });
      }
      return { name: input.name, type: "tag", separator, caseSensitive: input.caseSensitive };
    }
    case "numeric":
      return { name: input.name, type: "numeric" };
    case "vector":
      return normalizeVectorField(input, fieldPath(path, "vector"), violations);
    case undefined:
      violations.push({ field: fieldPath(path, "type"), description: "must be one of text, tag, numeric or vector" });
      return undefined;
  }
}

function normalizeVectorField(
  input: Extract<FieldInput, { type: "vector" }>,
  path: string,
  violations: FieldViolation[],
): VectorFieldSpec {
  const dimensionPath = fieldPath(path, "dimension");
  if (input.dimension === 0) violations.push({ field: dimensionPath, description: "required" });
  else violations.push(...intRangeViolations(input.dimension, DIMENSION_RANGE, dimensionPath));
  const given = {
    algorithm: decodedOr(input.algorithm, DEFAULT_VECTOR_ALGORITHM, violations),
    metric: decodedOr(input.metric, DEFAULT_DISTANCE_METRIC, violations),
    elementType: decodedOr(input.elementType, DEFAULT_ELEMENT_TYPE, violations),
  };
  const algorithm = given.algorithm ?? DEFAULT_VECTOR_ALGORITHM;
  const base = {
    name: input.name,
    type: "vector" as const,
    dimension: input.dimension,
    algorithm,
    metric: given.metric ?? DEFAULT_DISTANCE_METRIC,
    elementType: given.elementType ?? DEFAULT_ELEMENT_TYPE,
  };
  // An algorithm that could not be decoded is reported; its HNSW parameters are not judged against it.
  if (given.algorithm === undefined) return base;
  if (algorithm !== "HNSW") {
    if (input.hnsw !== undefined) {
      violations.push({ field: fieldPath(path, "hnsw"), description: "only allowed with the HNSW algorithm" });
    }
    return base;
  }
  const params = input.hnsw ?? { m: 0, efConstruction: 0, efRuntime: 0 };
  const hnsw: HnswParams = {
    m: params.m === 0 ? DEFAULT_HNSW.m : params.m,
    efConstruction: params.efConstruction === 0 ? DEFAULT_HNSW.efConstruction : params.efConstruction,
    efRuntime: params.efRuntime === 0 ? DEFAULT_HNSW.efRuntime : params.efRuntime,
  };
  violations.push(
    ...intRangeViolations(hnsw.m, HNSW_M_RANGE, fieldPath(path, "hnsw", "m")),
    ...intRangeViolations(hnsw.efConstruction, HNSW_EF_CONSTRUCTION_RANGE, fieldPath(path, "hnsw", "ef_construction")),
    ...intRangeViolations(hnsw.efRuntime, HNSW_EF_RUNTIME_RANGE, fieldPath(path, "hnsw", "ef_runtime")),
  );
  return { ...base, hnsw };
}

/** `value` when set and decoded, `fallback` when unset; undefined (violations recorded) when undecodable. */
function decodedOr<T>(value: Decoded<T> | undefined, fallback: T, violations: FieldViolation[]): T | undefined {
  if (isUndecodable(value)) {
    violations.push(...value.violations);
    return undefined;
  }
  return value ?? fallback;
}

/**
 * Category names and threshold. `dimension` undefined (vector field invalid) skips the count check.
 * Names are compared case-insensitively, as the (case-insensitive) interests tag field will.
 */
function normalizeInterestValues(
  input: InterestInput,
  dimension: number | undefined,
  tagField: string,
  path: string,
  violations: FieldViolation[],
): InterestSpec {
  const names = input.categoryNames;
  if (dimension !== undefined && names.length !== dimension) {
    violations.push({
      field: fieldPath(path, "category_names"),
      description: `must have one name per vector dimension: ${dimension} (got ${names.length})`,
    });
  }
  names.forEach((name, i) => {
    const field = fieldPath(path, "category_names", i);
    if (name.trim() === "") violations.push({ field, description: "must not be empty" });
    else if (name.includes(",")) violations.push({ field, description: "must not contain ','" });
    else if (name !== name.trim()) {
      violations.push({ field, description: "must not start or end with whitespace (tags are trimmed)" });
    }
  });
  violations.push(
    ...duplicateViolations(
      names,
      (i) => fieldPath(path, "category_names", i),
      (name) => (name.trim() === "" ? undefined : name.toLowerCase()),
    ),
  );
  // The proto's threshold is a float: an explicit 0.4 arrives as 0.4000000059604645. Treat it as the
  // default so that re-sending the default explicitly stays idempotent (specsEqual).
  const threshold =
    input.threshold === undefined || Math.fround(input.threshold) === Math.fround(DEFAULT_INTEREST_THRESHOLD)
      ? DEFAULT_INTEREST_THRESHOLD
      : input.threshold;
  if (!Number.isFinite(threshold)) {
    violations.push({ field: fieldPath(path, "threshold"), description: `must be finite (got ${String(threshold)})` });
  }
  return { categoryNames: [...names], threshold, tagField };
}
