/** The id table agrees with a Map through pushes and swap-removes, across growth and shrinking. */
import { describe, expect, it } from "vitest";
import { IdTable } from "../../../../src/store/embedded/id-table.js";

describe("id table", () => {
  it("finds every id's row like a Map does, through churn", () => {
    let state = 7;
    const next = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const table = new IdTable();
    const ids: string[] = [];
    const rows = new Map<string, number>();
    let fresh = 0;
    for (let round = 0; round < 40; round++) {
      const adds = Math.floor(next() * 2000);
      for (let i = 0; i < adds; i++) {
        const id = `id-${fresh++}-${"é😀"[i % 2] ?? ""}`;
        expect(table.rowOf(id)).toBeUndefined();
        const row = table.push(id);
        expect(row).toBe(ids.length);
        ids.push(id);
        rows.set(id, row);
      }
      const removals = Math.floor(next() * (round % 5 === 4 ? ids.length : ids.length / 2));
      for (let i = 0; i < removals; i++) {
        const id = ids[Math.floor(next() * ids.length)] as string;
        const row = rows.get(id) as number;
        const last = table.swapRemove(id);
        expect(last).toBe(ids.length - 1);
        const moved = ids.pop() as string;
        rows.delete(id);
        if (row !== last) {
          ids[row] = moved;
          rows.set(moved, row);
        }
      }
      expect(table.size).toBe(ids.length);
      expect(table.ids).toEqual(ids);
      for (const [id, row] of rows) expect(table.rowOf(id)).toBe(row);
      for (let i = 0; i < 50; i++) expect(table.rowOf(`missing-${i}`)).toBeUndefined();
    }
  });
});
