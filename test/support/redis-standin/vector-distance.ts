/**
 * Vector decoding and distances as the Query Engine computes them, through vecrec's own model of
 * VecSim 2.10 for every data type (elementDistance in src/domain/element-type.ts: FLOAT32 in float32
 * arithmetic, FLOAT64 in double precision over normalised vectors, FLOAT16/BFLOAT16 as recorded).
 * The server never checks a blob's type: bytes of another type of the right size are read as the
 * index's type.
 */
import type { DistanceMetric } from "../../../src/domain/schema.js";
import { decodeElements, elementDistance } from "../../../src/domain/element-type.js";
import type { VectorDataType } from "./search-index.js";

/** A vector blob (a hash field or a PARAMS value) as the elements of its data type. */
export function decodeBlob(bytes: Buffer, dataType: VectorDataType): Float32Array | Float64Array {
  if (dataType === "FLOAT16" || dataType === "BFLOAT16") return decodeElements(dataType, bytes);
  const copy = new Uint8Array(bytes);
  return dataType === "FLOAT64" ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
}

/** The distance between two vectors of the same data type (as decoded by decodeBlob). */
export function vectorDistance(
  metric: DistanceMetric,
  dataType: VectorDataType,
  stored: Float32Array | Float64Array,
  query: Float32Array | Float64Array,
): number {
  return elementDistance(dataType, metric, stored, query);
}
