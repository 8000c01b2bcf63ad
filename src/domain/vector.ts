/**
 * Float32 vectors: byte encoding, validation, and distances computed exactly the way the Redis Query
 * Engine (VecSim) computes them, so every backend reports the same numbers.
 */
import type { FieldViolation } from "./errors.js";
import type { DistanceMetric } from "./schema.js";

/** Whether this machine stores numbers little-endian (float32 bytes can then be viewed as a Float32Array). */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Decodes little-endian float32 bytes. Shares memory with `bytes` when it is 4-byte aligned (on a
 * little-endian host), copies otherwise.
 * @throws RangeError when the length is not a multiple of 4.
 */
export function decodeFloat32LE(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(`vector byte length ${bytes.byteLength} is not a multiple of 4`);
  }
  const length = bytes.byteLength / 4;
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0) {
    return new Float32Array(bytes.buffer, bytes.byteOffset, length);
  }
  const out = new Float32Array(length);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** Little-endian float32 bytes of `vector` (a zero-copy view on little-endian hosts). */
export function encodeFloat32LE(vector: Float32Array): Buffer {
  if (LITTLE_ENDIAN_HOST) return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
  const out = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) out.writeFloatLE(vector[i] ?? 0, i * 4);
  return out;
}

/**
 * What is wrong with `vector`: a dimension other than `expectedDimension` (when given), and the first
 * NaN or infinite component. `field` is the path used in the violations (e.g. `items[3].vector`).
 */
export function vectorViolations(
  vector: Float32Array,
  expectedDimension: number | undefined,
  field: string,
  metric?: DistanceMetric,
): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (expectedDimension !== undefined && vector.length !== expectedDimension) {
    violations.push({
      field,
      description: `vector has ${vector.length} dimensions, the index expects ${expectedDimension}`,
    });
  }
  // One pass: the sum of squares (in float64, as float32Norm) is finite exactly when every component is
  // (squares of finite float32 values cannot overflow float64); only then is the culprit looked for.
  let sum = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i] as number;
    sum += x * x;
  }
  if (!Number.isFinite(sum)) {
    for (let i = 0; i < vector.length; i++) {
      const x = vector[i] as number;
      if (!Number.isFinite(x)) {
        violations.push({ field, description: `vector[${i}] is ${String(x)}; values must be finite numbers` });
        return violations;
      }
    }
  }
  if (metric === "COSINE") {
    const why = normUnfitness(Math.fround(Math.sqrt(sum)));
    if (why !== undefined) violations.push({ field, description: why });
  }
  return violations;
}

/** The smallest normal float32 (FLT_MIN, 2^-126): a norm below it is subnormal (or zero). */
export const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * Why `vector` (finite components) cannot be compared under COSINE, or undefined when it can. COSINE
 * divides by the vector's float32 norm (float32Norm, as VecSim does): a zero vector has no direction
 * (0/0: every distance would be NaN, so Redis and the embedded engine could never return it under a
 * filter, and a KNN around it is meaningless); a norm that overflows float32 (components near 3.4e38)
 * normalises to a zero vector; a subnormal norm (below 2^-126, about 1.2e-38) keeps only a few bits,
 * so the normalised vector is visibly off unit length.
 */
export function cosineUnfitness(vector: Float32Array): string | undefined {
  return normUnfitness(float32Norm(vector));
}

/** cosineUnfitness of a vector whose float32Norm is `norm`. */
function normUnfitness(norm: number): string | undefined {
  if (norm === 0) return "is a zero vector, which has no direction: COSINE distances to it are undefined (NaN); send a vector with a non-zero component";
  if (!Number.isFinite(norm)) {
    return "has a norm too large for float32 (over 3.4e38), so it cannot be normalised for COSINE; scale it down";
  }
  if (norm < FLOAT32_MIN_NORMAL) {
    return `has a norm of ${norm}, below float32's smallest normal number (2^-126), so it cannot be normalised exactly for COSINE; scale it up`;
  }
  return undefined;
}

/** Euclidean norm as VecSim computes it before normalising: sum in float64, rounded to float32. */
export function float32Norm(v: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    sum += x * x;
  }
  return Math.fround(Math.sqrt(sum));
}

/**
 * `v / norm` rounded to float32, componentwise, like VecSim's normalisation of stored and query vectors
 * for COSINE. A zero vector gives NaN components (0/0), which is what makes Redis answer `-nan`.
 */
export function normalizeFloat32(v: Float32Array): Float32Array {
  const norm = float32Norm(v);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / norm;
  return out;
}

/**
 * The dot product of `a[aOffset .. aOffset+dim)` and `b[0 .. dim)` accumulated in float32 (every product
 * and sum rounded), in four interleaved partial sums the way VecSim's SIMD kernels split the work; for
 * fewer than 4 components it is the plain sequential sum.
 */
export function float32DotAt(a: Float32Array, aOffset: number, b: Float32Array, dim: number): number {
  // A product or sum of two float32 values rounded once by fround is the exact float32 result
  // (float64 has more than twice the precision, so there is no double-rounding error).
  const f = Math.fround;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    const o = aOffset + j;
    s0 = f(s0 + f((a[o] as number) * (b[j] as number)));
    s1 = f(s1 + f((a[o + 1] as number) * (b[j + 1] as number)));
    s2 = f(s2 + f((a[o + 2] as number) * (b[j + 2] as number)));
    s3 = f(s3 + f((a[o + 3] as number) * (b[j + 3] as number)));
  }
  for (; j < dim; j++) s0 = f(s0 + f((a[aOffset + j] as number) * (b[j] as number)));
  return f(f(s0 + s1) + f(s2 + s3));
}

