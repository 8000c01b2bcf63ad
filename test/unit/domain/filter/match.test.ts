import { describe, expect, it } from "vitest";
import { ANY_TEXT_FIELD, type FilterNode } from "../../../../src/domain/filter/filter.js";
import { createFilterMatcher } from "../../../../src/domain/filter/match.js";
import { parseFilterQuery } from "../../../../src/domain/filter/parser.js";
import { redisFilterDialect, UnsupportedFilterSyntaxError } from "../../../support/redis-standin/redis-filter-dialect.js";
import type { FieldValues } from "../../../../src/domain/item.js";
import type { IndexSpec } from "../../../../src/domain/schema.js";
import { range as numericRange, tagFilter } from "../../../support/filter-builders.js";

// The index and documents of conformance/redis-8.0.2/05-filters.json (FT.CREATE f ... SCHEMA labels TAG
// codes TAG SEPARATOR ";" ctag TAG CASESENSITIVE descr TEXT n NUMERIC vec VECTOR ...).
const spec: IndexSpec = {
  name: "f",
  fields: [
    { name: "labels", type: "tag", separator: ",", caseSensitive: false },
    { name: "codes", type: "tag", separator: ";", caseSensitive: false },
    { name: "ctag", type: "tag", separator: ",", caseSensitive: true },
    { name: "descr", type: "text", weight: 1 },
    { name: "n", type: "numeric" },
    { name: "vec", type: "vector", dimension: 2, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" },
  ],
};
const fieldTypes = new Map(spec.fields.map((f) => [f.name, f.type] as const));

function doc(labels: string, codes: string, ctag: string, descr: string, n: number): FieldValues {
  // Tags are split on the field's separator and trimmed at write time (the store's job).
  return {
    labels: { type: "tag", values: labels.split(",").map((v) => v.trim()) },
    codes: { type: "tag", values: codes.split(";").map((v) => v.trim()) },
    ctag: { type: "tag", values: [ctag] },
    descr: { type: "text", value: descr },
    n: { type: "numeric", value: n },
  };
}

// The HSETs of steps 1-7.
const docs: readonly [string, FieldValues][] = [
  ["f:1", doc("books,sci-fi", "sci-fi;us:east", "Books", "the quick brown fox", 10)],
  ["f:2", doc("comics,new york", "new york;a,b", "books", "a lazy dog sleeps all day", 20)],
  ["f:3", doc("computers,c++", "1.5;x@y.com", "BOOKS", "quick thinking computers", 30)],
  ["f:4", doc("Caf\u00e9,\u65e5\u672c", "a|b;{curly}", "Comics", "brown bread and coffee", 40)],
  ["f:5", doc("BOOKS,comics", "caf\u00e9;\u65e5\u672c;na\u00efve", "comics", "quick brown dogs run", 50)],
  ["f:6", doc("books,comics", "@home;tab.sep", "misc", "the brown fox jumps over the lazy dog", 60)],
  ["f:7", doc("misc", "a;b", "misc", "nothing special here", 70)],
];

function run(query: string, params: Record<string, string>): string[] | { error: string } {
  try {
    const node = parseFilterQuery(query, redisFilterDialect({ params: new Map(Object.entries(params)), fieldTypes }));
    const matches = createFilterMatcher(node, spec);
    return docs.filter(([, fields]) => matches(fields)).map(([id]) => id).sort();
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function ids(node: FilterNode, items: readonly [string, FieldValues][] = docs): string[] {
  const matches = createFilterMatcher(node, spec);
  return items.filter(([, fields]) => matches(fields)).map(([id]) => id);
}

describe("createFilterMatcher against recorded Redis 8.0.2 replies (05-filters)", () => {
  // [step, query, PARAMS, matching keys sorted (or the error reply), recorder's note]
  const recorded: [number, string, Record<string, string>, string[] | { error: string }, string][] = [
  [8, "@codes:{$t}", {"t": "sci-fi"}, ["f:1"], "tag 'sci-fi' via parameter"],
  [10, "@codes:{$t}", {"t": "us:east"}, ["f:1"], "tag 'us:east' via parameter"],
  [12, "@codes:{$t}", {"t": "new york"}, ["f:2"], "tag 'new york' via parameter"],
  [14, "@codes:{$t}", {"t": "a,b"}, ["f:2"], "tag 'a,b' via parameter"],
  [16, "@codes:{$t}", {"t": "1.5"}, ["f:3"], "tag '1.5' via parameter"],
  [18, "@codes:{$t}", {"t": "x@y.com"}, ["f:3"], "tag 'x@y.com' via parameter"],
  [20, "@codes:{$t}", {"t": "a|b"}, ["f:4"], "tag 'a|b' via parameter"],
  [22, "@codes:{$t}", {"t": "{curly}"}, ["f:4"], "tag '{curly}' via parameter"],
  [24, "@codes:{$t}", {"t": "café"}, ["f:5"], "tag 'café' via parameter"],
  [26, "@codes:{$t}", {"t": "日本"}, ["f:5"], "tag '日本' via parameter"],
  [28, "@codes:{$t}", {"t": "naïve"}, ["f:5"], "tag 'naïve' via parameter"],
  [30, "@codes:{$t}", {"t": "@home"}, ["f:6"], "tag '@home' via parameter"],
  [32, "@codes:{$t}", {"t": "tab.sep"}, ["f:6"], "tag 'tab.sep' via parameter"],
  [34, "@labels:{$t}", {"t": "c++"}, ["f:3"], "tag 'c++' via parameter"],
  [36, "@labels:{$t}", {"t": "new york"}, ["f:2"], "tag with a space in the ','-separated field"],
  [38, "@codes:{$t1 | $t2}", {"t1": "sci-fi", "t2": "x@y.com"}, ["f:1", "f:3"], "union of two parameters"],
  [40, "@labels:{$t1 | $t2 | $t3}", {"t1": "computers", "t2": "misc", "t3": "nope"}, ["f:3", "f:7"], "3-way union"],
  [42, "@labels:{$t1} @labels:{$t2}", {"t1": "books", "t2": "comics"}, ["f:5", "f:6"], "AND of two tag clauses"],
  [44, "-@labels:{$t}", {"t": "books"}, ["f:2", "f:3", "f:4", "f:7"], "negation"],
  [46, "@labels:{$t} -@labels:{$u}", {"t": "books", "u": "comics"}, ["f:1"], "tag AND NOT tag"],
  [48, "@n:[$lo $hi]", {"lo": "20", "hi": "40"}, ["f:2", "f:3", "f:4"], "inclusive range"],
  [50, "@n:[($lo $hi]", {"lo": "20", "hi": "40"}, ["f:3", "f:4"], "exclusive low bound"],
  [52, "@n:[$lo ($hi]", {"lo": "20", "hi": "40"}, ["f:2", "f:3"], "exclusive high bound"],
  [54, "@n:[($lo ($hi]", {"lo": "20", "hi": "40"}, ["f:3"], "both exclusive"],
  [56, "@n:[$lo $hi]", {"lo": "(20", "hi": "40"}, ["f:2", "f:3", "f:4"], "'(' inside the parameter value"],
  [58, "@n:[-inf $hi]", {"hi": "30"}, ["f:1", "f:2", "f:3"], "-inf"],
  [60, "@n:[$lo +inf]", {"lo": "55"}, ["f:6", "f:7"], "+inf"],
  [62, "@n:[$lo $hi]", {"lo": "-inf", "hi": "+inf"}, ["f:1", "f:2", "f:3", "f:4", "f:5", "f:6", "f:7"], "infinite bounds as parameter values"],
  [64, "@n:[(20 (40]", {}, ["f:3"], "inline exclusive bounds"],
  [66, "@n:[40 20]", {}, { error: "Invalid numeric range (min > max): @n:[40.000000 20.000000]" }, "low > high"],
  [68, "@n:[$lo $hi]", {"lo": "abc", "hi": "40"}, { error: "Bad lower range: abc" }, "non-numeric parameter"],
  [70, "@descr:(quick)", {}, ["f:1", "f:3", "f:5"], "single word"],
  [72, "@descr:(quick brown)", {}, ["f:1", "f:5"], "two words (AND)"],
  [78, "@descr:(quick|lazy)", {}, ["f:1", "f:2", "f:3", "f:5", "f:6"], "word OR word"],
  [80, "@descr:(dog)", {}, ["f:2", "f:5", "f:6"], "stemming: dog / dogs"],
  [82, "@descr:(the)", {}, [], "stopword only"],
  [84, "@descr:(qu*)", {}, ["f:1", "f:3", "f:5"], "prefix"],
  [86, "@descr:($w)", {"w": "coffee"}, ["f:4"], "word via parameter"],
  [88, "@descr:(-quick)", {}, ["f:2", "f:4", "f:6", "f:7"], "negated word inside the field"],
  [90, "quick", {}, ["f:1", "f:3", "f:5"], "unscoped word"],
  [92, "@labels:{books} | @n:[65 70]", {}, ["f:1", "f:5", "f:6", "f:7"], "OR of two clauses"],
  [94, "(@labels:{books} | @labels:{comics}) -@n:[60 60]", {}, ["f:1", "f:2", "f:5"], "nested parentheses"],
  [96, "((@descr:(quick) @n:[0 30]) | (@codes:{$t}))", {"t": "a|b"}, ["f:1", "f:3", "f:4"], "deeper nesting"],
  [98, "@labels:{books} (@descr:(fox) | @descr:(dogs))", {}, ["f:1", "f:5", "f:6"], "AND with an OR group"],
  [100, "@labels:{nonexistent}", {}, [], "matches nothing"],
  [102, "@n:[1000 2000]", {}, [], "numeric range matching nothing"],
  [104, "@codes:{sci-fi}", {}, { error: "Syntax error at offset 11 near sci" }, "inline '-' in a tag, unescaped"],
  [106, "@codes:{us:east}", {}, { error: "Syntax error at offset 10 near us" }, "inline ':' unescaped"],
  [108, "@codes:{new york}", {}, ["f:2"], "inline space unescaped"],
  [110, "@codes:{x@y.com}", {}, { error: "Syntax error at offset 9 near y" }, "inline '@' and '.' unescaped"],
  [112, "@codes:{1.5}", {}, ["f:3"], "inline '.' unescaped"],
  [114, "@codes:{{curly}}", {}, { error: "Syntax error at offset 8 near codes" }, "inline braces unescaped"],
  [116, "@codes:{a|b}", {}, ["f:7"], "inline '|' = union of a and b"],
  [118, "@codes:{sci\\-fi}", {}, ["f:1"], "escaped '-'"],
  [120, "@codes:{new\\ york}", {}, ["f:2"], "escaped space"],
  [122, "@codes:{x\\@y\\.com}", {}, ["f:3"], "escaped '@' and '.'"],
  [124, "@codes:{us\\:east}", {}, ["f:1"], "escaped ':'"],
  [126, "@codes:{a\\|b}", {}, ["f:4"], "escaped '|'"],
  [128, "@codes:{a\\,b}", {}, ["f:2"], "escaped ','"],
  [130, "@labels:{books", {}, { error: "Syntax error at offset 9 near books" }, "unterminated tag list"],
  [132, "@nosuch:{x}", {}, { error: "Unknown field at offset 0 near nosuch" }, "unknown TAG field"],
  [134, "@nosuch:(word)", {}, { error: "Unknown field at offset 0 near nosuch" }, "unknown TEXT field"],
  [136, "@nosuch:[1 2]", {}, { error: "Unknown field at offset 0 near nosuch" }, "unknown NUMERIC field"],
  [138, "@n:{x}", {}, { error: "Expected a TAG field at offset 0 near n" }, "tag syntax on a NUMERIC field"],
  [140, "@labels:[1 2]", {}, { error: "Expected a NUMERIC field at offset 0 near labels" }, "numeric syntax on a TAG field"],
  [142, "@codes:{$t}", {"u": "x"}, { error: "No such parameter `t`" }, "parameter not supplied"],
  [144, "@labels:{BOOKS}", {}, ["f:1", "f:5", "f:6"], "default TAG: case-insensitive"],
  [146, "@labels:{Books}", {}, ["f:1", "f:5", "f:6"], ""],
  [148, "@labels:{$t}", {"t": "CAFÉ"}, ["f:4"], "non-ASCII upper case in a case-insensitive TAG"],
  [150, "@labels:{$t}", {"t": "café"}, ["f:4"], ""],
  [152, "@ctag:{Books}", {}, ["f:1"], "CASESENSITIVE TAG"],
  [154, "@ctag:{books}", {}, ["f:2"], ""],
  [156, "@ctag:{BOOKS}", {}, ["f:3"], ""],
  ];

  it.each(recorded)("step %i: %s gives what Redis gave", (_step, query, params, expected) => {
    expect(run(query, params)).toEqual(expected);
  });

  it("ignores a stop-word-only clause inside a larger query, as Redis's parser does", () => {
    expect(run("@descr:(the) @labels:{books}", {})).toEqual(["f:1", "f:5", "f:6"]);
    expect(run("@descr:(the)", {})).toEqual([]);
  });

  it("rejects exact phrases, which vecrec does not implement (steps 74 and 76)", () => {
    expect(() => parseFilterQuery('@descr:"quick brown"', redisFilterDialect())).toThrow(UnsupportedFilterSyntaxError);
  });
});

describe("createFilterMatcher semantics", () => {
  const tag = tagFilter;
  const range = (min: number, max: number, minExclusive = false, maxExclusive = false): FilterNode =>
    numericRange("n", min, max, minExclusive, maxExclusive);

  it("matches everything with all", () => {
    expect(ids({ op: "all" })).toHaveLength(7);
  });

  it("compares tags case-insensitively with Unicode lower-casing", () => {
    expect(ids(tag("labels", "CAFÉ"))).toEqual(["f:4"]);
    expect(ids(tag("labels", "bOoKs"))).toEqual(["f:1", "f:5", "f:6"]);
  });

  it("compares tags exactly on a caseSensitive field", () => {
    expect(ids(tag("ctag", "Books"))).toEqual(["f:1"]);
    expect(ids(tag("ctag", "books", "BOOKS"))).toEqual(["f:2", "f:3"]);
  });

  it("trims tag values on both sides", () => {
    const items: [string, FieldValues][] = [["x", { labels: { type: "tag", values: ["  Sci Fi "] } }]];
    expect(ids(tag("labels", " sci fi"), items)).toEqual(["x"]);
  });

  it("honours exclusive numeric bounds and infinite ends", () => {
    expect(ids(range(20, 40))).toEqual(["f:2", "f:3", "f:4"]);
    expect(ids(range(20, 40, true, false))).toEqual(["f:3", "f:4"]);
    expect(ids(range(20, 40, false, true))).toEqual(["f:2", "f:3"]);
    expect(ids(range(20, 40, true, true))).toEqual(["f:3"]);
    expect(ids(range(-Infinity, 20))).toEqual(["f:1", "f:2"]);
    expect(ids(range(65, Infinity))).toEqual(["f:7"]);
  });

  it("never matches a NaN bound or a NaN value", () => {
    expect(ids(range(Number.NaN, 100))).toEqual([]);
    const items: [string, FieldValues][] = [["x", { n: { type: "numeric", value: Number.NaN } }]];
    expect(ids(range(-Infinity, Infinity), items)).toEqual([]);
  });

  it("does not match a missing field, so its negation matches", () => {
    const items: [string, FieldValues][] = [
      ["bare", {}],
      ["tagged", { labels: { type: "tag", values: ["books"] } }],
    ];
    expect(ids(tag("labels", "books"), items)).toEqual(["tagged"]);
    expect(ids({ op: "not", child: tag("labels", "books") }, items)).toEqual(["bare"]);
    expect(ids({ op: "not", child: range(0, 1) }, items)).toEqual(["bare", "tagged"]);
    expect(ids({ op: "text", field: "descr", terms: ["x"] }, items)).toEqual([]);
  });

  it("does not match a value of another type than the clause", () => {
    const items: [string, FieldValues][] = [["x", { labels: { type: "text", value: "books" } }]];
    expect(ids(tag("labels", "books"), items)).toEqual([]);
  });

  it("needs every text term, matching stems", () => {
    expect(ids({ op: "text", field: "descr", terms: ["quick", "brown"] })).toEqual(["f:1", "f:5"]);
    expect(ids({ op: "text", field: "descr", terms: ["Dogs"] })).toEqual(["f:2", "f:5", "f:6"]);
    expect(ids({ op: "text", field: "descr", terms: ["jumping"] })).toEqual(["f:6"]);
  });

  it("matches nothing with stop words only, and ignores stop words next to other terms", () => {
    expect(ids({ op: "text", field: "descr", terms: ["the"] })).toEqual([]);
    expect(ids({ op: "text", field: "descr", terms: ["the", "fox"] })).toEqual(["f:1", "f:6"]);
  });

  it("treats a term ending in * as a prefix", () => {
    expect(ids({ op: "text", field: "descr", terms: ["comp*"] })).toEqual(["f:3"]);
  });

  it("looks for each term of an unscoped text node in any TEXT field", () => {
    const twoText: IndexSpec = {
      name: "t",
      fields: [
        { name: "title", type: "text", weight: 1 },
        { name: "body", type: "text", weight: 1 },
      ],
    };
    const items: [string, FieldValues][] = [
      ["split", { title: { type: "text", value: "red apple" }, body: { type: "text", value: "green pear" } }],
      ["one", { title: { type: "text", value: "red car" } }],
    ];
    const m = createFilterMatcher({ op: "text", field: ANY_TEXT_FIELD, terms: ["apple", "pears"] }, twoText);
    expect(items.filter(([, f]) => m(f)).map(([id]) => id)).toEqual(["split"]);
    const red = createFilterMatcher({ op: "text", field: ANY_TEXT_FIELD, terms: ["red"] }, twoText);
    expect(items.filter(([, f]) => red(f)).map(([id]) => id)).toEqual(["split", "one"]);
  });

  it("combines and, or and not", () => {
    const node: FilterNode = {
      op: "or",
      children: [
        { op: "and", children: [tag("labels", "books"), { op: "not", child: tag("labels", "comics") }] },
        range(70, 70),
      ],
    };
    expect(ids(node)).toEqual(["f:1", "f:7"]);
    expect(ids({ op: "and", children: [] })).toHaveLength(7);
    expect(ids({ op: "or", children: [] })).toEqual([]);
  });

  it("sees a changed text value when the item's field object is replaced", () => {
    const m = createFilterMatcher({ op: "text", field: "descr", terms: ["apple"] }, spec);
    const before: FieldValues = { descr: { type: "text", value: "apple pie" } };
    expect(m(before)).toBe(true);
    const after: FieldValues = { descr: { type: "text", value: "cherry pie" } };
    expect(m(after)).toBe(false);
  });

  it("evaluates a compiled matcher over many items", () => {
    const many: [string, FieldValues][] = [];
    for (let i = 0; i < 20_000; i++) {
      many.push([
        `i${i}`,
        {
          labels: { type: "tag", values: [i % 3 === 0 ? "Books" : "comics"] },
          n: { type: "numeric", value: i },
          descr: { type: "text", value: i % 2 === 0 ? "running dogs" : "sleeping cats" },
        },
      ]);
    }
    const node = parseFilterQuery("@labels:{books} @n:[(100 1000] @descr:(run dog)");
    const matches = createFilterMatcher(node, spec);
    const hits = many.filter(([, f]) => matches(f)).map(([id]) => id);
    // Multiples of 6 in (100, 1000]: 102..996.
    expect(hits).toHaveLength(150);
    expect(hits[0]).toBe("i102");
    expect(hits[hits.length - 1]).toBe("i996");
  });
});
