/**
 * The stand-in's Redis dialect of vecrec's filter grammar: PARAMS, strtod, stop words, the schema
 * check and Redis's error texts, on the shared parser (src/domain/filter/parser.ts).
 */
import { describe, expect, it } from "vitest";
import { ANY_TEXT_FIELD, type FilterNode } from "../../../src/domain/filter/filter.js";
import { FilterSyntaxError } from "../../../src/domain/filter/errors.js";
import { USER_DIALECT } from "../../../src/domain/filter/dialect.js";
import { parseFilterQuery } from "../../../src/domain/filter/parser.js";
import { errorOf, num, redis, tag, text } from "../../unit/domain/filter/helpers.js";
import {
  FilterFieldError,
  FilterValueError,
  MissingParameterError,
  redisFieldCheck,
  redisFilterDialect,
  type SchemaFieldType,
  UnsupportedFilterSyntaxError,
} from "./redis-filter-dialect.js";

describe("parseFilterQuery with params (Redis dialect)", () => {
  it("substitutes tag values verbatim, punctuation and all", () => {
    expect(redis("@codes:{$t}", { t: "a-b:c" })).toEqual(tag("codes", "a-b:c"));
    expect(redis("@codes:{$t1 | $t2}", { t1: "sci-fi", t2: "x@y.com" })).toEqual(tag("codes", "sci-fi", "x@y.com"));
  });

  it("substitutes numeric bounds, with ( in the query making them exclusive", () => {
    expect(redis("@n:[$lo $hi]", { lo: "20", hi: "40" })).toEqual(num("n", 20, 40));
    expect(redis("@n:[($lo ($hi]", { lo: "20", hi: "40" })).toEqual(num("n", 20, 40, true, true));
    expect(redis("@n:[$lo $hi]", { lo: "-inf", hi: "+inf" })).toEqual(num("n", -Infinity, Infinity));
    expect(redis("@n:[$lo inf]", { lo: "1.5e1" })).toEqual(num("n", 15, Infinity));
  });

  it("skips a ( inside a parameter value without making the bound exclusive (recorded step 56)", () => {
    expect(redis("@n:[$lo $hi]", { lo: "(20", hi: "40" })).toEqual(num("n", 20, 40));
  });

  it("throws Redis's texts for bad numeric parameters", () => {
    expect(errorOf(() => redis("@n:[$lo $hi]", { lo: "abc", hi: "40" }))).toEqual(
      new FilterValueError("Bad lower range: abc"),
    );
    expect(errorOf(() => redis("@n:[$lo $hi]", { lo: "1", hi: "4x" })).message).toBe("Bad upper range: 4x");
    // parseDoubleRange accepts -inf only as a lower bound and +inf only as an upper one.
    expect(errorOf(() => redis("@n:[$lo $hi]", { lo: "+inf", hi: "4" })).message).toBe("Bad lower range: +inf");
    expect(errorOf(() => redis("@n:[$lo $hi]", { lo: "1", hi: "-inf" })).message).toBe("Bad upper range: -inf");
    expect(errorOf(() => redis("@n:[$lo $hi]", { lo: "(x", hi: "4" })).message).toBe("Bad lower range: x");
    expect(redis("@n:[$lo $hi]", { lo: "(-inf", hi: "(INF" })).toEqual(num("n", -Infinity, Infinity));
    expect(errorOf(() => redis("@n:[$x]", { x: "four" })).message).toBe(
      "Invalid numeric value (four) for parameter `x`",
    );
  });

  it("throws Redis's text for min > max (recorded step 66)", () => {
    const e = errorOf(() => redis("@n:[40 20]"));
    expect(e).toBeInstanceOf(FilterValueError);
    expect(e.message).toBe("Invalid numeric range (min > max): @n:[40.000000 20.000000]");
    expect(errorOf(() => redis("@n:[$a $b]", { a: "5", b: "-5" })).message).toBe(
      "Invalid numeric range (min > max): @n:[5.000000 -5.000000]",
    );
    expect(errorOf(() => redis("@n:[+inf -inf]")).message).toBe("Invalid numeric range (min > max): @n:[inf -inf]");
  });

  it("throws MissingParameterError with Redis's text (recorded step 142)", () => {
    const e = errorOf(() => redis("@codes:{$t}", { u: "x" }));
    expect(e).toBeInstanceOf(MissingParameterError);
    expect(e.message).toBe("No such parameter `t`");
    expect((e as MissingParameterError).parameter).toBe("t");
  });

  it("reports a syntax error before a missing parameter, like Redis resolving params after parsing", () => {
    expect(errorOf(() => redis("@codes:{$t} @x:{a"))).toBeInstanceOf(FilterSyntaxError);
  });

  it("parses text operators, prefixes, parameters and bare words", () => {
    expect(redis("@descr:(quick|lazy)")).toEqual({ op: "or", children: [text("descr", "quick"), text("descr", "lazy")] });
    expect(redis("@descr:(-quick)")).toEqual({ op: "not", child: text("descr", "quick") });
    expect(redis("@descr:(qu*)")).toEqual(text("descr", "qu*"));
    expect(redis("@descr:($w)", { w: "coffee" })).toEqual(text("descr", "coffee"));
    expect(redis("@descr:(quick brown -fox)")).toEqual({
      op: "and",
      children: [text("descr", "quick", "brown"), { op: "not", child: text("descr", "fox") }],
    });
    expect(redis("quick")).toEqual(text(ANY_TEXT_FIELD, "quick"));
    expect(redis("-quick @a:{x}")).toEqual({
      op: "and",
      children: [{ op: "not", child: text(ANY_TEXT_FIELD, "quick") }, tag("a", "x")],
    });
  });

  it("drops literal stop words from text clauses, and a clause left empty from and/or/not, like Redis", () => {
    expect(redis("@descr:(quick the)")).toEqual(text("descr", "quick"));
    expect(redis("@descr:(the) @a:{x}")).toEqual(tag("a", "x"));
    expect(redis("-@descr:(the) @a:{x}")).toEqual(tag("a", "x"));
    expect(redis("the | @a:{x} @b:{y}")).toEqual({ op: "and", children: [tag("a", "x"), tag("b", "y")] });
    // A parameter's stop word is not dropped: Redis checks only literal words while parsing.
    expect(redis("@descr:($w quick)", { w: "the" })).toEqual(text("descr", "the", "quick"));
    // The user dialect keeps what was written, for filterViolations to judge.
    expect(parseFilterQuery("@descr:(quick the)")).toEqual(text("descr", "quick", "the"));
  });

  it("drops literal stop words after the second word of a multi-word tag value, like Redis's termlist rule", () => {
    expect(redis("@a:{the new york is it}")).toEqual(tag("a", "the new york"));
    expect(redis("@a:{a b $c}", { c: "the" })).toEqual(tag("a", "a b the"));
    expect(parseFilterQuery("@a:{the new york is it}")).toEqual(tag("a", "the new york is it"));
  });

  it("returns the stop-word clause when nothing else is left, so callers can tell (Redis: no match, or * under KNN)", () => {
    expect(redis("@descr:(the)")).toEqual(text("descr", "the"));
    expect(redis("-(@descr:(the) | a)")).toEqual(text("descr", "the"));
  });

  it("skips punctuation the way Redis's lexer does", () => {
    expect(redis("@codes:{tab.sep}")).toEqual(tag("codes", "tab sep"));
    expect(redis("@a:{x}, @b:{y}")).toEqual({ op: "and", children: [tag("a", "x"), tag("b", "y")] });
  });

  it("rejects valid Redis syntax that vecrec does not implement with UnsupportedFilterSyntaxError", () => {
    for (const query of ['@descr:"quick brown"', "@descr:(%quik%)", "~quick", "@a:{x*}", "@v:[VECTOR_RANGE 2 $B]", "@a|b:(x)"]) {
      expect(errorOf(() => redis(query, { B: "x" })), query).toBeInstanceOf(UnsupportedFilterSyntaxError);
    }
  });
});

