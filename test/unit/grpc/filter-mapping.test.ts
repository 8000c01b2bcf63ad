import { describe, expect, it } from "vitest";
import type { FieldViolation } from "../../../src/domain/errors.js";
import { TagMatch, type Filter } from "../../../src/gen/vecrec/v1/vecrec.js";
import { isUndecodable, type Decoded } from "../../../src/domain/violations.js";
import type { FilterNode } from "../../../src/domain/filter/filter.js";
import { MAX_FILTER_DEPTH } from "../../../src/domain/filter/validate.js";
import { decodeRequestFilter, translateFilterTree } from "../../../src/grpc/filter-mapping.js";

const tag = (field: string, values: string[], match = TagMatch.TAG_MATCH_UNSPECIFIED): Filter => ({
  condition: { $case: "tag", value: { field, values, match } },
});

/** The node, or undefined and the violations an Undecodable carries. */
function split(decoded: Decoded<FilterNode>): { node: FilterNode | undefined; violations: FieldViolation[] } {
  return isUndecodable(decoded) ? { node: undefined, violations: [...decoded.violations] } : { node: decoded, violations: [] };
}

function compile(filter: Filter): { node: unknown; violations: FieldViolation[] } {
  return split(translateFilterTree(filter, "filter"));
}

/** decodeRequestFilter as { node, field }, or undefined with its violations pushed. */
function resolveRequestFilter(
  typed: Filter | undefined,
  query: string,
  names: { typed: "filter"; query: "filter_query" },
  violations: FieldViolation[],
): { node: FilterNode; field: string } | undefined {
  const { filter, field } = decodeRequestFilter(typed, query, names);
  const { node, violations: found } = split(filter);
  violations.push(...found);
  return node === undefined ? undefined : { node, field };
}

describe("translateFilterTree", () => {
  it("maps tag ANY (and unspecified) to one tag node, ALL to an and of tag nodes", () => {
    expect(compile(tag("labels", ["a", "b"])).node).toEqual({ op: "tag", field: "labels", values: ["a", "b"] });
    expect(compile(tag("labels", ["a"], TagMatch.TAG_MATCH_ANY)).node).toEqual({ op: "tag", field: "labels", values: ["a"] });
    expect(compile(tag("labels", ["a", "b"], TagMatch.TAG_MATCH_ALL)).node).toEqual({
      op: "and",
      children: [
        { op: "tag", field: "labels", values: ["a"] },
        { op: "tag", field: "labels", values: ["b"] },
      ],
    });
  });

  it("maps absent numeric bounds to infinities", () => {
    const { node } = compile({ condition: { $case: "numeric", value: { field: "time", max: 5, minExclusive: false, maxExclusive: true } } });
    expect(node).toEqual({
      op: "numeric",
      field: "time",
      min: Number.NEGATIVE_INFINITY,
      max: 5,
      minExclusive: false,
      maxExclusive: true,
    });
  });

  it("splits text words on spaces", () => {
    expect(compile({ condition: { $case: "text", value: { field: "descr", words: "  red  shoes " } } }).node).toEqual({
      op: "text",
      field: "descr",
      terms: ["red", "shoes"],
    });
  });

  it("maps all_of, any_of and none_of (= not of or)", () => {
    const list = { filters: [tag("a", ["x"]), tag("b", ["y"])] };
    const children = [
      { op: "tag", field: "a", values: ["x"] },
      { op: "tag", field: "b", values: ["y"] },
    ];
    expect(compile({ condition: { $case: "allOf", value: list } }).node).toEqual({ op: "and", children });
    expect(compile({ condition: { $case: "anyOf", value: list } }).node).toEqual({ op: "or", children });
    expect(compile({ condition: { $case: "noneOf", value: list } }).node).toEqual({ op: "not", child: { op: "or", children } });
  });

  it("names the path of every malformed node", () => {
    const { node, violations } = compile({
      condition: {
        $case: "allOf",
        value: {
          filters: [
            {},
            tag("a", []),
            tag("a", ["x"], 9 as TagMatch),
            { condition: { $case: "text", value: { field: "d", words: "   " } } },
            { condition: { $case: "noneOf", value: { filters: [] } } },
          ],
        },
      },
    });
    expect(node).toBeUndefined();
    expect(violations.map((v) => v.field)).toEqual([
      "filter.all_of.filters[0]",
      "filter.all_of.filters[1].tag.values",
      "filter.all_of.filters[2].tag.match",
      "filter.all_of.filters[3].text.words",
      "filter.all_of.filters[4].none_of.filters",
    ]);
  });

  it("bounds the nesting depth", () => {
    let filter = tag("a", ["x"]);
    for (let i = 0; i < MAX_FILTER_DEPTH + 5; i++) filter = { condition: { $case: "anyOf", value: { filters: [filter] } } };
    const { node, violations } = compile(filter);
    expect(node).toBeUndefined();
    expect(violations).toHaveLength(1);
    expect(violations[0]?.description).toContain(`${MAX_FILTER_DEPTH} levels`);
  });
});

describe("decodeRequestFilter", () => {
  const names = { typed: "filter", query: "filter_query" } as const;

  it("matches everything when neither is set", () => {
    expect(resolveRequestFilter(undefined, "", names, [])).toEqual({ node: { op: "all" }, field: "filter" });
  });

  it("parses the string, naming its field", () => {
    const resolved = resolveRequestFilter(undefined, "@labels:{books}", names, []);
    expect(resolved?.field).toBe("filter_query");
    expect(resolved?.node).toMatchObject({ op: "tag", field: "labels" });
  });

  it("turns a syntax error into a violation with the offset", () => {
    const violations: FieldViolation[] = [];
    expect(resolveRequestFilter(undefined, "@labels:{books", names, violations)).toBeUndefined();
    expect(violations).toHaveLength(1);
    expect(violations[0]?.field).toBe("filter_query");
    expect(violations[0]?.description).toMatch(/^Syntax error at offset 9 near books/);
  });

  it("rejects both at once", () => {
    const violations: FieldViolation[] = [];
    expect(resolveRequestFilter(tag("a", ["x"]), "*", names, violations)).toBeUndefined();
    expect(violations.map((v) => v.field)).toEqual(["filter_query"]);
  });
});
