import { describe, expect, it } from "vitest";
import { FilterSyntaxError } from "../../../../src/domain/filter/errors.js";
import { parseFilterQuery } from "../../../../src/domain/filter/parser.js";
import { errorOf, num, redis, tag, text } from "./helpers.js";

describe("parseFilterQuery (user syntax)", () => {
  it("gives all for an empty or blank query and for *", () => {
    expect(parseFilterQuery("")).toEqual({ op: "all" });
    expect(parseFilterQuery("   ")).toEqual({ op: "all" });
    expect(parseFilterQuery("*")).toEqual({ op: "all" });
    expect(parseFilterQuery("(*)")).toEqual({ op: "all" });
  });

  it("parses a tag clause with any-of values", () => {
    expect(parseFilterQuery("@labels:{books}")).toEqual(tag("labels", "books"));
    expect(parseFilterQuery("@labels:{ books | comics|misc }")).toEqual(tag("labels", "books", "comics", "misc"));
  });

  it("keeps spaces inside a tag value, as Redis does for `new york`", () => {
    expect(parseFilterQuery("@codes:{new york}")).toEqual(tag("codes", "new york"));
    expect(parseFilterQuery("@codes:{new   york | la}")).toEqual(tag("codes", "new york", "la"));
  });

  it("unescapes backslash-escaped punctuation in tag values", () => {
    expect(parseFilterQuery("@codes:{sci\\-fi}")).toEqual(tag("codes", "sci-fi"));
    expect(parseFilterQuery("@codes:{x\\@y\\.com | us\\:east | a\\|b | a\\,b | new\\ york}")).toEqual(
      tag("codes", "x@y.com", "us:east", "a|b", "a,b", "new york"),
    );
  });

  it("reads numbers and unicode words as tag values", () => {
    expect(parseFilterQuery("@codes:{1.5}")).toEqual(tag("codes", "1.5"));
    expect(parseFilterQuery("@labels:{Café | 日本}")).toEqual(tag("labels", "Café", "日本"));
  });

  it("parses numeric ranges with exclusive and infinite bounds", () => {
    expect(parseFilterQuery("@n:[20 40]")).toEqual(num("n", 20, 40));
    expect(parseFilterQuery("@n:[(20 (40]")).toEqual(num("n", 20, 40, true, true));
    expect(parseFilterQuery("@n:[-inf (30]")).toEqual(num("n", -Infinity, 30, false, true));
    expect(parseFilterQuery("@n:[5 +inf]")).toEqual(num("n", 5, Infinity));
    expect(parseFilterQuery("@n:[5 inf]")).toEqual(num("n", 5, Infinity));
    expect(parseFilterQuery("@n:[-2.5 1e3]")).toEqual(num("n", -2.5, 1000));
    expect(parseFilterQuery("@n:[- 3 3]")).toEqual(num("n", -3, 3));
  });

  it("reads a single-value range as min = max", () => {
    expect(parseFilterQuery("@n:[7]")).toEqual(num("n", 7, 7));
  });

  it("leaves min > max to validation in the user dialect", () => {
    expect(parseFilterQuery("@n:[40 20]")).toEqual(num("n", 40, 20));
  });

  it("parses a text clause as an AND of words", () => {
    expect(parseFilterQuery("@descr:(quick brown)")).toEqual(text("descr", "quick", "brown"));
    expect(parseFilterQuery("@descr:quick")).toEqual(text("descr", "quick"));
    expect(parseFilterQuery("@descr:(Ünïcode 42)")).toEqual(text("descr", "Ünïcode", "42"));
  });

  it("binds AND tighter than OR", () => {
    expect(parseFilterQuery("@a:{x} | @b:{y} @c:{z}")).toEqual({
      op: "or",
      children: [tag("a", "x"), { op: "and", children: [tag("b", "y"), tag("c", "z")] }],
    });
    expect(parseFilterQuery("@a:{x} @b:{y} | @c:{z}")).toEqual({
      op: "or",
      children: [{ op: "and", children: [tag("a", "x"), tag("b", "y")] }, tag("c", "z")],
    });
  });

  it("applies a leading - to one clause only", () => {
    expect(parseFilterQuery("-@a:{x} @b:{y}")).toEqual({
      op: "and",
      children: [{ op: "not", child: tag("a", "x") }, tag("b", "y")],
    });
    expect(parseFilterQuery("--@a:{x}")).toEqual({ op: "not", child: { op: "not", child: tag("a", "x") } });
  });

  it("groups with parentheses at any depth and flattens same-operator chains", () => {
    expect(parseFilterQuery("(@labels:{books} | @labels:{comics}) -@n:[60 60]")).toEqual({
      op: "and",
      children: [
        { op: "or", children: [tag("labels", "books"), tag("labels", "comics")] },
        { op: "not", child: num("n", 60, 60) },
      ],
    });
    expect(parseFilterQuery("((((@a:{x}))))")).toEqual(tag("a", "x"));
    expect(parseFilterQuery("@a:{x} (@b:{y} @c:{z})")).toEqual({
      op: "and",
      children: [tag("a", "x"), tag("b", "y"), tag("c", "z")],
    });
  });

  it("rejects * anywhere but as the whole query", () => {
    expect(() => parseFilterQuery("* @a:{x}")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("@a:{x} *")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("@a:{x} | (*)")).toThrow(FilterSyntaxError);
  });

  it("rejects unescaped punctuation that Redis would silently skip", () => {
    const e = errorOf(() => parseFilterQuery("@codes:{tab.sep}"));
    expect(e).toBeInstanceOf(FilterSyntaxError);
    expect((e as FilterSyntaxError).offset).toBe(11);
    expect(e.message).toMatch(/^Syntax error at offset 11 near \./);
    expect(() => parseFilterQuery("@a:{x}, @b:{y}")).toThrow(FilterSyntaxError);
  });

  it("rejects a '-' glued to a number inside a tag value, which Redis would read as a second word", () => {
    expect(redis("@a:{web-2}")).toEqual(tag("a", "web -2"));
    const e = errorOf(() => parseFilterQuery("@a:{web-2}"));
    expect(e).toBeInstanceOf(FilterSyntaxError);
    expect((e as FilterSyntaxError).offset).toBe(7);
    expect(parseFilterQuery("@a:{web\\-2 | -5}")).toEqual(tag("a", "web-2", "-5"));
  });

  it("rejects Redis features outside the user subset, naming the position", () => {
    const cases: [string, number][] = [
      ["@codes:{$t}", 8],
      ["@n:[$lo 5]", 4],
      ["@descr:(quick|lazy)", 13],
      ["@descr:(quick -lazy)", 14],
      ["@descr:(qu*)", 8],
      ["quick", 0],
      ["@a:{x} quick", 7],
      ['@descr:"quick brown"', 7],
      ["~@a:{x}", 0],
      ["@descr:(%quick%)", 8],
      ["@a:{x*}", 4],
    ];
    for (const [query, offset] of cases) {
      const e = errorOf(() => parseFilterQuery(query));
      expect(e, query).toBeInstanceOf(FilterSyntaxError);
      expect((e as FilterSyntaxError).offset, query).toBe(offset);
      expect(e.message, query).toContain(`at offset ${offset}`);
    }
  });

  it("reports offsets in UTF-8 bytes like Redis", () => {
    const e = errorOf(() => parseFilterQuery("@labels:{café x-y}"));
    // "@labels:{café x" is 16 bytes (é takes two), so '-' sits at byte 16.
    expect((e as FilterSyntaxError).offset).toBe(16);
    expect(e.message).toMatch(/^Syntax error at offset 16 near x: /);
  });

  it("reports unbalanced and incomplete clauses", () => {
    expect(() => parseFilterQuery("()")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("@a:{}")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("@a:{x |}")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("@a:[1 2 3]")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("@a:[(1]")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("@a:[x 2]")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("@a {x}")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("@a:{x} |")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("-")).toThrow(FilterSyntaxError);
    expect(() => parseFilterQuery("@descr:()")).toThrow(FilterSyntaxError);
  });

  it("refuses absurd nesting with a syntax error instead of overflowing the stack", () => {
    const deep = "(".repeat(100_000) + "@a:{x}" + ")".repeat(100_000);
    const e = errorOf(() => parseFilterQuery(deep));
    expect(e).toBeInstanceOf(FilterSyntaxError);
    expect(e.message).toBe("Parser stack overflow. Try moving nested parentheses more to the left");
  });
});
