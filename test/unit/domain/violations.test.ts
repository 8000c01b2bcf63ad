import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../src/domain/errors.js";
import { Undecodable, ViolationCollector, fieldPath, isUndecodable } from "../../../src/domain/violations.js";

describe("fieldPath", () => {
  it("joins field names with dots and puts list indexes in brackets", () => {
    expect(fieldPath("items", 2, "vector", "float32_le")).toBe("items[2].vector.float32_le");
    expect(fieldPath("", "k")).toBe("k");
    expect(fieldPath("filter.any_of", "filters", 1)).toBe("filter.any_of.filters[1]");
  });
});

describe("ViolationCollector", () => {
  it("scopes paths and shares one list between its scopes", () => {
    const root = new ViolationCollector();
    const item = root.at("items", 3);
    item.at("id").add("must not be empty");
    item.at("fields", "labels").add("tag 0 is empty");
    root.at("k").add("too large");
    expect(root.violations.map((v) => v.field)).toEqual(["items[3].id", "items[3].fields.labels", "k"]);
    expect(item.count).toBe(3);
  });

  it("unwraps decoded values and records why the others could not be decoded, once", () => {
    const root = new ViolationCollector();
    expect(root.decoded(5)).toBe(5);
    const bad = new Undecodable({ field: "vector.float32_le", description: "length 11 is not a multiple of 4" });
    expect(isUndecodable(bad)).toBe(true);
    expect(root.decoded(bad)).toBeUndefined();
    expect(root.violations).toEqual([{ field: "vector.float32_le", description: "length 11 is not a multiple of 4" }]);
  });

  it("throws one InvalidArgumentError with every violation, and nothing when there is none", () => {
    const root = new ViolationCollector();
    root.throwIfAny();
    expect(root.addAll([])).toBe(false);
    expect(root.addAll([{ field: "a", description: "x" }, { field: "b", description: "y" }])).toBe(true);
    expect(() => root.throwIfAny()).toThrow(InvalidArgumentError);
    try {
      root.throwIfAny();
    } catch (error) {
      expect((error as InvalidArgumentError).violations.map((v) => v.field)).toEqual(["a", "b"]);
    }
  });
});
