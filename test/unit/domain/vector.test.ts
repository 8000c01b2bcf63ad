import { describe, expect, it } from "vitest";
import {
  asRedisReports,
  decodeFloat32LE,
  distance,
  encodeFloat32LE,
  formatRedisDouble,
  negativeNaN,
  vectorViolations,
} from "../../../src/domain/vector.js";
import type { DistanceMetric } from "../../../src/domain/schema.js";

const f32 = (values: number[]): Float32Array => new Float32Array(values);

/** Equal as numbers within 1e-6 absolute or relative, NaN equal to NaN ("nan"/"-nan"). */
function expectRedisNumber(actual: number, recorded: string): void {
  if (recorded === "nan" || recorded === "-nan") {
    expect(actual).toBeNaN();
    return;
  }
  const expected = Number(recorded);
  const diff = Math.abs(actual - expected);
  expect(diff <= 1e-6 || diff <= 1e-6 * Math.abs(expected), `${actual} vs recorded ${recorded}`).toBe(true);
}

// Stored vectors, query vectors and replies recorded from Redis 8.0.2
// (../shared/conformance/redis-8.0.2/07-metrics.json, 01-seed-blog.json, 06-range.json, 09-aggregate.json).
const metricsQuery = [0.5, 1.5, -1.0];
const recorded: { metric: DistanceMetric; stored: number[]; query: number[]; reply: string }[] = [
  // 07-metrics: FLAT/HNSW FLOAT32 with the query (0.5, 1.5, -1)
  { metric: "L2", stored: [1, 2, 3], query: metricsQuery, reply: "16.5" },
  { metric: "L2", stored: [-1, 0.5, 2], query: metricsQuery, reply: "12.25" },
  { metric: "L2", stored: [0.3, -0.7, 0.1], query: metricsQuery, reply: "6.09000015259" },
  { metric: "L2", stored: [10, 20, 30], query: metricsQuery, reply: "1393.5" },
  { metric: "L2", stored: [0, 0, 0], query: metricsQuery, reply: "3.5" },
  { metric: "IP", stored: [1, 2, 3], query: metricsQuery, reply: "0.5" },
  { metric: "IP", stored: [-1, 0.5, 2], query: metricsQuery, reply: "2.75" },
  { metric: "IP", stored: [0.3, -0.7, 0.1], query: metricsQuery, reply: "2" },
  { metric: "IP", stored: [10, 20, 30], query: metricsQuery, reply: "-4" },
  { metric: "IP", stored: [0, 0, 0], query: metricsQuery, reply: "1" },
  { metric: "COSINE", stored: [1, 2, 3], query: metricsQuery, reply: "0.928571462631" },
  { metric: "COSINE", stored: [-1, 0.5, 2], query: metricsQuery, reply: "1.40824830532" },
  { metric: "COSINE", stored: [0.3, -0.7, 0.1], query: metricsQuery, reply: "1.69588899612" },
  { metric: "COSINE", stored: [10, 20, 30], query: metricsQuery, reply: "0.928571462631" },
  { metric: "COSINE", stored: [0, 0, 0], query: metricsQuery, reply: "-nan" },
  // 07-metrics: zero query vector
  { metric: "L2", stored: [0, 0, 0], query: [0, 0, 0], reply: "0" },
  { metric: "L2", stored: [0.3, -0.7, 0.1], query: [0, 0, 0], reply: "0.589999973774" },
  { metric: "L2", stored: [-1, 0.5, 2], query: [0, 0, 0], reply: "5.25" },
  { metric: "L2", stored: [1, 2, 3], query: [0, 0, 0], reply: "14" },
  { metric: "IP", stored: [1, 2, 3], query: [0, 0, 0], reply: "1" },
  { metric: "COSINE", stored: [1, 2, 3], query: [0, 0, 0], reply: "-nan" },
  // 07-metrics: unit query (0.8, 0.6, 0)
  { metric: "IP", stored: [1, 2, 3], query: [0.8, 0.6, 0], reply: "-1" },
  { metric: "IP", stored: [0.6, 0.8, 0], query: [0.8, 0.6, 0], reply: "0.039999961853" },
  { metric: "IP", stored: [0, 0.6, 0.8], query: [0.8, 0.6, 0], reply: "0.639999985695" },
  { metric: "IP", stored: [0.3, -0.7, 0.1], query: [0.8, 0.6, 0], reply: "1.18000006676" },
  { metric: "IP", stored: [-1, 0.5, 2], query: [0.8, 0.6, 0], reply: "1.5" },
  { metric: "COSINE", stored: [0.6, 0.8, 0], query: [0.8, 0.6, 0], reply: "0.039999961853" },
  { metric: "COSINE", stored: [1, 2, 3], query: [0.8, 0.6, 0], reply: "0.465477526188" },
  { metric: "COSINE", stored: [0, 0.6, 0.8], query: [0.8, 0.6, 0], reply: "0.639999985695" },
  { metric: "COSINE", stored: [-1, 0.5, 2], query: [0.8, 0.6, 0], reply: "1.21821784973" },
  { metric: "COSINE", stored: [0.3, -0.7, 0.1], query: [0.8, 0.6, 0], reply: "1.23434007168" },
  // 01-seed-blog: L2 users index, query (0.9, 0.7, 0.2) and (0.1, 0.2, 0.9)
  { metric: "L2", stored: [0.9, 0.7, 0.2], query: [0.9, 0.7, 0.2], reply: "0" },
  { metric: "L2", stored: [0.8, 0.6, 0.3], query: [0.9, 0.7, 0.2], reply: "0.0299999881536" },
  { metric: "L2", stored: [0.5, 0.5, 0.5], query: [0.9, 0.7, 0.2], reply: "0.289999961853" },
  { metric: "L2", stored: [0.3, 0.9, 0.1], query: [0.9, 0.7, 0.2], reply: "0.409999936819" },
  { metric: "L2", stored: [0.1, 0.2, 0.9], query: [0.9, 0.7, 0.2], reply: "1.37999987602" },
  { metric: "L2", stored: [0.8, 0.6, 0.3], query: [0.1, 0.2, 0.9], reply: "1.00999999046" },
  { metric: "L2", stored: [0.3, 0.9, 0.1], query: [0.1, 0.2, 0.9], reply: "1.16999983788" },
  // 09-aggregate: COSINE, identical vectors are not at distance 0 in float32
  { metric: "COSINE", stored: [0.9, 0.7, 0.2], query: [0.9, 0.7, 0.2], reply: "5.96046447754e-08" },
  { metric: "COSINE", stored: [0.8, 0.6, 0.3], query: [0.9, 0.7, 0.2], reply: "0.00707697868347" },
  { metric: "COSINE", stored: [0.5, 0.5, 0.5], query: [0.9, 0.7, 0.2], reply: "0.102241635323" },
  { metric: "COSINE", stored: [0.3, 0.9, 0.1], query: [0.9, 0.7, 0.2], reply: "0.166866242886" },
  // 04-knn-shapes: 2-d L2
  { metric: "L2", stored: [0.1, 0.1], query: [0, 0], reply: "0.0200000014156" },
  { metric: "L2", stored: [1.4, 0.2], query: [0, 0], reply: "1.99999988079" },
  { metric: "L2", stored: [2.1, 0], query: [0, 0], reply: "4.40999937057" },
];

