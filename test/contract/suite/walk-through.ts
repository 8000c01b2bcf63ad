/**
 * Contract: the blog's recommendation flow end to end (users with interests, label queries, nearest
 * readers).
 */
import { describe, expect, it } from "vitest";
import type { InterestSpec } from "../../../src/domain/schema.js";
import { num, tags, text } from "../../support/field-values.js";
import { not, range, tagFilter } from "../../support/filter-builders.js";
import { defaultFields, expectClose, expectedDistance, filterOnly, ids, item, knn, sortedBy, tagField } from "./builders.js";
import type { ContractContext } from "./context.js";

export function describeWalkThrough(ctx: ContractContext): void {
  describe("walk-through (the blog's recommendation flow)", () => {
    const { store, createIndex } = ctx;

    it("stores users with interests, queries by labels, and finds the 2 nearest book readers", async () => {
      const interests: InterestSpec = { categoryNames: ["books", "comics", "computers"], threshold: 0.4, tagField: "interests" };
      const spec = await createIndex("walk", [...defaultFields(3), tagField("interests")], interests);
      const users: [string, string, string[], number, number[], string[]][] = [
        ["1", "loves fantasy novels and manga", ["books", "comics"], 1700000000, [0.9, 0.7, 0.2], ["books", "comics"]],
        ["2", "builds gaming computers", ["computers"], 1700000100, [0.1, 0.2, 0.9], ["computers"]],
        ["3", "reads books and comics on the train", ["books", "comics"], 1700000200, [0.8, 0.6, 0.3], ["books", "comics"]],
        ["4", "collects vintage comics", ["comics"], 1700000300, [0.3, 0.9, 0.1], ["comics"]],
        ["5", "enjoys books comics and computers equally", ["books", "comics", "computers"], 1700000400, [0.5, 0.5, 0.5], ["books", "comics", "computers"]],
      ];
      await store.upsert(
        spec.name,
        users.map(([id, descr, labels, time, vector, likes]) =>
          item(id, vector, { descr: text(descr), labels: tags(...labels), time: num(time), interests: tags(...likes) }),
        ),
      );
      expect((await store.getIndex(spec.name)).itemCount).toBe(5);

      const books = await store.search(spec.name, filterOnly(tagFilter("labels", "books"), 10));
      expect(ids(books)).toEqual(["1", "3", "5"]);
      expect(books.totalMatches).toBe(3);
      expect(books.hits[0]?.item.fields).toEqual({
        descr: text("loves fantasy novels and manga"),
        labels: tags("books", "comics"),
        time: num(1700000000),
        interests: tags("books", "comics"),
      });

      const query = [0.9, 0.7, 0.2];
      const nearest = await store.search(spec.name, knn(query, 2, { filter: tagFilter("labels", "books") }));
      expect(ids(nearest)).toEqual(["1", "3"]);
      expect(nearest.totalMatches).toBe(2);
      expectClose(nearest.hits[0]?.distance ?? NaN, expectedDistance("COSINE", [0.9, 0.7, 0.2], query));
      expectClose(nearest.hits[1]?.distance ?? NaN, expectedDistance("COSINE", [0.8, 0.6, 0.3], query));

      const fans = await store.search(spec.name, filterOnly(tagFilter("interests", "computers"), 10));
      expect(ids(fans)).toEqual(["2", "5"]);

      const noComputers = await store.search(
        spec.name,
        knn([0.1, 0.2, 0.9], 3, { filter: not(tagFilter("labels", "computers")), returnFields: ["labels"] }),
      );
      const expectedOrder = ["1", "3", "4"]
        .map((id) => ({ id, d: expectedDistance("COSINE", users.find((u) => u[0] === id)?.[4] ?? [], [0.1, 0.2, 0.9]) }))
        .sort((a, b) => a.d - b.d)
        .map((x) => x.id);
      expect(ids(noComputers)).toEqual(expectedOrder);
      expect(noComputers.hits.map((h) => Object.keys(h.item.fields))).toEqual([["labels"], ["labels"], ["labels"]]);

      const window = await store.search(spec.name, knn(query, 3, { filter: range("time", 1700000100, 1700000300) }));
      expect(sortedBy(ids(window), (x) => x)).toEqual(["2", "3", "4"]);
    });
  });
}
