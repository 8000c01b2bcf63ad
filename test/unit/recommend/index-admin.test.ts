import { beforeEach, describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  IndexNotFoundError,
  InvalidArgumentError,
  type FieldViolation,
} from "../../../src/domain/errors.js";
import { defaultIndexSpec } from "../../../src/domain/index-spec.js";
import type { FieldValue } from "../../../src/domain/item.js";
import { createIndexAdmin, INTEREST_RECOMPUTE_BATCH } from "../../../src/recommend/index-admin.js";
import { createItemService } from "../../../src/recommend/items.js";
import { createEmbeddedStore } from "../../../src/store/embedded/embedded-store.js";
import type { VectorStore } from "../../../src/store/vector-store.js";

const v = (...values: number[]): Float32Array => Float32Array.from(values);
const tags = (...values: string[]): FieldValue => ({ type: "tag", values });

async function violationsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidArgumentError);
  return (error as InvalidArgumentError).violations.map((x: FieldViolation) => x.field);
}

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
    expect(await violationsOf(admin.createIndex({ name: "1", fields: [], defaultVectorDimension: 0 }))).toEqual([
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
    expect(await violationsOf(admin.getIndex("no spaces"))).toEqual(["index_name"]);
    expect(await violationsOf(admin.dropIndex("", false))).toEqual(["index_name"]);
    expect(await violationsOf(admin.updateInterests("a/b", undefined))).toEqual(["index_name"]);
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
    expect(await violationsOf(admin.updateInterests("users", { categoryNames: ["a", "b"], tagField: "" }))).toEqual([
      "interests.category_names",
    ]);
    expect(await violationsOf(admin.updateInterests("users", { categoryNames: ["a", "b", "c"], tagField: "time" }))).toEqual([
      "interests.tag_field",
    ]);
    await admin.updateInterests("users", { categoryNames: ["a", "b", "c"], tagField: "likes" });
    expect(await violationsOf(admin.updateInterests("users", { categoryNames: ["a", "b", "c"], tagField: "other" }))).toEqual([
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
