/**
 * The embedded engine's column filter (column-filter.ts) against the domain's matcher (match.ts, Redis's
 * semantics, which the stand-in runs): for random filters over random rows (any type under any field
 * name, missing fields, shared and distinct values, stems, stop words, prefixes, case, spaces, NaN), after
 * random rewrites, deletes and moves (some while the text vocabularies are being built), both give the
 * same answer for every row.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ANY_TEXT_FIELD, type FilterNode } from "../../../../src/domain/filter/filter.js";
import { createFilterMatcher } from "../../../../src/domain/filter/match.js";
import type { FieldValue, FieldValues } from "../../../../src/domain/item.js";
import type { IndexSpec } from "../../../../src/domain/schema.js";
import { compileColumnFilter, matchesNothing } from "../../../../src/store/embedded/column-filter.js";
import { FieldColumns } from "../../../../src/store/embedded/field-columns.js";

const SPEC = {
  name: "p",
  fields: [
    { name: "title", type: "text", weight: 1 },
    { name: "body", type: "text", weight: 1 },
    { name: "labels", type: "tag", separator: ",", caseSensitive: false },
    { name: "code", type: "tag", separator: ",", caseSensitive: true },
    { name: "n", type: "numeric" },
    { name: "vec", type: "vector", dimension: 2, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" },
  ],
} as unknown as IndexSpec;

const FIELDS = ["title", "body", "labels", "code", "n", "ghost"];
const WORDS = ["run", "running", "runs", "dog", "dogs", "the", "a", "blue", "Blue", "generous", "generously", "x1", "sci-fi", "fly", "flies", ""];
const TAGS = ["a", "A", " a", "b ", "B", "c", "ç", "İ", "i̇", ""];

const text = fc.array(fc.constantFrom(...WORDS), { maxLength: 5 }).map((ws) => ws.join(" "));
const value: fc.Arbitrary<FieldValue> = fc.oneof(
  text.map((v) => ({ type: "text" as const, value: v })),
  fc.array(fc.constantFrom(...TAGS), { maxLength: 3 }).map((values) => ({ type: "tag" as const, values })),
  fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(Number.NaN), fc.constant(-0)).map((v) => ({ type: "numeric" as const, value: v })),
);
const row: fc.Arbitrary<FieldValues> = fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 4 });

const bound = fc.oneof(fc.integer({ min: -4, max: 4 }), fc.constant(-Infinity), fc.constant(Infinity), fc.constant(Number.NaN));
const leaf: fc.Arbitrary<FilterNode> = fc.oneof(
  fc.record({ op: fc.constant("tag" as const), field: fc.constantFrom(...FIELDS), values: fc.array(fc.constantFrom(...TAGS), { maxLength: 3 }) }),
  fc.record({ op: fc.constant("numeric" as const), field: fc.constantFrom(...FIELDS), min: bound, max: bound, minExclusive: fc.boolean(), maxExclusive: fc.boolean() }),
  fc.record({
    op: fc.constant("text" as const),
    field: fc.constantFrom(...FIELDS, ANY_TEXT_FIELD),
    terms: fc.array(fc.constantFrom(...WORDS, "ru*", "do*", "zzz", "gener*", "RUN"), { minLength: 1, maxLength: 3 }),
  }),
  fc.constant({ op: "all" as const }),
);
const { filter } = fc.letrec<{ filter: FilterNode }>((tie) => ({
  filter: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.record({ op: fc.constantFrom("and" as const, "or" as const), children: fc.array(tie("filter"), { maxLength: 4 }) }),
    fc.record({ op: fc.constant("not" as const), child: tie("filter") }),
  ),
}));

type Change = { kind: "set"; row: number; fields: FieldValues } | { kind: "field"; row: number; name: string; value: FieldValue | undefined } | { kind: "delete"; row: number };
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), row: fc.nat(30), fields: row }),
  fc.record({ kind: fc.constant("field" as const), row: fc.nat(30), name: fc.constantFrom(...FIELDS), value: fc.option(value, { nil: undefined }) }),
  fc.record({ kind: fc.constant("delete" as const), row: fc.nat(30) }),
);

describe("column filter", () => {
  it("answers as the domain's matcher on every row, through rewrites, deletes and moves", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), fc.array(filter, { minLength: 1, maxLength: 4 }), fc.array(change, { maxLength: 10 }), fc.nat(10), async (rows, filters, changes, duringBuild) => {
        const columns = new FieldColumns();
        let truth = [...rows];
        columns.setRowCount(truth.length);
        truth.forEach((fields, i) => columns.setRow(i, fields));
        const check = (): void => {
          for (const node of filters) {
            const reference = createFilterMatcher(node, SPEC);
            const compiled = compileColumnFilter(node, SPEC, columns);
            truth.forEach((fields, i) => {
              expect(columns.valuesAt(i)).toEqual(fields);
              expect(compiled(i), `row ${i} ${JSON.stringify(fields)} filter ${JSON.stringify(node)}`).toBe(reference(fields));
            });
          }
        };
        check(); // without vocabularies
        const apply = (c: Change): void => {
          if (truth.length === 0) return;
          const at = c.row % truth.length;
          if (c.kind === "set") {
            columns.setRow(at, c.fields);
            truth[at] = c.fields;
          } else if (c.kind === "field") {
            columns.setField(at, c.name, c.value);
            const next: Record<string, FieldValue> = { ...truth[at] };
            if (c.value === undefined) delete next[c.name];
            else next[c.name] = c.value;
            truth[at] = next;
          } else {
            // As the index deletes: the last row moves into the hole.
            const last = truth.length - 1;
            columns.clearRow(at);
            if (last !== at) columns.moveRow(last, at);
            columns.setRowCount(last);
            truth[at] = truth[last] as FieldValues;
            truth = truth.slice(0, last);
          }
        };
        // Some changes land during the build of the vocabularies (it pauses after each value), the rest after.
        const pending = [...changes];
        await columns.buildTextVocabularies(FIELDS, () => {
          if (pending.length > 0 && changes.length - pending.length < duringBuild) apply(pending.shift() as Change);
          return Promise.resolve();
        }, 1);
        check();
        for (const c of pending) apply(c);
        check();
      }),
      { numRuns: Number(process.env.VECREC_PROPERTY_RUNS ?? 300), seed: process.env.VECREC_PROPERTY_SEED === undefined ? undefined : Number(process.env.VECREC_PROPERTY_SEED) },
    );
  });

  it("rules out a word no row holds before the scan, and groups OR'ed tag conditions on one field", async () => {
    const columns = new FieldColumns();
    columns.setRowCount(3);
    columns.setRow(0, { title: { type: "text", value: "running dogs" }, labels: { type: "tag", values: ["a"] } });
    columns.setRow(1, { title: { type: "text", value: "blue" }, labels: { type: "tag", values: ["b"] } });
    columns.setRow(2, {});
    await columns.buildTextVocabularies(["title"], () => Promise.resolve());
    const none = compileColumnFilter({ op: "text", field: "title", terms: ["zulu"] }, SPEC, columns);
    const notNone = compileColumnFilter({ op: "not", child: { op: "text", field: "title", terms: ["run", "zulu"] } }, SPEC, columns);
    expect([0, 1, 2].map(none)).toEqual([false, false, false]);
    expect([0, 1, 2].map(notNone)).toEqual([true, true, true]);
    const stems = compileColumnFilter({ op: "text", field: "title", terms: ["run", "dog"] }, SPEC, columns);
    expect([0, 1, 2].map(stems)).toEqual([true, false, false]);
    const anyOf = compileColumnFilter(
      { op: "or", children: [{ op: "tag", field: "labels", values: ["x"] }, { op: "tag", field: "labels", values: ["B"] }, { op: "text", field: "title", terms: ["nothing"] }] },
      SPEC,
      columns,
    );
    expect([0, 1, 2].map(anyOf)).toEqual([false, true, false]);
  });

  it("keeps the vocabulary exact when a value it has not reached yet is removed during the build", async () => {
    const columns = new FieldColumns();
    columns.setRowCount(2);
    columns.setRow(0, { title: { type: "text", value: "dog" } });
    columns.setRow(1, { title: { type: "text", value: "dog cat" } });
    let paused = false;
    await columns.buildTextVocabularies(["title"], () => {
      if (!paused) {
        paused = true; // after the first value: the second goes before the build reaches it
        columns.setField(1, "title", undefined);
      }
      return Promise.resolve();
    }, 1);
    const dog = compileColumnFilter({ op: "text", field: "title", terms: ["dog"] }, SPEC, columns);
    expect([dog(0), dog(1)]).toEqual([true, false]);
    const cat = compileColumnFilter({ op: "text", field: "title", terms: ["cat"] }, SPEC, columns);
    expect(matchesNothing(cat)).toBe(true);
  });
});
