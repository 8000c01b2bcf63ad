import { beforeEach, describe, expect, it } from "vitest";
import { IndexNotFoundError } from "../../../src/domain/errors.js";
import { createIndexAdmin } from "../../../src/usecases/index-admin.js";
import { createItemService, type ItemInput } from "../../../src/usecases/items.js";
import { createEmbeddedStore } from "../../../src/store/embedded/embedded-store.js";
import type { VectorStore } from "../../../src/store/vector-store.js";
import { num, tags, text } from "../../support/field-values.js";
import { violationsOf } from "../../support/violations.js";

const v = (...values: number[]): Float32Array => Float32Array.from(values);

describe("item service", () => {
  let store: VectorStore;
  let items: ReturnType<typeof createItemService>;

  beforeEach(async () => {
    store = createEmbeddedStore();
    items = createItemService(store);
    const admin = createIndexAdmin(store);
    await admin.createIndex({ name: "things", fields: [], defaultVectorDimension: 3 });
    await admin.createIndex({
      name: "users",
      fields: [],
      defaultVectorDimension: 3,
      interests: { categoryNames: ["books", "comics", "computers"], tagField: "" },
    });
  });

  it("writes items and reads them back in request order, listing missing ids", async () => {
    const written = await items.upsert("things", [
      { id: "a", vector: v(1, 0, 0), fields: { descr: text("red apple"), labels: tags("fruit", "red"), time: num(5) } },
      { id: "b", vector: v(0, 1, 0), fields: {} },
    ]);
    expect(written).toBe(2);
    const read = await items.getItems("things", ["b", "nope", "a"], true);
    expect(read.missingIds).toEqual(["nope"]);
    expect(read.items.map((item) => item.id)).toEqual(["b", "a"]);
    expect(read.items[1]?.fields).toEqual({ descr: text("red apple"), labels: tags("fruit", "red"), time: num(5) });
    expect(Array.from(read.items[1]?.vector ?? [])).toEqual([1, 0, 0]);
    const withoutVectors = await items.getItems("things", ["a"], false);
    expect(withoutVectors.items[0]?.vector).toBeUndefined();
  });

  it("replaces items whole", async () => {
    await items.upsert("things", [{ id: "a", vector: v(1, 0, 0), fields: { labels: tags("x"), time: num(1) } }]);
    await items.upsert("things", [{ id: "a", vector: v(0, 0, 1), fields: { time: num(2) } }]);
    const [item] = (await items.getItems("things", ["a"], true)).items;
    expect(item?.fields).toEqual({ time: num(2) });
    expect(Array.from(item?.vector ?? [])).toEqual([0, 0, 1]);
  });

  it("trims tags and drops empty tag lists", async () => {
    await items.upsert("things", [{ id: "a", vector: v(1, 0, 0), fields: { labels: tags(" x ", "y"), descr: text("") } }]);
    await items.upsert("things", [{ id: "b", vector: v(1, 0, 0), fields: { labels: tags() } }]);
    const read = await items.getItems("things", ["a", "b"], false);
    expect(read.items[0]?.fields).toEqual({ labels: tags("x", "y"), descr: text("") });
    expect(read.items[1]?.fields).toEqual({});
  });

  it("derives the interests tag from the vector", async () => {
    await items.upsert("users", [
      { id: "u1", vector: v(0.9, 0.1, 0.5), fields: { labels: tags("vip") } },
      { id: "u2", vector: v(0.4, 0.3, 0.2), fields: {} },
    ]);
    const read = await items.getItems("users", ["u1", "u2"], false);
    expect(read.items[0]?.fields).toEqual({ labels: tags("vip"), interests: tags("books", "computers") });
    // 0.4 is not strictly above the 0.4 threshold: no interests, no field.
    expect(read.items[1]?.fields).toEqual({});
  });

  it("rejects a bad batch whole, naming every bad field, and writes nothing", async () => {
    const batch: ItemInput[] = [
      { id: "good", vector: v(1, 2, 3), fields: {} },
      { id: "", vector: v(1, 2, 3), fields: {} },
      { id: "short", vector: v(1, 2), fields: {} },
      { id: "nan", vector: v(1, Number.NaN, 3), fields: {} },
      { id: "novec", vector: undefined, fields: {} },
      { id: "good", vector: v(1, 2, 3), fields: {} },
      { id: "f1", vector: v(1, 2, 3), fields: { nope: text("x") } },
      { id: "f2", vector: v(1, 2, 3), fields: { labels: text("x") } },
      { id: "f3", vector: v(1, 2, 3), fields: { time: num(Number.POSITIVE_INFINITY) } },
      { id: "f4", vector: v(1, 2, 3), fields: { labels: tags("a,b") } },
      { id: "f5", vector: v(1, 2, 3), fields: { labels: tags("ok", "  ") } },
      { id: "f6", vector: v(1, 2, 3), fields: { vec: num(1) } },
      { id: "f7", vector: v(1, 2, 3), fields: { descr: num(1) } },
      { id: "c\u0000", vector: v(1, 2, 3), fields: {} },
    ];
    const violations = await violationsOf(items.upsert("things", batch));
    expect(violations.map((x) => x.field)).toEqual([
      "items[1].id",
      "items[2].vector",
      "items[3].vector",
      "items[4].vector",
      "items[6].fields.nope",
      "items[7].fields.labels",
      "items[8].fields.time",
      "items[9].fields.labels",
      "items[10].fields.labels",
      "items[11].fields.vec",
      "items[12].fields.descr",
      "items[13].id",
      "items[5].id",
    ]);
    expect(violations.find((x) => x.field === "items[5].id")?.description).toMatch(/items\[0\]\.id/);
    expect((await items.getItems("things", ["good"], false)).missingIds).toEqual(["good"]);
  });

  it("refuses writes to the interests tag field", async () => {
    const violations = await violationsOf(
      items.upsert("users", [{ id: "u", vector: v(1, 0, 0), fields: { interests: tags("books") } }]),
    );
    expect(violations.map((x) => x.field)).toEqual(["items[0].fields.interests"]);
  });

  it("bounds the batch size", async () => {
    expect((await violationsOf(items.upsert("things", []))).map((x) => x.field)).toEqual(["items"]);
    const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ id: `i${i}`, vector: v(1, 0, 0), fields: {} }));
    expect((await violationsOf(items.upsert("things", tooMany))).map((x) => x.field)).toEqual(["items"]);
  });

  it("reports every violation of a large batch (the transport caps what it sends)", async () => {
    const bad = Array.from({ length: 500 }, (_, i) => ({ id: `i${i}`, vector: v(1), fields: {} }));
    const violations = await violationsOf(items.upsert("things", bad));
    expect(violations.map((x) => x.field)).toEqual(bad.map((_, i) => `items[${i}].vector`));
  });

  it("validates the index name and reports unknown indexes", async () => {
    expect((await violationsOf(items.upsert("bad name", [{ id: "a", vector: v(1, 0, 0), fields: {} }]))).map((x) => x.field)).toEqual([
      "index_name",
    ]);
    await expect(items.upsert("missing", [{ id: "a", vector: v(1, 0, 0), fields: {} }])).rejects.toBeInstanceOf(
      IndexNotFoundError,
    );
    await expect(items.getItems("missing", ["a"], false)).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(items.deleteItems("missing", ["a"])).rejects.toBeInstanceOf(IndexNotFoundError);
  });

  it("validates ids of reads and deletes", async () => {
    expect((await violationsOf(items.getItems("things", [], false))).map((x) => x.field)).toEqual(["ids"]);
    expect((await violationsOf(items.deleteItems("things", ["ok", "x".repeat(257)]))).map((x) => x.field)).toEqual([
      "ids[1]",
    ]);
  });

  it("deletes items and counts only those that existed", async () => {
    await items.upsert("things", [
      { id: "a", vector: v(1, 0, 0), fields: {} },
      { id: "b", vector: v(0, 1, 0), fields: {} },
    ]);
    expect(await items.deleteItems("things", ["a", "zzz"])).toBe(1);
    expect((await items.getItems("things", ["a", "b"], false)).missingIds).toEqual(["a"]);
  });

  it("sees an index dropped and recreated with another dimension at once (same process)", async () => {
    const admin = createIndexAdmin(store);
    await items.upsert("things", [{ id: "a", vector: v(1, 0, 0), fields: {} }]);
    await admin.dropIndex("things", true);
    await expect(items.upsert("things", [{ id: "a", vector: v(1, 0, 0), fields: {} }])).rejects.toBeInstanceOf(
      IndexNotFoundError,
    );
    await admin.createIndex({ name: "things", fields: [], defaultVectorDimension: 2 });
    expect(await items.upsert("things", [{ id: "a", vector: v(1, 0), fields: {} }])).toBe(1);
  });
});