/** The squared Euclidean distance of `a[aOffset .. aOffset+dim)` and `b[0 .. dim)`, in float32 like float32DotAt. */
export function float32SquaredL2At(a: Float32Array, aOffset: number, b: Float32Array, dim: number): number {
  const f = Math.fround;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    const o = aOffset + j;
    const d0 = f((a[o] as number) - (b[j] as number));
    const d1 = f((a[o + 1] as number) - (b[j + 1] as number));
    const d2 = f((a[o + 2] as number) - (b[j + 2] as number));
    const d3 = f((a[o + 3] as number) - (b[j + 3] as number));
    s0 = f(s0 + f(d0 * d0));
    s1 = f(s1 + f(d1 * d1));
    s2 = f(s2 + f(d2 * d2));
    s3 = f(s3 + f(d3 * d3));
  }
  for (; j < dim; j++) {
    const d = f((a[aOffset + j] as number) - (b[j] as number));
    s0 = f(s0 + f(d * d));
  }
  return f(f(s0 + s1) + f(s2 + s3));
}

/** The dot product of two vectors of equal length, in float32 (see float32DotAt). */
export function float32Dot(a: Float32Array, b: Float32Array): number {
  return float32DotAt(a, 0, b, Math.min(a.length, b.length));
}

/** The squared Euclidean distance of two vectors of equal length, in float32. */
export function float32SquaredL2(a: Float32Array, b: Float32Array): number {
  return float32SquaredL2At(a, 0, b, Math.min(a.length, b.length));
}

/**
 * The distance Redis reports between `a` and `b` (same length): COSINE `1 - cos` over the float32
 * normalised vectors (identical vectors give ~5.96e-8; a zero vector gives NaN), IP `1 - dot` (may be
 * negative), L2 the squared Euclidean distance. Computed in float32; lower is closer.
 */
export function distance(metric: DistanceMetric, a: Float32Array, b: Float32Array): number {
  switch (metric) {
    case "L2":
      return float32SquaredL2(a, b);
    case "IP":
      return Math.fround(1 - float32Dot(a, b));
    case "COSINE": {
      // 0/0 in VecSim's normalisation yields x86's default NaN, whose sign bit is set: Redis prints "-nan".
      if (float32Norm(a) === 0 || float32Norm(b) === 0) return negativeNaN();
      return Math.fround(1 - float32Dot(normalizeFloat32(a), normalizeFloat32(b)));
    }
  }
}

function negativeBitIsSet(x: number): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return (view.getUint8(0) & 0x80) !== 0;
}

/** Whether `|x| * 10^places` lies exactly halfway between two integers (checked in exact arithmetic). */
function isExactTie(x: number, places: number): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biasedExp = Number((bits >> 52n) & 0x7ffn);
  let sig = bits & ((1n << 52n) - 1n);
  let exp2: number;
  if (biasedExp === 0) {
    exp2 = -1074;
  } else {
    sig |= 1n << 52n;
    exp2 = biasedExp - 1075;
  }
  let num = sig * (exp2 > 0 ? 1n << BigInt(exp2) : 1n) * (places > 0 ? 10n ** BigInt(places) : 1n);
  const den = (exp2 < 0 ? 1n << BigInt(-exp2) : 1n) * (places < 0 ? 10n ** BigInt(-places) : 1n);
  num *= 2n;
  return num % (2n * den) === den;
}

/**
 * A distance as a Redis client reads it: Redis prints it with `%.12g`, so clients see that rounding
 * (0.3492085933685303 arrives as 0.349208593369). NaN is returned as is.
 */
export function asRedisReports(distance: number): number {
  return Number.isNaN(distance) ? distance : Number(formatRedisDouble(distance));
}

/**
 * Formats `x` like C's `printf("%.12g")` on glibc, which is how Redis prints distances:
 * `"0.0299999881536"`, `"5.96046447754e-08"`, `"12.25"`, `"inf"`, `"-inf"`, and `"nan"` or `"-nan"`
 * according to the NaN's sign bit (a zero vector under COSINE yields `-nan` in Redis; use
 * `negativeNaN` to produce one).
 */
export function formatRedisDouble(x: number): string {
  if (Number.isNaN(x)) return negativeBitIsSet(x) ? "-nan" : "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const precision = 12;
  let exp = Number(x.toExponential(precision - 1).split("e")[1]);
  let digits = Math.abs(x).toExponential(precision - 1).split("e")[0]!.replace(".", "");
  // JS rounds exact ties away from zero; glibc rounds them to even.
  const places = precision - 1 - exp;
  if (isExactTie(x, places)) {
    const scaled = BigInt(digits) - 1n; // JS rounded up; the lower neighbour is floor(y)
    if (scaled % 2n === 0n) {
      digits = scaled.toString();
      if (digits.length < precision) {
        // 10^11 - 1: the exponent drops by one (cannot happen for a floor that is even; kept for safety)
        exp -= 1;
        digits = digits.padEnd(precision, "9");
      }
    }
  }
  const sign = x < 0 ? "-" : "";
  if (exp < -4 || exp >= precision) {
    let mantissa = digits[0]! + "." + digits.slice(1);
    mantissa = mantissa.replace(/0+$/, "").replace(/\.$/, "");
    const absExp = Math.abs(exp);
    return `${sign}${mantissa}e${exp < 0 ? "-" : "+"}${absExp < 10 ? "0" : ""}${absExp}`;
  }
  let text: string;
  if (exp >= 0) {
    text = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  } else {
    text = "0." + "0".repeat(-exp - 1) + digits;
  }
  if (text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
  return sign + text;
}

/** A NaN whose sign bit is set (what x86 produces for 0/0, printed by Redis as `-nan`). */
export function negativeNaN(): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, 0xfff8000000000000n);
  return view.getFloat64(0);
}
