/**
 * Issue 11: a filter's size is bounded (src/domain/filter/limits.ts), typed tree and filter string
 * alike, and an oversized filter is refused naming the bound without being built in full.
 */
import { describe, expect, it } from "vitest";
import { TagMatch, type Filter } from "../../../src/gen/vecrec/v1/vecrec.js";
import { isUndecodable } from "../../../src/domain/violations.js";
import {
  MAX_FILTER_CLAUSES,
  MAX_FILTER_QUERY_BYTES,
  MAX_FILTER_VALUES,
  MAX_FILTER_WORDS,
} from "../../../src/domain/filter/limits.js";
import { decodeRequestFilter } from "../../../src/grpc/filter-mapping.js";

const names = { typed: "filter", query: "filter_query" } as const;
const tag = (field: string, values: string[]): Filter => ({
  condition: { $case: "tag", value: { field, values, match: TagMatch.TAG_MATCH_UNSPECIFIED } },
});
const text = (words: string): Filter => ({ condition: { $case: "text", value: { field: "descr", words } } });
const anyOf = (filters: Filter[]): Filter => ({ condition: { $case: "anyOf", value: { filters } } });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function violations(typed: Filter | undefined, query = ""): { field: string; description: string }[] {
  const { filter } = decodeRequestFilter(typed, query, names);
  return isUndecodable(filter) ? [...filter.violations] : [];
}

describe("filter size limits", () => {
  it(`accepts ${MAX_FILTER_CLAUSES} conditions and refuses one more, typed and as a string`, () => {
    expect(violations(anyOf(range(MAX_FILTER_CLAUSES).map((i) => tag("labels", [`v${i}`]))))).toEqual([]);
    const over = violations(anyOf(range(MAX_FILTER_CLAUSES + 1).map((i) => tag("labels", [`v${i}`]))));
    expect(over).toEqual([{ field: "filter", description: expect.stringContaining(`at most ${MAX_FILTER_CLAUSES} are allowed`) as string }]);
    const query = (n: number) => range(n).map((i) => `@labels:{v${i}}`).join(" | ");
    expect(violations(undefined, query(MAX_FILTER_CLAUSES))).toEqual([]);
    expect(violations(undefined, query(MAX_FILTER_CLAUSES + 1))).toEqual([
      { field: "filter_query", description: expect.stringContaining(`more than ${MAX_FILTER_CLAUSES} conditions`) as string },
    ]);
  });

  it(`refuses more than ${MAX_FILTER_VALUES} values and more than ${MAX_FILTER_WORDS} text words in all`, () => {
    const perClause = Math.ceil((MAX_FILTER_VALUES + 1) / 2);
    const values = violations(anyOf([tag("labels", range(perClause).map((i) => `a${i}`)), tag("labels", range(perClause).map((i) => `b${i}`))]));
    expect(values.map((v) => v.description)).toEqual([expect.stringContaining(`more than ${MAX_FILTER_VALUES} values`)]);
    const words = (n: number) => range(n).map((i) => `w${i}`).join(" ");
    expect(violations(anyOf([text(words(MAX_FILTER_WORDS / 2)), text(words(MAX_FILTER_WORDS / 2))]))).toEqual([]);
    expect(violations(anyOf([text(words(MAX_FILTER_WORDS / 2)), text(words(MAX_FILTER_WORDS / 2 + 1))])).map((v) => v.description)).toEqual([
      expect.stringContaining(`more than ${MAX_FILTER_WORDS} text words`),
    ]);
  });

  it("refuses the 2,000-clause bombs of issue 11 with one violation, without building them", () => {
    const bomb = anyOf(range(2_000).map((i) => tag("labels", range(100).map((v) => `b${i}x${v}`))));
    const typed = violations(bomb);
    expect(typed).toHaveLength(1);
    expect(typed[0]?.field).toBe("filter");
    const query = range(2_000).map((i) => `@labels:{b${i}}`).join(" | ");
    expect(violations(undefined, query).map((v) => v.field)).toEqual(["filter_query"]);
  });

  it(`refuses a filter string over ${MAX_FILTER_QUERY_BYTES} bytes before parsing it`, () => {
    const long = `@labels:{${"x".repeat(MAX_FILTER_QUERY_BYTES)}}`;
    expect(violations(undefined, long)).toEqual([
      { field: "filter_query", description: `is ${long.length} bytes long; at most ${MAX_FILTER_QUERY_BYTES} are allowed` },
    ]);
  });
});
