import { describe, expect, it } from "vitest";
import { referencedFields } from "../../../../src/domain/filter/filter.js";
import { parseFilterQuery } from "../../../../src/domain/filter/parser.js";

describe("referencedFields", () => {
  it("lists each field once in order of appearance", () => {
    const node = parseFilterQuery("@b:{x} (@a:[1 2] | -@b:{y}) @c:(word)");
    expect(referencedFields(node)).toEqual(["b", "a", "c"]);
    expect(referencedFields({ op: "all" })).toEqual([]);
  });
});
