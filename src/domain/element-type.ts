/**
 * Vector element types (FLOAT32, FLOAT64, FLOAT16, BFLOAT16): rounding float32 values to the type the
 * way a Redis client must (Redis keeps the bytes it is sent and never converts them), the bytes of each
 * type, and the distances the Redis Query Engine (RediSearch 2.10 / VecSim) computes over each.
 *
 * Vectors travel as float32 everywhere in vecrec; a FLOAT16/BFLOAT16 vector is a Float32Array whose
 * values are representable in the type (each widens to float32 exactly), so one representation serves
 * every type. FLOAT64 holds float32 values widened (exact).
 *
 * Rounding, derived from the IEEE formats:
 * - FLOAT16 (IEEE binary16: 1 sign, 5 exponent bits, bias 15, 10 fraction bits): round to nearest,
 *   ties to even, from the float32 value; subnormals kept (down to 2^-24), values at or beyond 65520
 *   become Infinity (65504 is the largest finite value).
 * - BFLOAT16 (the top 16 bits of a float32: 8 exponent bits, 7 fraction bits): round to nearest, ties
 *   to even, on the float32 bits; the range is float32's.
 *
 * Distances (shared/docs/redis-query-engine.md, "Compact element types"; reproduces every distance
 * recorded on Redis 7.4.1 + RediSearch 2.10.32 in 11-element-types.json):
 * - FLOAT16/BFLOAT16 L2 and IP: each element widened to float32; differences, products and one running
 *   sum rounded to float32 in index order (no FMA). IP is `1 - dot` in float32.
 * - FLOAT16/BFLOAT16 COSINE: both vectors normalised first (sum of squares in double, its square root
 *   rounded to float32, each element divided in float32 and rounded back to the element type), then
 *   `1 - dot` as for IP.
 * - FLOAT64: double precision (COSINE over vectors normalised in double).
 * - FLOAT32: src/domain/vector.ts (VecSim's four-lane float32 sums).
 */
import type { FieldViolation } from "./errors.js";
import type { DistanceMetric, VectorElementType, VectorFieldSpec } from "./schema.js";
import { decodeFloat32LE, distance as float32Distance, encodeFloat32LE, negativeNaN, vectorViolations } from "./vector.js";

/** Every element type, FLOAT32 (the default) first. */
export const ELEMENT_TYPES: readonly VectorElementType[] = ["FLOAT32", "FLOAT64", "FLOAT16", "BFLOAT16"];

/** Bytes one element takes in Redis (and on the embedded engine, see embedded/typed-rows.ts). */
export function elementBytes(type: VectorElementType): number {
  switch (type) {
    case "FLOAT64":
      return 8;
    case "FLOAT32":
      return 4;
    case "FLOAT16":
    case "BFLOAT16":
      return 2;
  }
}

/** The largest finite FLOAT16 value; anything that rounds beyond it becomes Infinity. */
export const FLOAT16_MAX = 65504;

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The IEEE binary16 bits nearest to float32 value `x` (ties to even; overflow to Infinity). */
export function float16Bits(x: number): number {
  scratch[0] = x;
  const b = scratchBits[0] as number;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // A binary16 subnormal (or zero): m x 2^-24 with m = M x 2^(e - 14), M the 24-bit significand.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = full & ((1 << shift) - 1);
    let m = full >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the fraction moves into the exponent (up to 0x7c00, Infinity): that is the rounding.
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

let float16Table: Float32Array | undefined;

/** The value of binary16 bits `h`. */
export function float16Value(h: number): number {
  float16Table ??= buildFloat16Table();
  return float16Table[h & 0xffff] as number;
}

function buildFloat16Table(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    let v: number;
    if (e === 0) v = m * 2 ** -24;
    else if (e === 0x1f) v = m === 0 ? Infinity : NaN;
    else v = (1 + m / 1024) * 2 ** (e - 15);
    table[h] = sign * v;
  }
  return table;
}

