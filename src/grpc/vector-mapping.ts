/** Proto Vector <-> Float32Array. Only the encoding is checked here; dimension and finiteness are the use cases'. */
import { decodeFloat32LE, encodeFloat32LE } from "../domain/vector.js";
import { Undecodable, fieldPath, type Decoded } from "../domain/violations.js";
import { throwIfViolations } from "../domain/errors.js";
import { VectorFormat, type Vector } from "../gen/vecrec/v1/vecrec.js";

/**
 * Decodes a Vector the request must carry (a search or interest vector): an unset encoding (`path`) or
 * bytes that are not a whole number of float32 values (`<path>.float32_le`) are Undecodable.
 */
export function decodeRequiredVector(vector: Vector | undefined, path: string): Decoded<Float32Array> {
  const decoded = decodeOptionalVector(vector, path);
  if (decoded !== undefined) return decoded;
  return new Undecodable({ field: path, description: "a vector is required: set float32_le or float32_values" });
}

/** Decodes a Vector that may be absent (an item's): an absent message or unset encoding gives undefined. */
export function decodeOptionalVector(vector: Vector | undefined, path: string): Decoded<Float32Array> | undefined {
  const encoding = vector?.encoding;
  if (encoding === undefined) return undefined;
  if (encoding.$case === "float32Values") return Float32Array.from(encoding.value.values);
  const bytes = encoding.value;
  if (bytes.length % 4 !== 0) {
    return new Undecodable({
      field: fieldPath(path, "float32_le"),
      description: `length ${bytes.length} is not a multiple of 4 (little-endian float32 values)`,
    });
  }
  return decodeFloat32LE(bytes);
}

/** How a response encodes its vectors: `float32_le` bytes (the cheap default) or a list of numbers. */
export type VectorOutput = "float32_le" | "float32_values";

/**
 * A request's `vector_format`: UNSPECIFIED (or unset) is `float32_le`.
 * @throws InvalidArgumentError (field `vector_format`) for a number the enum does not define
 */
export function decodeVectorFormat(value: VectorFormat | number | undefined): VectorOutput {
  const format = value ?? VectorFormat.VECTOR_FORMAT_UNSPECIFIED;
  if (format === (VectorFormat.VECTOR_FORMAT_FLOAT32_VALUES as number)) return "float32_values";
  if (format === (VectorFormat.VECTOR_FORMAT_UNSPECIFIED as number) || format === (VectorFormat.VECTOR_FORMAT_FLOAT32_LE as number)) {
    return "float32_le";
  }
  throwIfViolations([
    {
      field: "vector_format",
      description: `unknown vector format ${value}: send VECTOR_FORMAT_FLOAT32_LE or VECTOR_FORMAT_FLOAT32_VALUES (or leave it unset)`,
    },
  ]);
  return "float32_le";
}

/** Encodes a vector for responses: `float32_le` (the cheap encoding) unless the request asked for values. */
export function encodeVector(vector: Float32Array, format: VectorOutput = "float32_le"): Vector {
  if (format === "float32_values") return { encoding: { $case: "float32Values", value: { values: Array.from(vector) } } };
  return { encoding: { $case: "float32Le", value: encodeFloat32LE(vector) } };
}
