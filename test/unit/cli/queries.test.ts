/** The CLI's --vector parsing (src/cli/queries.ts): what a user types, read as written or refused. */
import { describe, expect, it } from "vitest";
import { parseVector } from "../../../src/cli/queries.js";

describe("parseVector", () => {
  it("reads a JSON list, numbers separated by commas or spaces, and one number as a vector of one", () => {
    expect(parseVector("[0.1, -2, 3e-2]")).toEqual([0.1, -2, 0.03]);
    expect(parseVector("0.1,-2,3e-2")).toEqual([0.1, -2, 0.03]);
    expect(parseVector(" 0.1 , -2 , .5 ")).toEqual([0.1, -2, 0.5]);
    expect(parseVector("0.1 -2 3E+2")).toEqual([0.1, -2, 300]);
    expect(parseVector("0.5")).toEqual([0.5]);
    expect(parseVector("-2")).toEqual([-2]);
  });

  it("refuses empty elements, non-decimal tokens, non-finite values and nesting instead of reading something else", () => {
    for (const text of ["1,,2,3", "0x10,1,1", "1,2,", "1 2 x", "NaN", "[1, NaN]", "Infinity", "1e400", "[[1, 2]]", "[]", "", "1;2"]) {
      expect(() => parseVector(text), text).toThrow(/--vector must be a list of numbers/);
    }
  });
});