/** The bfloat16 bits nearest to float32 value `x` (ties to even on the float32 bits). */
export function bfloat16Bits(x: number): number {
  scratch[0] = x;
  const b = scratchBits[0] as number;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  const rounded = (b + 0x7fff + ((b >>> 16) & 1)) >>> 0;
  return rounded >>> 16;
}

/** The value of bfloat16 bits `h`. */
export function bfloat16Value(h: number): number {
  scratchBits[0] = (h & 0xffff) << 16;
  return scratch[0] as number;
}

/** `x` (a float32 value) rounded to `type` and widened back (exact) to a number. */
export function roundToElement(type: VectorElementType, x: number): number {
  switch (type) {
    case "FLOAT16":
      return float16Value(float16Bits(x));
    case "BFLOAT16":
      return bfloat16Value(bfloat16Bits(x));
    case "FLOAT32":
    case "FLOAT64":
      return Math.fround(x);
  }
}

/** `vector` as stored in an index of `type`: the same array for FLOAT32/FLOAT64, else a rounded copy. */
export function roundVector(type: VectorElementType, vector: Float32Array): Float32Array {
  if (type === "FLOAT32" || type === "FLOAT64") return vector;
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = roundToElement(type, vector[i] as number);
  return out;
}

/** Little-endian bytes of `vector` in `type` (FLOAT16/BFLOAT16 rounded to nearest even). */
export function encodeElements(type: VectorElementType, vector: Float32Array): Buffer {
  switch (type) {
    case "FLOAT32":
      return encodeFloat32LE(vector);
    case "FLOAT64": {
      const out = Buffer.alloc(vector.length * 8);
      for (let i = 0; i < vector.length; i++) out.writeDoubleLE(vector[i] as number, i * 8);
      return out;
    }
    case "FLOAT16":
    case "BFLOAT16": {
      const bitsOf = type === "FLOAT16" ? float16Bits : bfloat16Bits;
      const out = Buffer.alloc(vector.length * 2);
      for (let i = 0; i < vector.length; i++) out.writeUInt16LE(bitsOf(vector[i] as number), i * 2);
      return out;
    }
  }
}

/**
 * The values of little-endian `bytes` of `type`, as float32 (FLOAT64 values rounded to float32: vecrec
 * only writes float32 values there).
 * @throws RangeError when the length is not a multiple of the element size.
 */
export function decodeElements(type: VectorElementType, bytes: Uint8Array): Float32Array {
  if (type === "FLOAT32") return decodeFloat32LE(bytes);
  const size = elementBytes(type);
  if (bytes.byteLength % size !== 0) throw new RangeError(`vector byte length ${bytes.byteLength} is not a multiple of ${size}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / size);
  for (let i = 0; i < out.length; i++) {
    if (type === "FLOAT64") out[i] = view.getFloat64(i * 8, true);
    else {
      const h = view.getUint16(i * 2, true);
      out[i] = type === "FLOAT16" ? float16Value(h) : bfloat16Value(h);
    }
  }
  return out;
}

/**
 * The first component of `vector` that `type` cannot hold as a finite number (FLOAT16: |x| rounds
 * beyond 65504), or undefined.
 */
export function firstOverflow(type: VectorElementType, vector: Float32Array): number | undefined {
  if (type !== "FLOAT16" && type !== "BFLOAT16") return undefined;
  for (let i = 0; i < vector.length; i++) if (!Number.isFinite(roundToElement(type, vector[i] as number))) return i;
  return undefined;
}

/**
 * vectorViolations (dimension, finiteness) against the index's vector field (when known), plus a value
 * the field's element type cannot hold (FLOAT16 beyond 65504), and under COSINE a vector that is zero
 * once rounded to a FLOAT64/FLOAT16/BFLOAT16 type (its distance is NaN, and on RediSearch 2.10.32 a
 * stored one made FLAT KNN over those types miss true neighbours). `path` names the request field.
 */
export function typedVectorViolations(vector: Float32Array, field: VectorFieldSpec | undefined, path: string): FieldViolation[] {
  const violations = vectorViolations(vector, field?.dimension, path, field?.metric);
  if (violations.length > 0 || field === undefined) return violations;
  const at = firstOverflow(field.elementType, vector);
  if (at !== undefined) {
    violations.push({
      field: path,
      description: `vector[${at}] is ${vector[at]}, beyond the largest ${field.elementType} value (${FLOAT16_MAX}) of the index's vector field`,
    });
  } else if (field.metric === "COSINE" && field.elementType !== "FLOAT32" && roundVector(field.elementType, vector).every((x) => x === 0)) {
    violations.push({
      field: path,
      description: `a zero vector (once rounded to ${field.elementType}) has no direction: COSINE distances to it are undefined`,
    });
  }
  return violations;
}

