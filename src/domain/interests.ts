/** Interests: names for the components of a vector, derived from the vector itself. */
import type { InterestSpec } from "./schema.js";

/**
 * The category names whose vector component is strictly above the threshold, in category order.
 * The comparison is made in float32 (the threshold is a proto `float` and components are float32), so
 * a component of 0.4 is not above a threshold of 0.4. Components without a name are ignored.
 */
export function deriveInterests(vector: Float32Array, interests: InterestSpec): string[] {
  const names: string[] = [];
  const threshold = Math.fround(interests.threshold);
  const n = Math.min(vector.length, interests.categoryNames.length);
  for (let i = 0; i < n; i++) {
    if ((vector[i] as number) > threshold) names.push(interests.categoryNames[i] as string);
  }
  return names;
}
