/**
 * Contract: every method on an index that does not exist throws IndexNotFoundError naming it.
 */
import { describe, expect, it } from "vitest";
import { IndexNotFoundError } from "../../../src/domain/errors.js";
import type { InterestSpec } from "../../../src/domain/schema.js";
import { ALL } from "../../support/filter-builders.js";
import { expectIndexNotFound, f32, filterOnly, item, knn } from "./builders.js";
import type { ContractContext } from "./context.js";

export function describeUnknownIndex(ctx: ContractContext): void {
  describe("unknown index", () => {
    const { store, freshName } = ctx;

    it("throws IndexNotFoundError from every method", async () => {
      const missing = freshName("missing");
      const interests: InterestSpec = { categoryNames: ["a", "b"], threshold: 0.4, tagField: "interests" };
      await expectIndexNotFound(store.getIndex(missing));
      await expectIndexNotFound(store.dropIndex(missing, { deleteItems: false }));
      await expectIndexNotFound(store.dropIndex(missing, { deleteItems: true }));
      await expectIndexNotFound(store.setInterests(missing, interests));
      await expectIndexNotFound(store.setInterests(missing, undefined));
      await expectIndexNotFound(store.upsert(missing, [item("a", [1, 0])]));
      await expectIndexNotFound(store.getItems(missing, ["a"], { includeVectors: false }));
      await expectIndexNotFound(store.deleteItems(missing, ["a"]));
      await expectIndexNotFound(store.setInterestTags(missing, [{ id: "a", basedOnVector: f32([1, 0]), tags: ["a"] }], "interests"));
      await expectIndexNotFound(
        (async () => {
          for await (const batch of store.scanItems(missing, 10)) expect(batch).toBeUndefined();
        })(),
      );
      await expectIndexNotFound(store.search(missing, knn([1, 0], 1)));
      await expectIndexNotFound(store.search(missing, filterOnly(ALL, 1)));
      await expectIndexNotFound(store.recordInteractions(missing, [{ userId: "u", itemId: "a", kind: "view", weight: 1, occurredAtMs: 1 }]));
      await expectIndexNotFound(store.getInteractions(missing, "u", { offset: 0, limit: 1 }));
      await expectIndexNotFound(store.getInteractionsOfUsers(missing, ["u"]));
    });

    it("names the index in the error", async () => {
      const missing = freshName("named");
      const error: unknown = await store.getIndex(missing).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(IndexNotFoundError);
      expect((error as IndexNotFoundError).indexName).toBe(missing);
    });
  });
}