/**
 * FLOAT16/BFLOAT16: `v` normalised as VecSim does before COSINE (sum of squares in double, square root
 * rounded to float32, each element divided in float32 and rounded back to the type). Zero vectors give
 * NaN components.
 */
export function normalizeInElementType(type: VectorElementType, v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += (v[i] as number) * (v[i] as number);
  const norm = Math.fround(Math.sqrt(sum));
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = roundToElement(type, Math.fround((v[i] as number) / norm));
  return out;
}

/** Sequential float32 `sum((a_i - b_i)^2)` over `a[aOffset ..]` and `b`. */
export function sequentialSquaredL2At(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, dim: number): number {
  const f = Math.fround;
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const d = f((a[aOffset + j] as number) - (b[j] as number));
    s = f(s + f(d * d));
  }
  return s;
}

/** Sequential float32 `1 - sum(a_i * b_i)` over `a[aOffset ..]` and `b`. */
export function sequentialOneMinusDotAt(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, dim: number): number {
  const f = Math.fround;
  let s = 0;
  for (let j = 0; j < dim; j++) s = f(s + f((a[aOffset + j] as number) * (b[j] as number)));
  return f(1 - s);
}

function float64Distance(metric: DistanceMetric, a: ArrayLike<number>, b: ArrayLike<number>): number {
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
  if (na === 0 || nb === 0) return negativeNaN();
  const ra = Math.sqrt(na);
  const rb = Math.sqrt(nb);
  let cos = 0;
  for (let i = 0; i < a.length; i++) cos += ((a[i] as number) / ra) * ((b[i] as number) / rb);
  return 1 - cos;
}

const asFloat32 = (v: Float32Array | Float64Array): Float32Array => (v instanceof Float32Array ? v : Float32Array.from(v));

/**
 * The distance Redis reports between stored vector `a` and query `b` in an index of `type` (both
 * already rounded to the type, as roundVector gives them). Lower is closer; NaN for a zero vector under
 * COSINE.
 */
export function elementDistance(
  type: VectorElementType,
  metric: DistanceMetric,
  a: Float32Array | Float64Array,
  b: Float32Array | Float64Array,
): number {
  switch (type) {
    case "FLOAT32":
      return float32Distance(metric, asFloat32(a), asFloat32(b));
    case "FLOAT64":
      return float64Distance(metric, a, b);
    case "FLOAT16":
    case "BFLOAT16": {
      const dim = Math.min(a.length, b.length);
      if (metric === "L2") return sequentialSquaredL2At(a, 0, b, dim);
      if (metric === "IP") return sequentialOneMinusDotAt(a, 0, b, dim);
      const na = normalizeInElementType(type, asFloat32(a));
      const nb = normalizeInElementType(type, asFloat32(b));
      if (Number.isNaN(na[0]) || Number.isNaN(nb[0])) return negativeNaN();
      return sequentialOneMinusDotAt(na, 0, nb, dim);
    }
  }
}
