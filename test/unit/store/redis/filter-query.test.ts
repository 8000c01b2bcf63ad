import { describe, expect, it } from "vitest";
import type { FilterNode } from "../../../../src/domain/filter/filter.js";
import { toRedisQuery, formatNumericBound } from "../../../../src/store/redis/filter-query.js";
import { range, tagFilter, textFilter } from "../../../support/filter-builders.js";

function compiled(node: FilterNode, excludeIds?: string[]): { query: string; params: Record<string, string>; none: boolean } {
  const c = toRedisQuery(node, { excludeIds });
  return { query: c.query, params: Object.fromEntries(c.params), none: c.matchesNothing };
}

describe("toRedisQuery", () => {
  it("compiles match-all to * without parameters", () => {
    expect(compiled({ op: "all" })).toEqual({ query: "*", params: {}, none: false });
  });

  it("passes tag values as parameters joined by |", () => {
    expect(compiled(tagFilter("labels", "books", "sci-fi"))).toEqual({
      query: "@labels:{$p0 | $p1}",
      params: { p0: "books", p1: "sci-fi" },
      none: false,
    });
  });

  it("leaves stop words out of text parameters, as Redis's parser does for words written in the query", () => {
    expect(compiled(textFilter("descr", "the", "quick", "Of", "fox"))).toEqual({
      query: "@descr:($p0 $p1)",
      params: { p0: "quick", p1: "fox" },
      none: false,
    });
  });

  it("never puts user text in the query, whatever it contains", () => {
    const evil = 'x} | @other:{y} ) -* "$p0" \\ @vec:[VECTOR_RANGE 1 $B]';
    const c = compiled({ op: "or", children: [tagFilter("labels", evil), textFilter("descr", evil)] });
    expect(c.query).toBe("(@labels:{$p0} | @descr:($p1))");
    expect(Object.values(c.params)).toEqual([evil, evil]);
  });

  it("compiles numeric bounds with exclusivity and infinities", () => {
    expect(compiled(range("n", 20, 40))).toMatchObject({ query: "@n:[$p0 $p1]", params: { p0: "20", p1: "40" } });
    expect(compiled(range("n", 20, 40, true, true))).toMatchObject({ query: "@n:[($p0 ($p1]" });
    expect(compiled(range("n", -Infinity, 1.5, true, false))).toMatchObject({
      query: "@n:[$p0 $p1]",
      params: { p0: "-inf", p1: "1.5" },
    });
    expect(compiled(range("n", 0, Infinity, false, true))).toMatchObject({ query: "@n:[$p0 $p1]", params: { p1: "+inf" } });
  });

  it("compiles text words as parameters inside one field clause", () => {
    expect(compiled(textFilter("descr", "quick", "brown"))).toMatchObject({
      query: "@descr:($p0 $p1)",
      params: { p0: "quick", p1: "brown" },
    });
  });

  it("nests and, or and not with parentheses", () => {
    const node: FilterNode = {
      op: "and",
      children: [
        { op: "or", children: [tagFilter("a", "x"), range("n", 1, 2)] },
        { op: "not", child: { op: "and", children: [tagFilter("b", "y"), textFilter("t", "z")] } },
      ],
    };
    expect(compiled(node).query).toBe("((@a:{$p0} | @n:[$p1 $p2]) -(@b:{$p3} @t:($p4)))");
  });

  it("appends excluded ids as a negated clause on the hidden id field", () => {
    expect(compiled({ op: "all" }, ["a,b", "c d"])).toEqual({
      query: "-@__vecrec_id:{$p0 | $p1}",
      params: { p0: "a,b", p1: "c d" },
      none: false,
    });
    expect(compiled(tagFilter("labels", "x"), ["id1"]).query).toBe("(@labels:{$p0} -@__vecrec_id:{$p1})");
  });

  it("simplifies match-all and match-nothing", () => {
    expect(compiled({ op: "and", children: [{ op: "all" }, tagFilter("a", "x")] }).query).toBe("@a:{$p0}");
    expect(compiled({ op: "or", children: [{ op: "all" }, tagFilter("a", "x")] })).toEqual({ query: "*", params: {}, none: false });
    expect(compiled({ op: "not", child: { op: "all" } }).none).toBe(true);
    expect(compiled({ op: "and", children: [tagFilter("a", "x"), { op: "not", child: { op: "all" } }] }).none).toBe(true);
    expect(compiled({ op: "or", children: [tagFilter("a", "x"), { op: "not", child: { op: "all" } }] }).query).toBe("@a:{$p0}");
    expect(compiled({ op: "not", child: { op: "not", child: tagFilter("a", "x") } }).query).toBe("@a:{$p0}");
    expect(compiled(tagFilter("a")).none).toBe(true);
  });

  it("refuses a field name that is not an identifier", () => {
    expect(() => toRedisQuery(tagFilter("a} | *", "x"))).toThrow(RangeError);
    expect(() => toRedisQuery(textFilter("t(", "x"))).toThrow(RangeError);
  });

  it("formats bounds the way the query syntax reads them", () => {
    expect(formatNumericBound(1e21)).toBe("1e+21");
    expect(formatNumericBound(-0.5)).toBe("-0.5");
    expect(() => formatNumericBound(NaN)).toThrow(RangeError);
  });
});
