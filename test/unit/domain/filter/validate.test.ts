import { describe, expect, it } from "vitest";
import { ANY_TEXT_FIELD, type FilterNode } from "../../../../src/domain/filter/filter.js";
import { parseFilterQuery } from "../../../../src/domain/filter/parser.js";
import { filterViolations, MAX_FILTER_DEPTH, MAX_TAG_VALUES } from "../../../../src/domain/filter/validate.js";
import { redisFilterDialect } from "../../../support/redis-standin/redis-filter-dialect.js";
import type { IndexSpec } from "../../../../src/domain/schema.js";
import { range as numericRange } from "../../../support/filter-builders.js";

const spec: IndexSpec = {
  name: "shop",
  fields: [
    { name: "labels", type: "tag", separator: ",", caseSensitive: false },
    { name: "codes", type: "tag", separator: ";", caseSensitive: true },
    { name: "descr", type: "text", weight: 1 },
    { name: "price", type: "numeric" },
    { name: "stock", type: "numeric" },
    { name: "vec", type: "vector", dimension: 3, algorithm: "FLAT", metric: "COSINE", elementType: "FLOAT32" },
  ],
};

const check = (node: FilterNode): string[] => filterViolations(node, spec, "filter_query").map((v) => v.description);

describe("filterViolations", () => {
  it("accepts a valid filter", () => {
    const node = parseFilterQuery("@labels:{books | comics} -@price:[(0 10] (@descr:(quick fox) | @codes:{A})");
    expect(filterViolations(node, spec, "filter_query")).toEqual([]);
    expect(filterViolations({ op: "all" }, spec, "filter")).toEqual([]);
  });

  it("puts every violation on the given request field", () => {
    const violations = filterViolations(parseFilterQuery("@nope:{x} @price:[5 1]"), spec, "neighbor_filter_query");
    expect(violations).toHaveLength(2);
    for (const v of violations) expect(v.field).toBe("neighbor_filter_query");
  });

  it("names an unknown field and lists the index's fields of the needed type", () => {
    expect(check({ op: "tag", field: "colour", values: ["red"] })).toEqual([
      'unknown field "colour" (TAG fields of index "shop": labels, codes)',
    ]);
    expect(check({ op: "numeric", field: "cost", min: 1, max: 2, minExclusive: false, maxExclusive: false })).toEqual([
      'unknown field "cost" (NUMERIC fields of index "shop": price, stock)',
    ]);
    expect(check({ op: "text", field: "title", terms: ["fox"] })).toEqual([
      'unknown field "title" (TEXT fields of index "shop": descr)',
    ]);
  });

  it("says when the index has no field of the needed type", () => {
    const noText: IndexSpec = { name: "bare", fields: [{ name: "price", type: "numeric" }] };
    expect(filterViolations({ op: "text", field: "descr", terms: ["x"] }, noText, "filter")).toEqual([
      { field: "filter", description: 'unknown field "descr" (index "bare" has no TEXT fields)' },
    ]);
  });

  it("reports a field of the wrong type, vector fields included", () => {
    expect(check(parseFilterQuery("@price:{cheap}"))).toEqual([
      'field "price" is a NUMERIC field, not TAG (TAG fields of index "shop": labels, codes)',
    ]);
    expect(check(parseFilterQuery("@labels:[1 2]"))).toEqual([
      'field "labels" is a TAG field, not NUMERIC (NUMERIC fields of index "shop": price, stock)',
    ]);
    expect(check(parseFilterQuery("@vec:(word)"))).toEqual([
      'field "vec" is a VECTOR field, not TEXT (TEXT fields of index "shop": descr)',
    ]);
  });

  it("reports empty and blank tag values and a clause without values", () => {
    expect(check({ op: "tag", field: "labels", values: ["ok", "", "   "] })).toEqual([
      'tag value 2 of "labels" is empty',
      'tag value 3 of "labels" is empty',
    ]);
    expect(check({ op: "tag", field: "labels", values: [] })).toEqual(['tag clause on "labels" lists no values']);
  });

  it("reports a tag value containing the field's own separator", () => {
    expect(check({ op: "tag", field: "labels", values: ["a,b"] })).toEqual([
      'tag value "a,b" of "labels" contains the field\'s separator ","; stored tags are split on it, so it can never match',
    ]);
    // ";" is the separator of codes, so "a,b" is fine there.
    expect(check({ op: "tag", field: "codes", values: ["a,b"] })).toEqual([]);
    expect(check({ op: "tag", field: "codes", values: ["a;b"] })).toHaveLength(1);
  });

  it(`allows ${MAX_TAG_VALUES} tag values and rejects more`, () => {
    const values = Array.from({ length: MAX_TAG_VALUES }, (_, i) => `v${i}`);
    expect(check({ op: "tag", field: "labels", values })).toEqual([]);
    expect(check({ op: "tag", field: "labels", values: [...values, "extra"] })).toEqual([
      `tag clause on "labels" lists ${MAX_TAG_VALUES + 1} values; at most ${MAX_TAG_VALUES} are allowed`,
    ]);
  });

  it("reports NaN bounds and empty ranges", () => {
    const range = (min: number, max: number, minExclusive = false, maxExclusive = false): FilterNode =>
      numericRange("price", min, max, minExclusive, maxExclusive);
    expect(check(range(Number.NaN, 5))).toEqual(['numeric range on "price" has a NaN bound']);
    expect(check(range(40, 20))).toEqual(['numeric range on "price" is empty: min 40 > max 20']);
    expect(check(range(5, 5, true))).toEqual(['numeric range on "price" is empty: equal bounds 5 with an exclusive end']);
    expect(check(range(Infinity, Infinity))).toEqual(['numeric range on "price" is empty: min is +inf']);
    expect(check(range(-Infinity, -Infinity))).toEqual(['numeric range on "price" is empty: max is -inf']);
    expect(check(range(5, 5))).toEqual([]);
    expect(check(range(-Infinity, Infinity))).toEqual([]);
  });

  it("reports text terms that are not single words", () => {
    expect(check({ op: "text", field: "descr", terms: ["sci-fi", "ok", "two words", ""] })).toEqual([
      'text clause on "descr": "sci-fi" is not a single word (letters and digits only)',
      'text clause on "descr": "two words" is not a single word (letters and digits only)',
      'text clause on "descr": "" is not a single word (letters and digits only)',
    ]);
    expect(check({ op: "text", field: "descr", terms: ["Ünïcode", "日本", "42", "snake_case"] })).toEqual([]);
  });

  it("reports a text clause of stop words only, which Redis and KNN treat differently", () => {
    expect(check(parseFilterQuery("@descr:(the)"))).toEqual([
      'text clause on "descr" has only stop words (the): such a clause matches nothing in Redis and everything under KNN',
    ]);
    expect(check(parseFilterQuery("@descr:(the fox)"))).toEqual([]);
    expect(check({ op: "text", field: "descr", terms: [] })).toEqual(['text clause on "descr" has no words']);
  });

  it("accepts unscoped words from Redis-dialect parses, and refuses prefix terms as the user's filter string does", () => {
    expect(check(parseFilterQuery("@descr:(quick) fox", redisFilterDialect()))).toEqual([]);
    expect(check(parseFilterQuery("@descr:(qu*) fox", redisFilterDialect()))).toEqual([
      'text clause on "descr": "qu*" is a prefix query, which is not supported (whole words only: letters and digits)',
    ]);
    const noText: IndexSpec = { name: "bare", fields: [{ name: "price", type: "numeric" }] };
    expect(filterViolations({ op: "text", field: ANY_TEXT_FIELD, terms: ["fox"] }, noText, "f")).toHaveLength(1);
  });

  it(`allows nesting ${MAX_FILTER_DEPTH} levels deep and rejects deeper`, () => {
    const leaf: FilterNode = { op: "tag", field: "labels", values: ["x"] };
    let node: FilterNode = leaf;
    // The leaf counts as a level, as in the typed Filter: not x 31 + the tag clause = 32.
    for (let i = 0; i < MAX_FILTER_DEPTH - 1; i++) node = { op: "not", child: node };
    expect(check(node)).toEqual([]);
    expect(check(leaf)).toEqual([]);
    expect(check({ op: "and", children: [leaf, node] })).toEqual([
      `filter nests ${MAX_FILTER_DEPTH + 1} levels deep; at most ${MAX_FILTER_DEPTH} are allowed`,
    ]);
  });

  it("reports the same mistake once", () => {
    expect(check(parseFilterQuery("@nope:{a} | @nope:{b} -@nope:{c}"))).toEqual([
      'unknown field "nope" (TAG fields of index "shop": labels, codes)',
    ]);
  });

  it("reports and/or nodes without children", () => {
    expect(check({ op: "or", children: [] })).toEqual(['an "or" clause needs at least one child']);
  });

  it("lists violations in the order the clauses were written", () => {
    expect(check(parseFilterQuery("@a:{x} | @price:[3 1] @b:{y}"))).toEqual([
      'unknown field "a" (TAG fields of index "shop": labels, codes)',
      'numeric range on "price" is empty: min 3 > max 1',
      'unknown field "b" (TAG fields of index "shop": labels, codes)',
    ]);
  });

  it("copes with a very deep tree without overflowing the stack", () => {
    let node: FilterNode = { op: "all" };
    for (let i = 0; i < 200_000; i++) node = { op: "not", child: node };
    expect(check(node)).toEqual(["filter nests 200001 levels deep; at most 32 are allowed"]);
  });
});
