import { beforeEach, describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  IndexNotFoundError,
} from "../../../src/domain/errors.js";
import { defaultIndexSpec } from "../../../src/domain/index-spec.js";
import type { FieldValue } from "../../../src/domain/item.js";
import { createIndexAdmin, INTEREST_RECOMPUTE_BATCH } from "../../../src/usecases/index-admin.js";
import { createItemService } from "../../../src/usecases/items.js";
import { createEmbeddedStore } from "../../../src/store/embedded/embedded-store.js";
import { createRedisStore } from "../../../src/store/redis/redis-store.js";
import type { VectorStore } from "../../../src/store/vector-store.js";
import { startRedisStandIn } from "../../support/redis-standin/index.js";
import { tags } from "../../support/field-values.js";
import { violatedFields } from "../../support/violations.js";

const v = (...values: number[]): Float32Array => Float32Array.from(values);

describe("index admin", () => {
  let store: VectorStore;
  let admin: ReturnType<typeof createIndexAdmin>;

  beforeEach(() => {
    store = createEmbeddedStore();
    admin = createIndexAdmin(store);
  });

  it("creates an index with the default schema, idempotently", async () => {
    const first = await admin.createIndex({ name: "users", fields: [], defaultVectorDimension: 4 });
    expect(first.created).toBe(true);
    expect(first.info.spec).toEqual(defaultIndexSpec("users", 4));
    const again = await admin.createIndex({ name: "users", fields: [], defaultVectorDimension: 4 });
    expect(again.created).toBe(false);
    expect(again.info.spec).toEqual(first.info.spec);
  });

  it("treats an explicit schema equal to the defaults as the same index", async () => {
    await admin.createIndex({ name: "users", fields: [], defaultVectorDimension: 2 });
    const again = await admin.createIndex({
      name: "users",
      fields: [
        { name: "descr", type: "text", weight: 1 },
        { name: "labels", type: "tag", separator: ",", caseSensitive: false },
        { name: "time", type: "numeric" },
        { name: "vec", type: "vector", dimension: 2, algorithm: "FLAT", metric: "COSINE", elementType: "FLOAT32" },
      ],
      defaultVectorDimension: 0,
    });
    expect(again.created).toBe(false);
  });

  it("refuses another schema under the same name", async () => {
    await admin.createIndex({ name: "users", fields: [], defaultVectorDimension: 4 });
    await expect(admin.createIndex({ name: "users", fields: [], defaultVectorDimension: 5 })).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
  });

  it("rejects an invalid spec with field paths", async () => {
    expect(await violatedFields(admin.createIndex({ name: "1", fields: [], defaultVectorDimension: 0 }))).toEqual([
      "index_name",
      "default_vector_dimension",
    ]);
    expect(await store.listIndexes()).toEqual([]);
  });

  it("gets, lists (by name) and drops indexes", async () => {
    await admin.createIndex({ name: "b", fields: [], defaultVectorDimension: 2 });
    await admin.createIndex({ name: "a", fields: [], defaultVectorDimension: 3 });
    expect((await admin.getIndex("a")).spec).toEqual(defaultIndexSpec("a", 3));
    expect((await admin.listIndexes()).map((info) => info.spec.name)).toEqual(["a", "b"]);
    await admin.dropIndex("a", true);
    await expect(admin.getIndex("a")).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(admin.dropIndex("a", true)).rejects.toBeInstanceOf(IndexNotFoundError);
    expect((await admin.listIndexes()).map((info) => info.spec.name)).toEqual(["b"]);
  });

  it("validates index names on reads and drops", async () => {
    expect(await violatedFields(admin.getIndex("no spaces"))).toEqual(["index_name"]);
    expect(await violatedFields(admin.dropIndex("", false))).toEqual(["index_name"]);
    expect(await violatedFields(admin.updateInterests("a/b", undefined))).toEqual(["index_name"]);
  });
});