describe("distance", () => {
  it.each(recorded)("reproduces Redis: $metric $stored vs $query = $reply", ({ metric, stored, query, reply }) => {
    expectRedisNumber(distance(metric, f32(stored), f32(query)), reply);
  });

  it("formats the zero-vector COSINE distance as Redis does (-nan)", () => {
    expect(formatRedisDouble(distance("COSINE", f32([0, 0, 0]), f32([0.5, 1.5, -1])))).toBe("-nan");
  });

  it("formats float32 distances to the exact recorded text", () => {
    expect(formatRedisDouble(distance("L2", f32([0.8, 0.6, 0.3]), f32([0.9, 0.7, 0.2])))).toBe("0.0299999881536");
    expect(formatRedisDouble(distance("L2", f32([0.3, -0.7, 0.1]), f32(metricsQuery)))).toBe("6.09000015259");
    expect(formatRedisDouble(distance("COSINE", f32([1, 2, 3]), f32(metricsQuery)))).toBe("0.928571462631");
    expect(formatRedisDouble(distance("COSINE", f32([0.9, 0.7, 0.2]), f32([0.9, 0.7, 0.2])))).toBe("5.96046447754e-08");
  });

  it("stays within float32 rounding of the float64 value in 128 dimensions", () => {
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648 - 0.5;
    };
    for (let trial = 0; trial < 20; trial++) {
      const a = Float32Array.from({ length: 128 }, next);
      const b = Float32Array.from({ length: 128 }, next);
      let dot = 0;
      let na = 0;
      let nb = 0;
      let l2 = 0;
      for (let i = 0; i < 128; i++) {
        const x = a[i] as number;
        const y = b[i] as number;
        dot += x * y;
        na += x * x;
        nb += y * y;
        l2 += (x - y) * (x - y);
      }
      expect(Math.abs(distance("L2", a, b) - l2)).toBeLessThan(1e-5 * l2);
      expect(Math.abs(distance("IP", a, b) - (1 - dot))).toBeLessThan(1e-5);
      expect(Math.abs(distance("COSINE", a, b) - (1 - dot / Math.sqrt(na * nb)))).toBeLessThan(1e-5);
    }
  });

  it("is symmetric", () => {
    const a = f32([0.3, -0.7, 0.1]);
    const b = f32([1, 2, 3]);
    for (const metric of ["L2", "IP", "COSINE"] as const) expect(distance(metric, a, b)).toBe(distance(metric, b, a));
  });
});

