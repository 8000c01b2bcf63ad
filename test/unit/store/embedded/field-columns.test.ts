/**
 * Metadata in columns: rows read back as written (any type under any name), moves and clears keep the
 * interned values counted (filters read them through column-filter.ts, see column-filter.test.ts).
 */
import { describe, expect, it } from "vitest";
import type { FieldValues } from "../../../../src/domain/item.js";
import { FieldColumns } from "../../../../src/store/embedded/field-columns.js";

describe("field columns", () => {
  it("reads rows back as written, through overwrites, moves and clears", () => {
    const columns = new FieldColumns();
    columns.setRowCount(3);
    const a: FieldValues = { title: { type: "text", value: "Red shoes" }, tags: { type: "tag", values: ["x", "y"] }, n: { type: "numeric", value: -0 } };
    const b: FieldValues = { title: { type: "numeric", value: 3.5 }, tags: { type: "tag", values: ["x", "y"] } };
    const c: FieldValues = { other: { type: "text", value: "Red shoes" } };
    columns.setRow(0, a);
    columns.setRow(1, b);
    columns.setRow(2, c);
    expect(columns.valuesAt(0)).toEqual(a);
    const n = columns.valuesAt(0).n;
    expect(n?.type === "numeric" && Object.is(n.value, -0)).toBe(true);
    expect(columns.valuesAt(1)).toEqual(b);
    expect(columns.valuesAt(2)).toEqual(c);
    expect(columns.valuesAt(0, ["n", "missing", "title"])).toEqual({ n: a.n, title: a.title });
    // Copies: changing what was read changes nothing stored.
    const read = columns.valuesAt(1);
    if (read.tags?.type === "tag") (read.tags.values as string[]).push("z");
    expect(columns.valuesAt(0).tags).toEqual({ type: "tag", values: ["x", "y"] });
    // Delete row 0 the way the index does: clear it, move the last row in, shrink.
    columns.clearRow(0);
    columns.moveRow(2, 0);
    columns.setRowCount(2);
    expect(columns.valuesAt(0)).toEqual(c);
    expect(columns.valuesAt(1)).toEqual(b);
    columns.setField(1, "tags", undefined);
    columns.setField(1, "extra", { type: "tag", values: [] });
    expect(columns.valuesAt(1)).toEqual({ title: b.title, extra: { type: "tag", values: [] } });
    columns.setRowCount(3);
    expect(columns.valuesAt(2)).toEqual({});
  });

  it("grows and shrinks, keeping the rows that stay", () => {
    const columns = new FieldColumns();
    columns.setRowCount(5000);
    for (let row = 0; row < 5000; row++) columns.setRow(row, { n: { type: "numeric", value: row }, t: { type: "tag", values: [`g${row % 7}`] } });
    columns.setRowCount(10);
    columns.setRowCount(20);
    expect(columns.valuesAt(9)).toEqual({ n: { type: "numeric", value: 9 }, t: { type: "tag", values: ["g2"] } });
    expect(columns.valuesAt(15)).toEqual({});
  });
});
