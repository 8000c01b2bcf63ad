/** Proto Vector <-> Float32Array. Only the encoding is checked here; dimension and finiteness are the use cases'. */
import type { FieldViolation } from "../domain/errors.js";
import { decodeFloat32LE, encodeFloat32LE } from "../domain/vector.js";
import type { Vector } from "../gen/vecrec/v1/vecrec.js";

/**
 * Decodes a proto Vector. Returns undefined and pushes a violation when the oneof is unset (`path`)
 * or the bytes are not a whole number of float32 values (`<path>.float32_le`).
 */
export function decodeVector(
  vector: Vector | undefined,
  path: string,
  violations: FieldViolation[],
): Float32Array | undefined {
  const encoding = vector?.encoding;
  if (encoding === undefined) {
    violations.push({ field: path, description: "a vector is required: set float32_le or float32_values" });
    return undefined;
  }
  if (encoding.$case === "float32Le") {
    const bytes = encoding.value;
    if (bytes.length % 4 !== 0) {
      violations.push({
        field: `${path}.float32_le`,
        description: `length ${bytes.length} is not a multiple of 4 (little-endian float32 values)`,
      });
      return undefined;
    }
    return decodeFloat32LE(bytes);
  }
  return Float32Array.from(encoding.value.values);
}

/** Decodes an optional proto Vector: an absent message or unset oneof gives undefined without a violation. */
export function decodeOptionalVector(
  vector: Vector | undefined,
  path: string,
  violations: FieldViolation[],
): Float32Array | undefined {
  if (vector?.encoding === undefined) return undefined;
  return decodeVector(vector, path, violations);
}

/** Encodes a vector as `float32_le` (the cheap encoding) for responses. */
export function encodeVector(vector: Float32Array): Vector {
  return { encoding: { $case: "float32Le", value: encodeFloat32LE(vector) } };
}