describe("formatRedisDouble", () => {
  it.each([
    [0, "0"],
    [12.25, "12.25"],
    [-4, "-4"],
    [1393.5, "1393.5"],
    [1e15, "1e+15"],
    [123456789012345, "1.23456789012e+14"],
    [100000000000, "100000000000"],
    [999999999999, "999999999999"],
    [1e-5, "1e-05"],
    [0.0001, "0.0001"],
    [0.00012345678901234, "0.000123456789012"],
    [2.5e-300, "2.5e-300"],
    [1e100, "1e+100"],
    [Math.fround(0.1), "0.10000000149"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
  ])("prints %s as %s", (x, text) => {
    expect(formatRedisDouble(x)).toBe(text);
  });

  it("rounds exact ties to even like glibc", () => {
    // 0.5 ulp ties at the 12th significant digit: 2^-1 scaled values that are exact in binary.
    expect(formatRedisDouble(1000000000000.5)).toBe("1e+12");
    expect(formatRedisDouble(1000000000002.5)).toBe("1e+12");
    expect(formatRedisDouble(100000000000.5)).toBe("100000000000");
    expect(formatRedisDouble(100000000001.5)).toBe("100000000002");
    expect(formatRedisDouble(100000000002.5)).toBe("100000000002");
  });

  it("prints NaN by its sign bit", () => {
    expect(formatRedisDouble(negativeNaN())).toBe("-nan");
    expect(formatRedisDouble(Number.NaN)).toBe("nan");
  });
});

describe("decodeFloat32LE / encodeFloat32LE", () => {
  it("round-trips bit-exact", () => {
    const v = f32([0.9, -0.7, 1e-30, 3.4e38, -0]);
    const back = decodeFloat32LE(encodeFloat32LE(v));
    expect(Array.from(new Uint32Array(back.buffer, back.byteOffset, back.length))).toEqual(
      Array.from(new Uint32Array(v.buffer)),
    );
  });

  it("decodes the little-endian bytes Redis stores", () => {
    // 01-seed-blog: user:1 vec (0.9, 0.7, 0.2) is base64 ZmZmPzMzMz/NzEw+
    const bytes = new Uint8Array(Buffer.from("ZmZmPzMzMz/NzEw+", "base64"));
    expect(Array.from(decodeFloat32LE(bytes))).toEqual(Array.from(f32([0.9, 0.7, 0.2])));
    expect(encodeFloat32LE(f32([0.9, 0.7, 0.2])).toString("base64")).toBe("ZmZmPzMzMz/NzEw+");
  });

  it("copies when the bytes are not 4-byte aligned", () => {
    const backing = new Uint8Array(13);
    backing.set(encodeFloat32LE(f32([1, 2, 3])), 1);
    const decoded = decodeFloat32LE(backing.subarray(1));
    expect(Array.from(decoded)).toEqual([1, 2, 3]);
  });

  it("rejects a length that is not a multiple of 4", () => {
    expect(() => decodeFloat32LE(new Uint8Array(7))).toThrow(RangeError);
  });

  it("decodes empty bytes to an empty vector", () => {
    expect(decodeFloat32LE(new Uint8Array(0)).length).toBe(0);
  });
});

describe("vectorViolations", () => {
  it("accepts a finite vector of the expected dimension", () => {
    expect(vectorViolations(f32([1, 2, 3]), 3, "vector")).toEqual([]);
    expect(vectorViolations(f32([1, 2]), undefined, "vector")).toEqual([]);
  });

  it("reports a dimension mismatch", () => {
    const v = vectorViolations(f32([1, 2]), 3, "items[3].vector");
    expect(v).toHaveLength(1);
    expect(v[0]?.field).toBe("items[3].vector");
    expect(v[0]?.description).toMatch(/2.*3/);
  });

  it("names the first non-finite component", () => {
    const v = vectorViolations(f32([1, Number.NaN, Infinity]), 3, "vector");
    expect(v).toHaveLength(1);
    expect(v[0]?.description).toContain("vector[1]");
    const inf = vectorViolations(f32([1, 2, -Infinity]), 3, "q");
    expect(inf[0]?.description).toContain("vector[2]");
  });

  it("reports both problems at once", () => {
    expect(vectorViolations(f32([Number.NaN]), 3, "vector")).toHaveLength(2);
  });
});

describe("asRedisReports", () => {
  it("rounds a distance to the 12 significant digits Redis prints, and keeps NaN", () => {
    expect(asRedisReports(0.3492085933685303)).toBe(0.349208593369);
    expect(asRedisReports(5.960464477539063e-8)).toBe(5.96046447754e-8);
    expect(asRedisReports(12.25)).toBe(12.25);
    expect(asRedisReports(-0.8226346969604492)).toBe(-0.82263469696);
    expect(asRedisReports(Number.NaN)).toBeNaN();
  });
});
