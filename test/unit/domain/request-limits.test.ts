import { describe, expect, it } from "vitest";
import {
  batchSizeViolations,
  duplicateViolations,
  fieldNameViolations,
  idListViolations,
  idViolations,
  indexNameViolations,
  interactionKindViolations,
  nonNegativeViolations,
  offsetViolations,
  rangeViolations,
  utf8ByteLength,
} from "../../../src/domain/request-limits.js";

describe("idViolations", () => {
  it("accepts 1..256 UTF-8 bytes", () => {
    expect(idViolations("a", "id")).toEqual([]);
    expect(idViolations("x".repeat(256), "id")).toEqual([]);
    expect(idViolations("é".repeat(128), "id")).toEqual([]); // 2 bytes each
    expect(idViolations("user:42 / ünïcødé 😀", "id")).toEqual([]);
  });

  it("rejects empty, too long, control characters and lone surrogates, naming the field", () => {
    expect(idViolations("", "items[2].id")).toEqual([{ field: "items[2].id", description: "must not be empty" }]);
    expect(idViolations("x".repeat(257), "id")).toHaveLength(1);
    expect(idViolations("é".repeat(129), "id")).toHaveLength(1); // 258 bytes, 129 code units
    for (const bad of ["a\nb", "\u0000", "tab\t", "del\u007f", "c1\u0085", "lone\ud800"]) {
      expect(idViolations(bad, "user_id").map((v) => v.field)).toEqual(["user_id"]);
    }
  });

  it("rejects leading or trailing whitespace, which Redis trims from the hidden id tag", () => {
    for (const bad of [" a", "a ", "\u00a0a", "a\u3000"]) {
      expect(idViolations(bad, "items[0].id")).toEqual([
        { field: "items[0].id", description: "must not start or end with whitespace" },
      ]);
    }
    expect(idViolations("a b", "id")).toEqual([]);
  });
});

describe("utf8ByteLength", () => {
  it("counts UTF-8 bytes", () => {
    expect(utf8ByteLength("abc")).toBe(3);
    expect(utf8ByteLength("é")).toBe(2);
    expect(utf8ByteLength("😀")).toBe(4);
  });
});

describe("name validators", () => {
  it("checks index names", () => {
    expect(indexNameViolations("my-index_1")).toEqual([]);
    expect(indexNameViolations("-x").map((v) => v.field)).toEqual(["index_name"]);
    expect(indexNameViolations("x".repeat(65), "name").map((v) => v.field)).toEqual(["name"]);
  });

  it("checks field names, with __ reserved", () => {
    expect(fieldNameViolations("vec_1", "f")).toEqual([]);
    expect(fieldNameViolations("__vecrec_id", "f")[0]?.description).toMatch(/reserved/);
    expect(fieldNameViolations("a-b", "f")).toHaveLength(1);
    expect(fieldNameViolations("1a", "f")).toHaveLength(1);
    expect(fieldNameViolations("a".repeat(65), "f")).toHaveLength(1);
  });
});

describe("rangeViolations", () => {
  it("accepts integers in range, inclusive", () => {
    expect(rangeViolations(1, 1, 10, "k")).toEqual([]);
    expect(rangeViolations(10, 1, 10, "k")).toEqual([]);
  });

  it("rejects out of range, fractions and NaN", () => {
    for (const value of [0, 11, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(rangeViolations(value, 1, 10, "k").map((v) => v.field)).toEqual(["k"]);
    }
  });
});

describe("batch and list validators", () => {
  it("bounds batch sizes to 1..10000", () => {
    expect(batchSizeViolations(0, "items").map((v) => v.field)).toEqual(["items"]);
    expect(batchSizeViolations(1, "items")).toEqual([]);
    expect(batchSizeViolations(10_000, "items")).toEqual([]);
    expect(batchSizeViolations(10_001, "items")).toHaveLength(1);
  });

  it("names each bad id of a list", () => {
    expect(idListViolations(["ok", "", "a\u0001"], "ids").map((v) => v.field)).toEqual(["ids[1]", "ids[2]"]);
    expect(idListViolations([], "ids").map((v) => v.field)).toEqual(["ids"]);
  });

  it("reports duplicates against their first occurrence", () => {
    expect(duplicateViolations(["a", "b", "a", "A"], (i) => `items[${i}].id`)).toEqual([
      { field: "items[2].id", description: "duplicate of items[0].id" },
    ]);
    expect(duplicateViolations(["a", "A", ""], (i) => `n[${i}]`, (v) => (v === "" ? undefined : v.toLowerCase()))).toEqual([
      { field: "n[1]", description: "duplicate of n[0]" },
    ]);
  });
});

describe("number and kind validators", () => {
  it("accepts finite numbers >= 0 and names the field of a negative or non-finite one", () => {
    for (const good of [0, 0.5, 3, 1e300]) expect(nonNegativeViolations(good, "w")).toEqual([]);
    expect(nonNegativeViolations(-1, "interactions[2].weight")).toEqual([
      { field: "interactions[2].weight", description: "must be >= 0 (got -1)" },
    ]);
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      expect(nonNegativeViolations(bad, "w").map((v) => v.field)).toEqual(["w"]);
    }
  });

  it("accepts integer offsets >= 0", () => {
    expect(offsetViolations(0, "offset")).toEqual([]);
    expect(offsetViolations(42, "offset")).toEqual([]);
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
      expect(offsetViolations(bad, "offset").map((v) => v.field)).toEqual(["offset"]);
    }
  });

  it("accepts the interaction kinds only", () => {
    for (const kind of ["view", "click", "like", "add_to_cart", "purchase"]) expect(interactionKindViolations(kind, "kind")).toEqual([]);
    expect(interactionKindViolations("VIEW", "interactions[0].kind").map((v) => v.field)).toEqual(["interactions[0].kind"]);
    expect(interactionKindViolations("", "kind")).toHaveLength(1);
  });
});
