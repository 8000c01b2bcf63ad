/**
 * Vector decoding and distances as the Query Engine computes them: FLOAT32 through vecrec's own
 * `distance()` (float32 arithmetic, Redis-exact), FLOAT64 in double precision, FLOAT16/BFLOAT16 by
 * vecrec's model of VecSim 2.10 (src/domain/element-type.ts, which reproduces every recorded distance).
 * The server never checks a blob's type: bytes of another type of the right size are read as the
 * index's type.
 */
import type { DistanceMetric } from "../../../src/domain/schema.js";
import { decodeElements, elementDistance } from "../../../src/domain/element-type.js";
import { distance } from "../../../src/domain/vector.js";
import type { VectorDataType } from "./search-index.js";

/** A vector blob (a hash field or a PARAMS value) as the elements of its data type. */
export function decodeBlob(bytes: Buffer, dataType: VectorDataType): Float32Array | Float64Array {
  if (dataType === "FLOAT16" || dataType === "BFLOAT16") return decodeElements(dataType, bytes);
  const copy = new Uint8Array(bytes);
  return dataType === "FLOAT64" ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
}

/** Distances over FLOAT64 vectors, computed in double precision like VecSim does for FLOAT64. */
function distance64(metric: DistanceMetric, a: Float64Array, b: Float64Array): number {
  let dot = 0;
  let l2 = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    l2 += (x - y) * (x - y);
    na += x * x;
    nb += y * y;
  }
  if (metric === "L2") return l2;
  if (metric === "IP") return 1 - dot;
  return 1 - dot / (Math.sqrt(na) * Math.sqrt(nb));
}

/** The distance between two vectors of the same data type (as decoded by decodeBlob). */
export function vectorDistance(
  metric: DistanceMetric,
  dataType: VectorDataType,
  stored: Float32Array | Float64Array,
  query: Float32Array | Float64Array,
): number {
  if (dataType === "FLOAT16" || dataType === "BFLOAT16") return elementDistance(dataType, metric, stored, query);
  return dataType === "FLOAT64"
    ? distance64(metric, stored as Float64Array, query as Float64Array)
    : distance(metric, stored as Float32Array, query as Float32Array);
}
