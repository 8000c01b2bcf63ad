/**
 * Test-side reference distances, computed in float64 from the given values and independent of
 * src/domain/vector.ts (which computes in float32 like Redis): COSINE `1 - cos`, IP `1 - dot`, L2
 * squared. A zero vector under COSINE gives NaN.
 */
import type { DistanceMetric } from "../../src/domain/schema.js";

export function referenceDistance(metric: DistanceMetric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
    l2 += (x - y) * (x - y);
  }
  if (metric === "L2") return l2;
  if (metric === "IP") return 1 - dot;
  return 1 - dot / (Math.sqrt(na) * Math.sqrt(nb));
}
