import { describe, expect, it } from "vitest";
import { deriveInterests } from "../../../src/domain/interests.js";
import type { InterestSpec } from "../../../src/domain/schema.js";

const spec: InterestSpec = { categoryNames: ["books", "comics", "computers"], threshold: 0.4, tagField: "interests" };

describe("deriveInterests", () => {
  it("names the components strictly above the threshold, in category order", () => {
    expect(deriveInterests(new Float32Array([0.9, 0.7, 0.2]), spec)).toEqual(["books", "comics"]);
    expect(deriveInterests(new Float32Array([0.1, 0.2, 0.9]), spec)).toEqual(["computers"]);
    expect(deriveInterests(new Float32Array([0.5, 0.5, 0.5]), spec)).toEqual(["books", "comics", "computers"]);
  });

  it("does not count a component equal to the threshold (compared in float32)", () => {
    expect(deriveInterests(new Float32Array([0.4, 0.41, -1]), spec)).toEqual(["comics"]);
    expect(deriveInterests(new Float32Array([0.4, 0.4, 0.4]), { ...spec, threshold: Math.fround(0.4) })).toEqual([]);
  });

  it("returns nothing when no component is above the threshold", () => {
    expect(deriveInterests(new Float32Array([0, 0, 0]), spec)).toEqual([]);
  });

  it("honours another threshold", () => {
    expect(deriveInterests(new Float32Array([0.9, 0.7, 0.2]), { ...spec, threshold: 0.8 })).toEqual(["books"]);
    expect(deriveInterests(new Float32Array([-0.5, 0, 0.2]), { ...spec, threshold: -1 })).toEqual([
      "books",
      "comics",
      "computers",
    ]);
  });
});