describe("index admin: updateInterests", () => {
  let store: VectorStore;
  let admin: ReturnType<typeof createIndexAdmin>;
  let items: ReturnType<typeof createItemService>;

  beforeEach(async () => {
    store = createEmbeddedStore();
    admin = createIndexAdmin(store);
    items = createItemService(store);
    await admin.createIndex({ name: "users", fields: [], defaultVectorDimension: 3 });
    await items.upsert("users", [
      { id: "u1", vector: v(0.9, 0.1, 0.5), fields: { labels: tags("vip") } },
      { id: "u2", vector: v(0.1, 0.8, 0.1), fields: {} },
      { id: "u3", vector: v(0, 0, 0.2), fields: {} },
    ]);
  });

  const fieldsOf = async (id: string): Promise<Record<string, FieldValue> | undefined> =>
    (await items.getItems("users", [id], false)).items[0]?.fields;

  it("adds interests and recomputes every item", async () => {
    const result = await admin.updateInterests("users", { categoryNames: ["books", "comics", "computers"], tagField: "" });
    expect(result.itemsUpdated).toBe(3);
    expect(result.info.spec.interests).toEqual({
      categoryNames: ["books", "comics", "computers"],
      threshold: 0.4,
      tagField: "interests",
    });
    expect(result.info.spec.fields.at(-1)).toEqual({ name: "interests", type: "tag", separator: ",", caseSensitive: false });
    expect(await fieldsOf("u1")).toEqual({ labels: tags("vip"), interests: tags("books", "computers") });
    expect(await fieldsOf("u2")).toEqual({ interests: tags("comics") });
    expect(await fieldsOf("u3")).toEqual({});
    // New upserts use the new interests at once (the spec cache was refreshed).
    await items.upsert("users", [{ id: "u4", vector: v(0, 0, 1), fields: {} }]);
    expect(await fieldsOf("u4")).toEqual({ interests: tags("computers") });
  });

  it("leaves no recompute marked once it finished, and finishes one a stopped process left (from the definition now, a removal included)", async () => {
    await admin.updateInterests("users", { categoryNames: ["books", "comics", "computers"], tagField: "" });
    expect(await store.pendingInterestRecomputes()).toEqual(new Map());
    // What a crash right after the new definition leaves: the definition and its mark, items untouched.
    const lower = { categoryNames: ["books", "comics", "computers"], threshold: 0.15, tagField: "interests" };
    await store.setInterests("users", lower, { recomputeTagField: "interests" });
    expect(await fieldsOf("u3")).toEqual({});
    expect(await store.pendingInterestRecomputes()).toEqual(new Map([["users", "interests"]]));
    const finished: [string, number][] = [];
    await admin.resumeInterestRecomputes((index, count) => finished.push([index, count]));
    expect(finished).toEqual([["users", 3]]);
    expect(await fieldsOf("u3")).toEqual({ interests: tags("computers") });
    expect(await store.pendingInterestRecomputes()).toEqual(new Map());
    // A removal cut short: the tag field is emptied.
    await store.setInterests("users", undefined, { recomputeTagField: "interests" });
    await admin.resumeInterestRecomputes(() => undefined);
    expect(await fieldsOf("u1")).toEqual({ labels: tags("vip") });
    // A mark of an index dropped since is cleared.
    await store.setInterests("users", lower, { recomputeTagField: "interests" });
    await store.dropIndex("users", { deleteItems: true });
    await admin.resumeInterestRecomputes(() => undefined);
    expect(await store.pendingInterestRecomputes()).toEqual(new Map());
  });

  it("changes the threshold and removes interests, keeping the tag field emptied", async () => {
    await admin.updateInterests("users", { categoryNames: ["books", "comics", "computers"], tagField: "" });
    const lower = await admin.updateInterests("users", {
      categoryNames: ["books", "comics", "computers"],
      threshold: 0.15,
      tagField: "",
    });
    expect(lower.itemsUpdated).toBe(3);
    expect(await fieldsOf("u3")).toEqual({ interests: tags("computers") });
    expect(await fieldsOf("u1")).toEqual({ labels: tags("vip"), interests: tags("books", "computers") });

    const removed = await admin.updateInterests("users", undefined);
    expect(removed.itemsUpdated).toBe(3);
    expect(removed.info.spec.interests).toBeUndefined();
    expect(removed.info.spec.fields.map((f) => f.name)).toContain("interests");
    expect(await fieldsOf("u1")).toEqual({ labels: tags("vip") });
    expect(await fieldsOf("u2")).toEqual({});
  });

  it("does nothing to items when an index without interests stays without", async () => {
    expect((await admin.updateInterests("users", undefined)).itemsUpdated).toBe(0);
    expect(await fieldsOf("u1")).toEqual({ labels: tags("vip") });
  });

  it("validates the new interests against the index", async () => {
    expect(await violatedFields(admin.updateInterests("users", { categoryNames: ["a", "b"], tagField: "" }))).toEqual([
      "interests.category_names",
    ]);
    expect(await violatedFields(admin.updateInterests("users", { categoryNames: ["a", "b", "c"], tagField: "time" }))).toEqual([
      "interests.tag_field",
    ]);
    await admin.updateInterests("users", { categoryNames: ["a", "b", "c"], tagField: "likes" });
    expect(await violatedFields(admin.updateInterests("users", { categoryNames: ["a", "b", "c"], tagField: "other" }))).toEqual([
      "interests.tag_field",
    ]);
    await expect(admin.updateInterests("nope", undefined)).rejects.toBeInstanceOf(IndexNotFoundError);
  });

  it("recomputes indexes larger than one scan batch", async () => {
    const count = INTEREST_RECOMPUTE_BATCH * 2 + 7;
    await items.upsert(
      "users",
      Array.from({ length: count }, (_, i) => ({ id: `bulk${i}`, vector: v(i % 2, 1 - (i % 2), 0), fields: {} })),
    );
    const result = await admin.updateInterests("users", { categoryNames: ["a", "b", "c"], tagField: "" });
    expect(result.itemsUpdated).toBe(count + 3);
    expect(await fieldsOf("bulk0")).toEqual({ interests: tags("b") });
    // Odd ids have vector (1, 0, 0), even ids (0, 1, 0).
    expect(await fieldsOf(`bulk${count - 2}`)).toEqual({ interests: tags("a") });
    expect(await fieldsOf(`bulk${count - 1}`)).toEqual({ interests: tags("b") });
  });
});

