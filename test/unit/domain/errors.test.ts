import { describe, expect, it } from "vitest";
import { mergeViolations } from "../../../src/domain/errors.js";

describe("mergeViolations", () => {
  it("keeps the first list whole and drops later violations on the same path or a parent of one", () => {
    const decoding = [
      { field: "vector.float32_le", description: "length 11" },
      { field: "filter_query", description: "syntax" },
    ];
    const own = [
      { field: "vector", description: "dimension 0, expected 3" },
      { field: "filter_query", description: "unknown field" },
      { field: "k", description: "must be in 1..10000" },
      { field: "vector_x", description: "another field sharing a prefix" },
    ];
    expect(mergeViolations(decoding, own).map((v) => v.field)).toEqual([
      "vector.float32_le",
      "filter_query",
      "k",
      "vector_x",
    ]);
  });

  it("does not treat a list as the parent of its elements", () => {
    const merged = mergeViolations([{ field: "items[0].vector.float32_le", description: "" }], [
      { field: "items", description: "too many" },
      { field: "items[0].vector", description: "required" },
    ]);
    expect(merged.map((v) => v.field)).toEqual(["items[0].vector.float32_le", "items"]);
  });
});
