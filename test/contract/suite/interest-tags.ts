/**
 * Contract: setInterestTags, the compare-and-set that writes the interests tag of items only when
 * their vector is still the one the interests were computed from.
 */
import { describe, expect, it } from "vitest";
import type { FieldSpec, InterestSpec } from "../../../src/domain/schema.js";
import { num, tags, text } from "../../support/field-values.js";
import { tagFilter } from "../../support/filter-builders.js";
import { bits, defaultFields, f32, filterOnly, ids, item, tagField } from "./builders.js";
import type { ContractContext } from "./context.js";

export function describeInterestTags(ctx: ContractContext): void {
  describe("setInterestTags (compare-and-set of the interests tag)", () => {
    const { store, createIndex } = ctx;

    const interests: InterestSpec = { categoryNames: ["a", "b"], threshold: 0.4, tagField: "interests" };
    const fieldsWithTag = (): FieldSpec[] => [...defaultFields(2, "L2"), tagField("interests")];

    it("writes only the tag field, removing it when the tags are empty", async () => {
      const spec = await createIndex("tagset", fieldsWithTag(), interests);
      const a = item("a", [1, 2], { descr: text("keep me"), labels: tags("x"), time: num(5), interests: tags("old") });
      const b = item("b", [3, 4], { labels: tags("y") });
      const c = item("c", [5, 6], { interests: tags("a") });
      await store.upsert(spec.name, [a, b, c]);
      const read = await store.getItems(spec.name, ["a", "b", "c"], { includeVectors: true });
      const written = await store.setInterestTags(
        spec.name,
        [
          { id: "a", basedOnVector: read[0]?.vector ?? f32([]), tags: ["a", "b"] },
          { id: "b", basedOnVector: read[1]?.vector ?? f32([]), tags: ["b"] },
          { id: "c", basedOnVector: read[2]?.vector ?? f32([]), tags: [] },
        ],
        "interests",
      );
      expect(written).toBe(3);
      const [a2, b2, c2] = await store.getItems(spec.name, ["a", "b", "c"], { includeVectors: true });
      expect(a2?.fields).toEqual({ ...a.fields, interests: tags("a", "b") });
      expect(bits(a2?.vector)).toEqual(bits(a.vector));
      expect(b2?.fields).toEqual({ labels: tags("y"), interests: tags("b") });
      expect(c2?.fields).toEqual({});
      expect(bits(c2?.vector)).toEqual(bits(c.vector));
      // The index follows: filters see the new tags, and the old ones are gone.
      expect(ids(await store.search(spec.name, filterOnly(tagFilter("interests", "b"), 10)))).toEqual(["a", "b"]);
      expect((await store.search(spec.name, filterOnly(tagFilter("interests", "old"), 10))).totalMatches).toBe(0);
      expect((await store.search(spec.name, filterOnly(tagFilter("interests", "a"), 10))).totalMatches).toBe(1);
      expect((await store.getIndex(spec.name)).itemCount).toBe(3);
    });

    it("skips an item upserted with another vector after it was read: the new version stays whole", async () => {
      const spec = await createIndex("tagrace", fieldsWithTag(), interests);
      await store.upsert(spec.name, [item("a", [1, 0], { labels: tags("x") }), item("z", [0, 0])]);
      const [read] = await store.getItems(spec.name, ["a"], { includeVectors: true });
      // A client's upsert lands between the read and the write-back.
      const newer = item("a", [1, 0.5], { descr: text("newer"), interests: tags("b") });
      await store.upsert(spec.name, [newer]);
      const written = await store.setInterestTags(
        spec.name,
        [
          { id: "a", basedOnVector: read?.vector ?? f32([]), tags: ["a"] },
          // Bit-identical means bit-identical: -0 is not the stored 0.
          { id: "z", basedOnVector: f32([-0, 0]), tags: ["a"] },
        ],
        "interests",
      );
      expect(written).toBe(0);
      const [a, z] = await store.getItems(spec.name, ["a", "z"], { includeVectors: true });
      expect(a?.fields).toEqual(newer.fields);
      expect(bits(a?.vector)).toEqual(bits(newer.vector));
      expect(z?.fields).toEqual({});
      expect(ids(await store.search(spec.name, filterOnly(tagFilter("interests", "a"), 10)))).toEqual([]);
    });

    it("writes the tag of an item rewritten with the same vector, keeping its new fields", async () => {
      const spec = await createIndex("tagsame", fieldsWithTag(), interests);
      await store.upsert(spec.name, [item("a", [0.5, 0.25], { labels: tags("x") })]);
      const [read] = await store.getItems(spec.name, ["a"], { includeVectors: true });
      await store.upsert(spec.name, [item("a", [0.5, 0.25], { time: num(7) })]);
      expect(
        await store.setInterestTags(spec.name, [{ id: "a", basedOnVector: read?.vector ?? f32([]), tags: ["a"] }], "interests"),
      ).toBe(1);
      const [a] = await store.getItems(spec.name, ["a"], { includeVectors: false });
      expect(a?.fields).toEqual({ time: num(7), interests: tags("a") });
    });

    it("skips deleted and unknown items without creating them", async () => {
      const spec = await createIndex("tagdel", fieldsWithTag(), interests);
      await store.upsert(spec.name, [item("a", [1, 1]), item("b", [2, 2])]);
      const read = await store.getItems(spec.name, ["a", "b"], { includeVectors: true });
      expect(await store.deleteItems(spec.name, ["a"])).toBe(1);
      const written = await store.setInterestTags(
        spec.name,
        [
          { id: "a", basedOnVector: read[0]?.vector ?? f32([]), tags: ["a"] },
          { id: "never", basedOnVector: f32([1, 1]), tags: ["a"] },
          { id: "b", basedOnVector: read[1]?.vector ?? f32([]), tags: ["b"] },
        ],
        "interests",
      );
      expect(written).toBe(1);
      expect(await store.getItems(spec.name, ["a", "never", "b"], { includeVectors: false })).toEqual([
        undefined,
        undefined,
        { id: "b", fields: { interests: tags("b") } },
      ]);
      expect((await store.getIndex(spec.name)).itemCount).toBe(1);
      expect(await store.setInterestTags(spec.name, [], "interests")).toBe(0);
    });
  });
}
