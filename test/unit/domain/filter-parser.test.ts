import { describe, expect, it } from "vitest";
import {
  ANY_TEXT_FIELD,
  FilterFieldError,
  FilterSyntaxError,
  FilterValueError,
  MissingParameterError,
  parseFilterQuery,
  parseFilterQueryForSchema,
  referencedFields,
  UnsupportedFilterSyntaxError,
  type SchemaFieldType,
} from "../../../src/domain/filter-parser.js";
import type { FilterNode } from "../../../src/domain/filter.js";

const redis = (query: string, params: Record<string, string> = {}): FilterNode =>
  parseFilterQuery(query, { params: new Map(Object.entries(params)) });

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

const tag = (field: string, ...values: string[]): FilterNode => ({ op: "tag", field, values });
const num = (field: string, min: number, max: number, minExclusive = false, maxExclusive = false): FilterNode => ({
  op: "numeric",
  field,
  min,
  max,
  minExclusive,
  maxExclusive,
});
const text = (field: string, ...terms: string[]): FilterNode => ({ op: "text", field, terms });

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

  it("leaves min > max to validation in user mode", () => {
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

describe("parseFilterQuery syntax errors recorded from Redis 8.0.2", () => {
  // [query, exact error reply] from conformance 05-filters (steps 104-131) and 10-syntax-errors (15-18).
  const recorded: [string, string][] = [
    ["@codes:{sci-fi}", "Syntax error at offset 11 near sci"],
    ["(@codes:{sci-fi})", "Syntax error at offset 12 near sci"],
    ["@codes:{us:east}", "Syntax error at offset 10 near us"],
    ["(@codes:{us:east})", "Syntax error at offset 11 near us"],
    ["@codes:{x@y.com}", "Syntax error at offset 9 near y"],
    ["(@codes:{x@y.com})", "Syntax error at offset 10 near y"],
    ["@codes:{{curly}}", "Syntax error at offset 8 near codes"],
    ["(@codes:{{curly}})", "Syntax error at offset 9 near codes"],
    ["@labels:{books", "Syntax error at offset 9 near books"],
    ["(@labels:{books)", "Syntax error at offset 15 near books"],
    ["@t:{a", "Syntax error at offset 4 near a"],
    ["@n:[1", "Syntax error at offset 4 near 1"],
    ["(@t:{a}", "Syntax error at offset 6 near a"],
    ["@t:{a})", "Syntax error at offset 6 near a"],
  ];

  it.each(recorded)("%s -> %s (user mode, then a hint)", (query, message) => {
    const e = errorOf(() => parseFilterQuery(query));
    expect(e).toBeInstanceOf(FilterSyntaxError);
    expect(e.message.startsWith(`${message}: `), e.message).toBe(true);
    expect((e as FilterSyntaxError).offset).toBe(Number(/offset (\d+)/.exec(message)?.[1]));
  });

  it.each(recorded)("%s -> %s (Redis mode, exactly)", (query, message) => {
    expect(errorOf(() => redis(query)).message).toBe(message);
  });

  it("explains the error to users after Redis's text", () => {
    expect(errorOf(() => parseFilterQuery("@codes:{sci-fi}")).message).toBe(
      "Syntax error at offset 11 near sci: unexpected \"-\"; inside {...} write values separated by '|', " +
        "escaping punctuation with a backslash (sci\\-fi, us\\:east)",
    );
    expect(errorOf(() => parseFilterQuery("@labels:{books")).message).toBe(
      "Syntax error at offset 9 near books: the filter ends too early; inside {...} write values separated by '|', " +
        "escaping punctuation with a backslash (sci\\-fi, us\\:east)",
    );
    expect(errorOf(() => parseFilterQuery("@t:{a})")).message).toBe(
      "Syntax error at offset 6 near a: unexpected \")\"; this ')' closes nothing",
    );
    expect(errorOf(() => parseFilterQuery("(@t:{a}")).message).toBe(
      "Syntax error at offset 6 near a: the filter ends too early; missing ')'",
    );
    expect(errorOf(() => parseFilterQuery("@n:[1 x]")).message).toMatch(/; a numeric range is \[min max\]/);
    expect(errorOf(() => parseFilterQuery("@a:{x} *")).message).toMatch(/'\*' can only be the whole filter$/);
    expect(errorOf(() => parseFilterQuery("@a {x}")).message).toMatch(/write ':' right after the field name/);
    expect(errorOf(() => parseFilterQuery("@d:(a b")).message).toMatch(/a text clause is @field:\(word word \.\.\.\)/);
    expect(errorOf(() => parseFilterQuery("@year:>2000")).message).toBe(
      "Syntax error at offset 6 near >: unexpected character '>'; after '@year:' write {tag | tag}, [min max] or (words)",
    );
    expect(errorOf(() => parseFilterQuery("@a:{x} AND @b:{y}")).message).toBe(
      "Syntax error at offset 7 near AND: write AND as a space, OR as '|' and NOT as a leading '-'",
    );
    expect(errorOf(() => parseFilterQuery("@a:{Rock & Roll}")).message).toMatch(
      /^Syntax error at offset 9 near &: unexpected character '&'; inside \{\.\.\.\} write values/,
    );
  });
});

describe("parseFilterQuery with params (Redis mode)", () => {
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
    // User mode keeps what was written, for filterViolations to judge.
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

describe("parseFilterQueryForSchema", () => {
  const fieldTypes = new Map<string, SchemaFieldType>([
    ["labels", "tag"],
    ["codes", "tag"],
    ["descr", "text"],
    ["n", "numeric"],
    ["vec", "vector"],
  ]);
  const parse = (query: string, params: Record<string, string> = {}): FilterNode =>
    parseFilterQueryForSchema(query, { params: new Map(Object.entries(params)), fieldTypes });

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

  it("works in user mode too (no params)", () => {
    expect(() => parseFilterQueryForSchema("@nosuch:{x}", { fieldTypes })).toThrow(FilterFieldError);
    expect(parseFilterQueryForSchema("@labels:{x}", { fieldTypes })).toEqual(tag("labels", "x"));
  });
});

describe("referencedFields", () => {
  it("lists each field once in order of appearance", () => {
    const node = parseFilterQuery("@b:{x} (@a:[1 2] | -@b:{y}) @c:(word)");
    expect(referencedFields(node)).toEqual(["b", "a", "c"]);
    expect(referencedFields({ op: "all" })).toEqual([]);
  });
});

describe("parseFilterQuery robustness", () => {
  // A deterministic pseudo-random generator, so a failure can be replayed.
  function* random(seed: number): Generator<number> {
    let x = seed;
    for (;;) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      yield x / 2 ** 31;
    }
  }
  const pieces = [
    "@a:", "@n:", "@t:", "{", "}", "[", "]", "(", ")", "|", "-", " ", "x", "y z", "12", "-3.5", "inf", "-inf", "(",
    "*", "$p", "\\", "\\-", ".", ",", "'", '"', "%", "~", "=>", ":", ";", "é", "日本", "qu*", "as",
  ];

  it("either parses or throws one of its own errors, whatever the input", () => {
    const rng = random(42);
    const next = (): number => rng.next().value as number;
    for (let n = 0; n < 3000; n++) {
      let query = "";
      const length = Math.floor(next() * 12);
      for (let i = 0; i < length; i++) query += pieces[Math.floor(next() * pieces.length)];
      for (const params of [undefined, new Map([["p", "5"]])]) {
        try {
          const node = parseFilterQuery(query, params ? { params } : undefined);
          expect(node.op, query).toMatch(/^(all|tag|numeric|text|and|or|not)$/);
        } catch (e) {
          const known = e instanceof FilterSyntaxError || e instanceof FilterValueError || e instanceof MissingParameterError;
          expect(known, `${query}: ${String(e)}`).toBe(true);
          if (e instanceof FilterSyntaxError) {
            expect(e.offset, query).toBeGreaterThanOrEqual(0);
            expect(e.offset, query).toBeLessThanOrEqual(Buffer.byteLength(query));
          }
        }
      }
    }
  });
});