/** `store` with its scanItems replaced (every other method forwarded, bound to `store`). */
function withScan(store: VectorStore, scanItems: VectorStore["scanItems"]): VectorStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === "scanItems") return scanItems;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const backends: Record<string, () => Promise<{ store: VectorStore; cleanup: () => Promise<void> }>> = {
  embedded: () => {
    const store = createEmbeddedStore();
    return Promise.resolve({ store, cleanup: () => store.close() });
  },
  "redis (stand-in)": async () => {
    const standIn = await startRedisStandIn();
    const store = await createRedisStore({ url: standIn.url });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await standIn.close();
      },
    };
  },
};

for (const [backend, open] of Object.entries(backends)) {
  describe(`index admin: updateInterests racing client writes (${backend})`, () => {
    it("keeps an upsert and a delete acknowledged between the scan and the write-back of their batch", async () => {
      const { store: inner, cleanup } = await open();
      try {
        // The client's writes, run once: after the scan read the batch, before updateInterests writes it back.
        let interleave: (() => Promise<void>) | undefined;
        const store = withScan(inner, (index, batchSize) => ({
          async *[Symbol.asyncIterator]() {
            for await (const batch of inner.scanItems(index, batchSize)) {
              const writes = interleave;
              interleave = undefined;
              if (writes !== undefined) await writes();
              yield batch;
            }
          },
        }));
        const admin = createIndexAdmin(store);
        const items = createItemService(store);
        await admin.createIndex({ name: "race", fields: [], defaultVectorDimension: 3 });
        await items.upsert("race", [
          { id: "u1", vector: v(0.9, 0.1, 0.5), fields: { labels: tags("vip") } },
          { id: "u2", vector: v(0.1, 0.8, 0.1), fields: {} },
          { id: "u3", vector: v(0, 0, 0.9), fields: {} },
        ]);
        interleave = async () => {
          expect(await items.upsert("race", [{ id: "u1", vector: v(0.1, 0.9, 0), fields: { labels: tags("new") } }])).toBe(1);
          expect(await items.deleteItems("race", ["u2"])).toBe(1);
        };

        const result = await admin.updateInterests("race", { categoryNames: ["books", "comics", "computers"], tagField: "" });
        expect(interleave).toBeUndefined(); // the client's writes did run mid-recompute
        expect(result.itemsUpdated).toBe(3);

        const { items: found, missingIds } = await items.getItems("race", ["u1", "u2", "u3"], true);
        // The acknowledged upsert is intact (vector and fields), with the interests it derived itself ...
        expect(found[0]?.id).toBe("u1");
        expect(Array.from(found[0]?.vector ?? [])).toEqual(Array.from(v(0.1, 0.9, 0)));
        expect(found[0]?.fields).toEqual({ labels: tags("new"), interests: tags("comics") });
        // ... the acknowledged delete stays a delete ...
        expect(missingIds).toEqual(["u2"]);
        // ... and the untouched item got its interests.
        expect(found[1]?.fields).toEqual({ interests: tags("computers") });
      } finally {
        await cleanup();
      }
    });
  });
}
