/** Proto Vector <-> Float32Array. Only the encoding is checked here; dimension and finiteness are the use cases'. */
import { decodeFloat32LE, encodeFloat32LE } from "../domain/vector.js";
import { Undecodable, fieldPath, type Decoded } from "../domain/violations.js";
import type { Vector } from "../gen/vecrec/v1/vecrec.js";

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

/** Encodes a vector as `float32_le` (the cheap encoding) for responses. */
export function encodeVector(vector: Float32Array): Vector {
  return { encoding: { $case: "float32Le", value: encodeFloat32LE(vector) } };
}
