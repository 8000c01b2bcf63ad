import { describe, expect, it } from "vitest";
import { FilterSyntaxError } from "../../../../src/domain/filter/errors.js";
import { parseFilterQuery } from "../../../../src/domain/filter/parser.js";
import { errorOf, redis } from "./helpers.js";

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

  it.each(recorded)("%s -> %s (user dialect, then a hint)", (query, message) => {
    const e = errorOf(() => parseFilterQuery(query));
    expect(e).toBeInstanceOf(FilterSyntaxError);
    expect(e.message.startsWith(`${message}: `), e.message).toBe(true);
    expect((e as FilterSyntaxError).offset).toBe(Number(/offset (\d+)/.exec(message)?.[1]));
  });

  it.each(recorded)("%s -> %s (Redis dialect, exactly)", (query, message) => {
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