describe("parseFilterQuery with the field check (redisFieldCheck)", () => {
  const fieldTypes = new Map<string, SchemaFieldType>([
    ["labels", "tag"],
    ["codes", "tag"],
    ["descr", "text"],
    ["n", "numeric"],
    ["vec", "vector"],
  ]);
  const parse = (query: string, params: Record<string, string> = {}): FilterNode =>
    parseFilterQuery(query, redisFilterDialect({ params: new Map(Object.entries(params)), fieldTypes }));

  // From conformance 05-filters, steps 132-141.
  const recorded: [string, string][] = [
    ["@nosuch:{x}", "Unknown field at offset 0 near nosuch"],
    ["(@nosuch:{x})", "Unknown field at offset 1 near nosuch"],
    ["@nosuch:(word)", "Unknown field at offset 0 near nosuch"],
    ["(@nosuch:(word))", "Unknown field at offset 1 near nosuch"],
    ["@nosuch:[1 2]", "Unknown field at offset 0 near nosuch"],
    ["(@nosuch:[1 2])", "Unknown field at offset 1 near nosuch"],
    ["@n:{x}", "Expected a TAG field at offset 0 near n"],
    ["(@n:{x})", "Expected a TAG field at offset 1 near n"],
    ["@labels:[1 2]", "Expected a NUMERIC field at offset 0 near labels"],
    ["(@labels:[1 2])", "Expected a NUMERIC field at offset 1 near labels"],
  ];

  it.each(recorded)("%s -> %s", (query, message) => {
    const e = errorOf(() => parse(query));
    expect(e).toBeInstanceOf(FilterFieldError);
    expect(e.message).toBe(message);
    expect((e as FilterFieldError).offset).toBe(Number(/offset (\d+)/.exec(message)?.[1]));
  });

  it("names the field in the error", () => {
    expect((errorOf(() => parse("@labels:{a} -@nope:{b}")) as FilterFieldError).field).toBe("nope");
  });

  it("reports the first bad clause in query order", () => {
    expect(errorOf(() => parse("@n:{x} @nosuch:[1 2]")).message).toBe("Expected a TAG field at offset 0 near n");
    expect(errorOf(() => parse("@labels:{x} | @vec:{y}")).message).toBe("Expected a TAG field at offset 14 near vec");
  });

  it("reports an unknown field before a missing parameter", () => {
    expect(errorOf(() => parse("@nosuch:{$t}"))).toBeInstanceOf(FilterFieldError);
  });

  it("accepts a valid query and returns the same tree as parseFilterQuery", () => {
    const q = "@labels:{books} @n:[1 2] @descr:(fox)";
    expect(parse(q)).toEqual(redis(q));
  });

  it("works in the user dialect too (no params)", () => {
    const userWithCheck = { ...USER_DIALECT, checkField: redisFieldCheck(fieldTypes) };
    expect(() => parseFilterQuery("@nosuch:{x}", userWithCheck)).toThrow(FilterFieldError);
    expect(parseFilterQuery("@labels:{x}", userWithCheck)).toEqual(tag("labels", "x"));
  });
});
