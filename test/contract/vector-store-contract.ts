/**
 * The VectorStore contract: one suite every backend must pass (the embedded engine, the Redis backend
 * against the RESP stand-in, and a real Redis when VECREC_TEST_REDIS_URL is set).
 *
 * Every test creates its own uniquely named index (and drops it afterwards), so the suite can run
 * against a shared Redis. Expected distances are computed here in float64 from the float32 inputs,
 * independently of src/domain/vector.ts, and compared within 1e-6 (absolute or relative).
 * Only behaviour Redis itself has is asserted: text matching uses stemming and stop words, tag matching
 * is case-insensitive (unless CASESENSITIVE) and trims values.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlreadyExistsError, IndexNotFoundError, VecrecError } from "../../src/domain/errors.js";
import type { FilterNode } from "../../src/domain/filter.js";
import type { Interaction, InteractionKind } from "../../src/domain/interaction.js";
import type { FieldValue, FieldValues, Item } from "../../src/domain/item.js";
import type {
  DistanceMetric,
  FieldSpec,
  IndexSpec,
  InterestSpec,
  MetadataFieldSpec,
  VectorAlgorithm,
  VectorFieldSpec,
} from "../../src/domain/schema.js";
import type { SearchQuery, SearchResult, VectorStore } from "../../src/store/vector-store.js";
import { referenceDistance } from "../support/reference-distance.js";

export interface ContractStoreHandle {
  store: VectorStore;
  cleanup(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Builders (IndexSpec literals are already normalised: every default filled in).

const text = (name: string): MetadataFieldSpec => ({ name, type: "text", weight: 1 });
const tag = (name: string, options: { separator?: string; caseSensitive?: boolean } = {}): MetadataFieldSpec => ({
  name,
  type: "tag",
  separator: options.separator ?? ",",
  caseSensitive: options.caseSensitive ?? false,
});
const numeric = (name: string): MetadataFieldSpec => ({ name, type: "numeric" });
function vectorSpec(
  dimension: number,
  metric: DistanceMetric = "COSINE",
  algorithm: VectorAlgorithm = "FLAT",
  name = "vec",
): VectorFieldSpec {
  return algorithm === "HNSW"
    ? { name, type: "vector", dimension, algorithm, metric, elementType: "FLOAT32", hnsw: { m: 16, efConstruction: 200, efRuntime: 10 } }
    : { name, type: "vector", dimension, algorithm, metric, elementType: "FLOAT32" };
}

/** The proto's default schema: descr TEXT, labels TAG, time NUMERIC, vec VECTOR (FLAT, COSINE). */
function defaultFields(dimension: number, metric: DistanceMetric = "COSINE"): FieldSpec[] {
  return [text("descr"), tag("labels"), numeric("time"), vectorSpec(dimension, metric)];
}

const t = (value: string): FieldValue => ({ type: "text", value });
const tags = (...values: string[]): FieldValue => ({ type: "tag", values });
const n = (value: number): FieldValue => ({ type: "numeric", value });
const f32 = (values: readonly number[]): Float32Array => new Float32Array(values);
const item = (id: string, vector: readonly number[], fields: FieldValues = {}): Item => ({ id, vector: f32(vector), fields });

const ALL: FilterNode = { op: "all" };
const tagFilter = (field: string, ...values: string[]): FilterNode => ({ op: "tag", field, values });
const range = (
  field: string,
  min: number,
  max: number,
  minExclusive = false,
  maxExclusive = false,
): FilterNode => ({ op: "numeric", field, min, max, minExclusive, maxExclusive });
const textFilter = (field: string, ...terms: string[]): FilterNode => ({ op: "text", field, terms });
const and = (...children: FilterNode[]): FilterNode => ({ op: "and", children });
const or = (...children: FilterNode[]): FilterNode => ({ op: "or", children });
const not = (child: FilterNode): FilterNode => ({ op: "not", child });

function knn(vector: readonly number[], k: number, extra: Partial<SearchQuery> = {}): SearchQuery {
  return { vector: f32(vector), k, offset: 0, filter: ALL, includeVectors: false, ...extra };
}
function filterOnly(filter: FilterNode, k: number, offset = 0, extra: Partial<SearchQuery> = {}): SearchQuery {
  return { k, offset, filter, includeVectors: false, ...extra };
}

// Independent float64 references for the three metrics (Redis: COSINE 1-cos, IP 1-dot, L2 squared).
function expectedDistance(metric: DistanceMetric, a: readonly number[], b: readonly number[]): number {
  return referenceDistance(metric, f32(a), f32(b));
}

function expectClose(actual: number, expected: number, what = "distance"): void {
  const diff = Math.abs(actual - expected);
  expect(diff <= 1e-6 || diff <= 1e-6 * Math.abs(expected), `${what}: got ${actual}, expected ${expected}`).toBe(true);
}

const ids = (result: SearchResult): string[] => result.hits.map((h) => h.id);

function sortedBy<T>(values: readonly T[], key: (v: T) => string): T[] {
  return [...values].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Bit patterns of a float32 vector, for bit-exact comparisons. */
const bits = (v: Float32Array | undefined): number[] =>
  v === undefined ? [] : Array.from(new Uint32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)));

async function expectIndexNotFound(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(IndexNotFoundError);
}

// ---------------------------------------------------------------------------------------------------

export function describeVectorStoreContract(name: string, makeStore: () => Promise<ContractStoreHandle>): void {
  describe(`VectorStore contract: ${name}`, () => {
    let handle: ContractStoreHandle;
    let store: VectorStore;
    const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    let counter = 0;
    const created = new Set<string>();

    /** A fresh index name, unique across runs (the suite may share a Redis with other runs). */
    function freshName(label: string): string {
      counter += 1;
      return `ct_${runId}_${counter}_${label}`.slice(0, 64);
    }

    /** Creates an index with a fresh name and the given fields (dropped with its items after the suite). */
    async function createIndex(label: string, fields: FieldSpec[], interests?: InterestSpec): Promise<IndexSpec> {
      const spec: IndexSpec = interests === undefined ? { name: freshName(label), fields } : { name: freshName(label), fields, interests };
      const result = await store.createIndex(spec);
      created.add(spec.name);
      expect(result.created).toBe(true);
      return spec;
    }

    /** Polls until a backend that indexes existing data in the background is done (Redis after FT.CREATE). */
    async function waitUntilIndexed(indexName: string): Promise<void> {
      for (let attempt = 0; attempt < 200; attempt++) {
        const info = await store.getIndex(indexName);
        if (!info.indexing) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`index ${indexName} still indexing after 5 s`);
    }

    beforeAll(async () => {
      handle = await makeStore();
      store = handle.store;
    });

    afterAll(async () => {
      if (store !== undefined) {
        for (const indexName of created) {
          try {
            await store.dropIndex(indexName, { deleteItems: true });
          } catch (error) {
            if (!(error instanceof IndexNotFoundError)) throw error;
          }
        }
      }
      await handle?.cleanup();
    });

    // -------------------------------------------------------------------------------------------------
    describe("indexes", () => {
      it("creates an index and describes it", async () => {
        const spec = await createIndex("create", defaultFields(3));
        const info = await store.getIndex(spec.name);
        expect(info.spec).toEqual(spec);
        expect(info.itemCount).toBe(0);
        expect(info.indexingFailures).toBe(0);
      });

      it("round-trips every field type and an HNSW vector spec", async () => {
        const fields: FieldSpec[] = [
          text("title"),
          { name: "body", type: "text", weight: 2.5 },
          tag("codes", { separator: ";" }),
          tag("ctag", { caseSensitive: true }),
          numeric("price"),
          vectorSpec(4, "IP", "HNSW", "embedding"),
        ];
        const spec = await createIndex("types", fields);
        expect((await store.getIndex(spec.name)).spec).toEqual(spec);
      });

      it("is idempotent on an equal spec and refuses another spec under the same name", async () => {
        const spec = await createIndex("idem", defaultFields(3));
        await store.upsert(spec.name, [item("a", [1, 0, 0])]);
        const again = await store.createIndex({ name: spec.name, fields: defaultFields(3) });
        expect(again.created).toBe(false);
        expect(again.info.spec).toEqual(spec);
        expect(again.info.itemCount).toBe(1);
        await expect(store.createIndex({ name: spec.name, fields: defaultFields(4) })).rejects.toBeInstanceOf(
          AlreadyExistsError,
        );
        await expect(store.createIndex({ name: spec.name, fields: defaultFields(3, "L2") })).rejects.toBeInstanceOf(
          AlreadyExistsError,
        );
        // The existing index is untouched.
        expect((await store.getIndex(spec.name)).spec).toEqual(spec);
      });

      it("lists indexes sorted by name", async () => {
        const b = await createIndex("list_b", defaultFields(2));
        const a = await createIndex("list_a", defaultFields(2));
        const listed = (await store.listIndexes()).map((info) => info.spec.name);
        const ours = listed.filter((indexName) => indexName === a.name || indexName === b.name);
        expect(ours).toEqual([a.name, b.name].sort());
        const mine = listed.filter((indexName) => indexName.startsWith(`ct_${runId}_`));
        expect(mine).toEqual(sortedBy(mine, (x) => x));
      });

      it("drops an index and deletes its items and interactions with deleteItems", async () => {
        const spec = await createIndex("dropdel", defaultFields(2));
        await store.upsert(spec.name, [item("a", [1, 0]), item("b", [0, 1])]);
        await store.recordInteractions(spec.name, [
          { userId: "u", itemId: "a", kind: "view", weight: 1, occurredAtMs: 1000 },
        ]);
        await store.dropIndex(spec.name, { deleteItems: true });
        await expectIndexNotFound(store.getIndex(spec.name));
        expect((await store.listIndexes()).map((i) => i.spec.name)).not.toContain(spec.name);

        await store.createIndex(spec);
        await waitUntilIndexed(spec.name);
        expect((await store.getIndex(spec.name)).itemCount).toBe(0);
        expect(await store.getItems(spec.name, ["a", "b"], { includeVectors: false })).toEqual([undefined, undefined]);
        expect((await store.getInteractions(spec.name, "u", { offset: 0, limit: 10 })).totalCount).toBe(0);
      });

      it("keeps the data of an index dropped without deleteItems, and a new index of that name finds it", async () => {
        const spec = await createIndex("dropkeep", defaultFields(2));
        await store.upsert(spec.name, [
          item("a", [1, 0], { labels: tags("x"), time: n(5) }),
          item("b", [0, 1], { descr: t("kept text") }),
        ]);
        await store.recordInteractions(spec.name, [
          { userId: "u", itemId: "a", kind: "like", weight: 2, occurredAtMs: 1000 },
        ]);
        await store.dropIndex(spec.name, { deleteItems: false });
        await expectIndexNotFound(store.getIndex(spec.name));
        await expectIndexNotFound(store.search(spec.name, filterOnly(ALL, 10)));

        await store.createIndex(spec);
        await waitUntilIndexed(spec.name);
        expect((await store.getIndex(spec.name)).itemCount).toBe(2);
        const [a, b] = await store.getItems(spec.name, ["a", "b"], { includeVectors: true });
        expect(a?.fields).toEqual({ labels: tags("x"), time: n(5) });
        expect(bits(a?.vector)).toEqual(bits(f32([1, 0])));
        expect(b?.fields).toEqual({ descr: t("kept text") });
        expect(ids(await store.search(spec.name, filterOnly(tagFilter("labels", "x"), 10)))).toEqual(["a"]);
        const page = await store.getInteractions(spec.name, "u", { offset: 0, limit: 10 });
        expect(page.interactions).toEqual([{ userId: "u", itemId: "a", kind: "like", weight: 2, occurredAtMs: 1000 }]);
      });

      it("sets, changes and removes interests, adding the tag field to the schema once", async () => {
        const spec = await createIndex("interests", defaultFields(3));
        await store.upsert(spec.name, [item("a", [0.9, 0.1, 0.5], { labels: tags("x") })]);
        const interests: InterestSpec = { categoryNames: ["books", "comics", "computers"], threshold: 0.4, tagField: "interests" };
        const info = await store.setInterests(spec.name, interests);
        expect(info.spec.interests).toEqual(interests);
        expect(info.spec.fields).toEqual([...defaultFields(3), tag("interests")]);
        expect((await store.getIndex(spec.name)).spec).toEqual(info.spec);

        const changed: InterestSpec = { ...interests, threshold: 0.7 };
        const info2 = await store.setInterests(spec.name, changed);
        expect(info2.spec.interests).toEqual(changed);
        expect(info2.spec.fields).toEqual([...defaultFields(3), tag("interests")]);

        const removed = await store.setInterests(spec.name, undefined);
        expect(removed.spec.interests).toBeUndefined();
        expect(removed.spec.fields).toEqual([...defaultFields(3), tag("interests")]);
        expect((await store.getIndex(spec.name)).spec).toEqual(removed.spec);

        // Items are not touched: the use case recomputes them.
        const [a] = await store.getItems(spec.name, ["a"], { includeVectors: false });
        expect(a?.fields).toEqual({ labels: tags("x") });
        expect(removed.itemCount).toBe(1);
      });

      it("writes interests into the tag field declared with the index", async () => {
        const interests: InterestSpec = { categoryNames: ["a", "b"], threshold: 0.4, tagField: "likes" };
        const spec = await createIndex("interests2", [vectorSpec(2), tag("likes")], interests);
        await store.upsert(spec.name, [
          item("p", [0.9, 0.1], { likes: tags("a") }),
          item("q", [0.5, 0.5], { likes: tags("a", "b") }),
        ]);
        expect(ids(await store.search(spec.name, filterOnly(tagFilter("likes", "b"), 10)))).toEqual(["q"]);
        expect((await store.getIndex(spec.name)).spec.interests).toEqual(interests);
      });
    });

    // -------------------------------------------------------------------------------------------------
    describe("items", () => {
      it("reads items back in the order asked, undefined where missing", async () => {
        const spec = await createIndex("get", defaultFields(3));
        const a = item("a", [0.1, 0.2, 0.3], {
          descr: t("Loves fantasy novels, and manga!"),
          labels: tags("books", "comics"),
          time: n(1700000000),
        });
        const b = item("b", [-1.5, 0, 2e-7], { time: n(-2.5) });
        await store.upsert(spec.name, [a, b]);
        const got = await store.getItems(spec.name, ["b", "missing", "a"], { includeVectors: false });
        expect(got).toHaveLength(3);
        expect(got[0]).toEqual({ id: "b", fields: { time: n(-2.5) } });
        expect(got[0]?.vector).toBeUndefined();
        expect(got[1]).toBeUndefined();
        expect(got[2]?.id).toBe("a");
        expect(got[2]?.fields).toEqual(a.fields);
        expect((await store.getIndex(spec.name)).itemCount).toBe(2);
      });

      it("round-trips vectors bit-exact", async () => {
        const spec = await createIndex("bits", defaultFields(5, "L2"));
        const awkward = [0.1, -0, 1e-38, 3.4028234663852886e38, -123.456];
        await store.upsert(spec.name, [item("x", awkward)]);
        const [x] = await store.getItems(spec.name, ["x"], { includeVectors: true });
        expect(x?.vector).toBeInstanceOf(Float32Array);
        expect(bits(x?.vector)).toEqual(bits(f32(awkward)));
      });

      it("keeps ids with unicode and punctuation apart", async () => {
        const spec = await createIndex("ids", defaultFields(2, "L2"));
        const weird = ["user:1", "user 1", "Café-日本", "a,b|c{d}", "x.y@z"];
        await store.upsert(spec.name, weird.map((id, i) => item(id, [i, 0])));
        const got = await store.getItems(spec.name, weird, { includeVectors: true });
        expect(got.map((g) => g?.id)).toEqual(weird);
        expect(got.map((g) => g?.vector?.[0])).toEqual([0, 1, 2, 3, 4]);
        expect(ids(await store.search(spec.name, filterOnly(ALL, 10)))).toEqual(sortedBy(weird, (x) => x));
      });

      it("replaces items whole on upsert", async () => {
        const spec = await createIndex("replace", defaultFields(2, "L2"));
        await store.upsert(spec.name, [item("a", [1, 1], { descr: t("old"), labels: tags("x"), time: n(1) })]);
        await store.upsert(spec.name, [item("a", [2, 3], { time: n(2) })]);
        const [a] = await store.getItems(spec.name, ["a"], { includeVectors: true });
        expect(a?.fields).toEqual({ time: n(2) });
        expect(Array.from(a?.vector ?? [])).toEqual([2, 3]);
        expect((await store.getIndex(spec.name)).itemCount).toBe(1);
        // The old values no longer match.
        expect((await store.search(spec.name, filterOnly(tagFilter("labels", "x"), 10))).totalMatches).toBe(0);
        expect(ids(await store.search(spec.name, filterOnly(range("time", 2, 2), 10)))).toEqual(["a"]);
        const hit = (await store.search(spec.name, knn([2, 3], 1))).hits[0];
        expectClose(hit?.distance ?? NaN, 0);
      });

      it("deletes items, returning how many existed, with their interactions (as item and as user)", async () => {
        const spec = await createIndex("delete", defaultFields(2, "L2"));
        await store.upsert(spec.name, [item("a", [0, 0]), item("b", [1, 0]), item("c", [2, 0])]);
        await store.recordInteractions(spec.name, [
          { userId: "u", itemId: "a", kind: "view", weight: 1, occurredAtMs: 3000 },
          { userId: "u", itemId: "b", kind: "view", weight: 1, occurredAtMs: 2000 },
          { userId: "v", itemId: "a", kind: "purchase", weight: 1, occurredAtMs: 1000 },
          // Users are items too: deleting item "c" deletes the history of user "c".
          { userId: "c", itemId: "b", kind: "like", weight: 1, occurredAtMs: 500 },
          { userId: "b", itemId: "u", kind: "like", weight: 1, occurredAtMs: 400 },
        ]);
        expect(await store.deleteItems(spec.name, ["a", "nope", "c"])).toBe(2);
        expect(await store.deleteItems(spec.name, ["a"])).toBe(0);
        expect(await store.getItems(spec.name, ["a", "b", "c"], { includeVectors: false })).toEqual([
          undefined,
          { id: "b", fields: {} },
          undefined,
        ]);
        expect((await store.getIndex(spec.name)).itemCount).toBe(1);
        const hits = await store.search(spec.name, knn([0, 0], 10));
        expect(ids(hits)).toEqual(["b"]);
        expect(hits.totalMatches).toBe(1);
        const u = await store.getInteractions(spec.name, "u", { offset: 0, limit: 10 });
        expect(u.interactions.map((i) => i.itemId)).toEqual(["b"]);
        expect(u.totalCount).toBe(1);
        expect((await store.getInteractions(spec.name, "v", { offset: 0, limit: 10 })).totalCount).toBe(0);
        expect((await store.getInteractions(spec.name, "c", { offset: 0, limit: 10 })).totalCount).toBe(0);
        expect((await store.getInteractionsOfUsers(spec.name, ["b", "c"])).get("b")).toEqual([
          { userId: "b", itemId: "u", kind: "like", weight: 1, occurredAtMs: 400 },
        ]);
      });

      it("scans every item in batches, with vectors", async () => {
        const spec = await createIndex("scan", defaultFields(2, "L2"));
        const written = Array.from({ length: 23 }, (_, i) => item(`item${i}`, [i, -i], { time: n(i) }));
        await store.upsert(spec.name, written);
        const seen: Item[] = [];
        for await (const batch of store.scanItems(spec.name, 5)) {
          expect(batch.length).toBeGreaterThan(0);
          expect(batch.length).toBeLessThanOrEqual(5);
          seen.push(...batch);
        }
        expect(sortedBy(seen, (i) => i.id).map((i) => i.id)).toEqual(sortedBy(written, (i) => i.id).map((i) => i.id));
        for (const got of seen) {
          const original = written.find((w) => w.id === got.id);
          expect(bits(got.vector)).toEqual(bits(original?.vector));
          expect(got.fields).toEqual(original?.fields);
        }
      });

      describe("setInterestTags (compare-and-set of the interests tag)", () => {
        const interests: InterestSpec = { categoryNames: ["a", "b"], threshold: 0.4, tagField: "interests" };
        const fieldsWithTag = (): FieldSpec[] => [...defaultFields(2, "L2"), tag("interests")];

        it("writes only the tag field, removing it when the tags are empty", async () => {
          const spec = await createIndex("tagset", fieldsWithTag(), interests);
          const a = item("a", [1, 2], { descr: t("keep me"), labels: tags("x"), time: n(5), interests: tags("old") });
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
          const newer = item("a", [1, 0.5], { descr: t("newer"), interests: tags("b") });
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
          await store.upsert(spec.name, [item("a", [0.5, 0.25], { time: n(7) })]);
          expect(
            await store.setInterestTags(spec.name, [{ id: "a", basedOnVector: read?.vector ?? f32([]), tags: ["a"] }], "interests"),
          ).toBe(1);
          const [a] = await store.getItems(spec.name, ["a"], { includeVectors: false });
          expect(a?.fields).toEqual({ time: n(7), interests: tags("a") });
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

      it("scans an empty index without a batch", async () => {
        const spec = await createIndex("scanempty", defaultFields(2));
        const batches: Item[][] = [];
        for await (const batch of store.scanItems(spec.name, 10)) batches.push(batch);
        expect(batches.flat()).toEqual([]);
      });
    });

    // -------------------------------------------------------------------------------------------------
    describe("KNN", () => {
      const stored: [string, number[]][] = [
        ["a", [1, 2, 3]],
        ["b", [-1, 0.5, 2]],
        ["c", [0.3, -0.7, 0.1]],
        ["d", [0.6, 0.8, 0]],
        ["e", [2, -1, 0.4]],
      ];
      const queries = [
        [0.5, 1.5, -1],
        [0.8, 0.6, 0],
        [-0.25, 0.1, 0.9],
      ];

      for (const metric of ["L2", "IP", "COSINE"] as const) {
        it(`ranks by the Redis ${metric} distance, closest first`, async () => {
          const spec = await createIndex(`knn_${metric}`, [vectorSpec(3, metric), tag("labels")]);
          await store.upsert(spec.name, stored.map(([id, v]) => item(id, v)));
          for (const q of queries) {
            const expected = stored
              .map(([id, v]) => ({ id, distance: expectedDistance(metric, v, q) }))
              .sort((x, y) => x.distance - y.distance);
            const result = await store.search(spec.name, knn(q, 3));
            expect(result.totalMatches).toBe(3);
            expect(ids(result)).toEqual(expected.slice(0, 3).map((e) => e.id));
            result.hits.forEach((hit, i) => expectClose(hit.distance, expected[i]?.distance ?? NaN, `${metric} ${hit.id}`));
            const all = await store.search(spec.name, knn(q, 10));
            expect(ids(all)).toEqual(expected.map((e) => e.id));
            expect(all.totalMatches).toBe(5);
          }
        });
      }

      it("ranks with an HNSW index too (exact on a tiny set)", async () => {
        const spec = await createIndex("knn_hnsw", [vectorSpec(3, "L2", "HNSW")]);
        await store.upsert(spec.name, stored.map(([id, v]) => item(id, v)));
        const q = queries[0] ?? [];
        const expected = stored
          .map(([id, v]) => ({ id, distance: expectedDistance("L2", v, q) }))
          .sort((x, y) => x.distance - y.distance);
        const result = await store.search(spec.name, knn(q, 2));
        expect(ids(result)).toEqual(expected.slice(0, 2).map((e) => e.id));
        result.hits.forEach((hit, i) => expectClose(hit.distance, expected[i]?.distance ?? NaN));
      });

      it("reports an IP distance that can be negative and COSINE of scaled copies equal", async () => {
        const ip = await createIndex("knn_ipneg", [vectorSpec(3, "IP")]);
        await store.upsert(ip.name, [item("big", [10, 20, 30]), item("small", [1, 2, 3])]);
        const r = await store.search(ip.name, knn([0.5, 1.5, -1], 2));
        expect(ids(r)).toEqual(["big", "small"]);
        expectClose(r.hits[0]?.distance ?? NaN, -4);
        expectClose(r.hits[1]?.distance ?? NaN, 0.5);

        const cos = await createIndex("knn_cosscale", [vectorSpec(3, "COSINE")]);
        await store.upsert(cos.name, [item("big", [10, 20, 30]), item("small", [1, 2, 3]), item("other", [-1, 0.5, 2])]);
        const c = await store.search(cos.name, knn([0.5, 1.5, -1], 3));
        expect(c.hits[2]?.id).toBe("other");
        expectClose(c.hits[0]?.distance ?? NaN, 0.928571428571);
        expectClose(c.hits[1]?.distance ?? NaN, 0.928571428571);
      });

      it("lists NaN distances (zero vectors under COSINE) last, and leaves them out under a filter or exclusion", async () => {
        // Redis 8.0.2 (shared/conformance/README.md): a plain KNN returns a NaN-distance row last, a
        // hybrid (pre-filtered) KNN returns nothing for it.
        const spec = await createIndex("knn_nan", [tag("labels"), vectorSpec(2, "COSINE")]);
        await store.upsert(spec.name, [
          item("zero", [0, 0], { labels: tags("x") }),
          item("a", [1, 0], { labels: tags("x") }),
          item("b", [0, 1], { labels: tags("y") }),
        ]);
        const plain = await store.search(spec.name, knn([1, 0.5], 5));
        expect(ids(plain)).toEqual(["a", "b", "zero"]);
        expect(Number.isNaN(plain.hits[2]?.distance)).toBe(true);
        const filtered = await store.search(spec.name, knn([1, 0.5], 5, { filter: tagFilter("labels", "x") }));
        expect(ids(filtered)).toEqual(["a"]);
        expect(filtered.totalMatches).toBe(1);
        const excluding = await store.search(spec.name, knn([1, 0.5], 5, { excludeIds: ["b"] }));
        expect(ids(excluding)).toEqual(["a"]);
        // A zero query vector: every distance is NaN.
        expect(ids(await store.search(spec.name, knn([0, 0], 5)))).toEqual(["a", "b", "zero"]);
        const none = await store.search(spec.name, knn([0, 0], 5, { filter: tagFilter("labels", "x", "y") }));
        expect(none.hits).toEqual([]);
        expect(none.totalMatches).toBe(0);
      });

      it("orders equal distances by id ascending", async () => {
        const spec = await createIndex("knn_ties", [vectorSpec(2, "L2")]);
        await store.upsert(spec.name, [
          item("m", [1, 1]),
          item("b", [1, 1]),
          item("z", [0, 0]),
          item("a", [1, 1]),
          item("k", [3, 3]),
        ]);
        const r = await store.search(spec.name, knn([0, 0], 5));
        expect(ids(r)).toEqual(["z", "a", "b", "m", "k"]);
        const top2 = await store.search(spec.name, knn([0, 0], 2));
        expect(ids(top2)).toEqual(["z", "a"]);
        // A tie straddling k keeps the smallest ids.
        const top3 = await store.search(spec.name, knn([1, 1], 3));
        expect(ids(top3)).toEqual(["a", "b", "m"]);
      });

      it("orders ids by UTF-8 bytes (Redis's order) in KNN ties and filter-only pages alike", async () => {
        // "\uFF01" < "\u{1F600}" in UTF-8 (EF BC 81 < F0 9F 98 80) but not in UTF-16 code units.
        const spec = await createIndex("id_order", [vectorSpec(2, "L2")]);
        const expected = ["a", "\u00e9", "\uFF01", "\uFF01x", "\u{1F600}"];
        await store.upsert(spec.name, [...expected].reverse().map((id) => item(id, [1, 1])));
        expect(ids(await store.search(spec.name, knn([0, 0], 5)))).toEqual(expected);
        expect(ids(await store.search(spec.name, knn([0, 0], 3)))).toEqual(expected.slice(0, 3));
        expect(ids(await store.search(spec.name, filterOnly(ALL, 5)))).toEqual(expected);
        expect(ids(await store.search(spec.name, filterOnly(ALL, 2, 2)))).toEqual(expected.slice(2, 4));
      });

      it("returns every match when k exceeds them, and totalMatches = min(k, matches)", async () => {
        const spec = await createIndex("knn_k", [vectorSpec(2, "L2"), tag("grp")]);
        await store.upsert(
          spec.name,
          Array.from({ length: 12 }, (_, i) => item(`k${String(i).padStart(2, "0")}`, [i, 0], { grp: tags(i % 2 ? "odd" : "even") })),
        );
        const big = await store.search(spec.name, knn([0, 0], 100));
        expect(big.totalMatches).toBe(12);
        expect(big.hits).toHaveLength(12);
        const small = await store.search(spec.name, knn([0, 0], 4));
        expect(small.totalMatches).toBe(4);
        expect(ids(small)).toEqual(["k00", "k01", "k02", "k03"]);
        const filtered = await store.search(spec.name, knn([0, 0], 100, { filter: tagFilter("grp", "odd") }));
        expect(filtered.totalMatches).toBe(6);
        expect(ids(filtered)).toEqual(["k01", "k03", "k05", "k07", "k09", "k11"]);
      });

      it("applies the filter before KNN, so k neighbours come back when enough match", async () => {
        const spec = await createIndex("knn_prefilter", [vectorSpec(2, "L2"), tag("grp")]);
        // The 20 nearest are all "near"; the "far" group is further away than all of them.
        await store.upsert(spec.name, [
          ...Array.from({ length: 20 }, (_, i) => item(`near${String(i).padStart(2, "0")}`, [i * 0.01, 0], { grp: tags("near") })),
          ...Array.from({ length: 3 }, (_, i) => item(`far${i}`, [100 + i, 0], { grp: tags("far") })),
        ]);
        const r = await store.search(spec.name, knn([0, 0], 2, { filter: tagFilter("grp", "far") }));
        expect(ids(r)).toEqual(["far0", "far1"]);
        expectClose(r.hits[0]?.distance ?? NaN, 10000);
        expectClose(r.hits[1]?.distance ?? NaN, 10201);
      });

      it("leaves out excluded ids before KNN, so k stays k", async () => {
        const spec = await createIndex("knn_exclude", [vectorSpec(2, "L2")]);
        await store.upsert(spec.name, [item("q", [0, 0]), item("a", [1, 0]), item("b", [2, 0]), item("c", [3, 0])]);
        const r = await store.search(spec.name, knn([0, 0], 2, { excludeIds: ["q"] }));
        expect(ids(r)).toEqual(["a", "b"]);
        expect(r.totalMatches).toBe(2);
        const r2 = await store.search(spec.name, knn([0, 0], 10, { excludeIds: ["q", "b", "unknown"] }));
        expect(ids(r2)).toEqual(["a", "c"]);
        expect(r2.totalMatches).toBe(2);
      });

      it("finds nothing in an empty index or when the filter matches nothing", async () => {
        const spec = await createIndex("knn_empty", [vectorSpec(2, "L2"), tag("grp")]);
        const empty = await store.search(spec.name, knn([0, 0], 5));
        expect(empty).toEqual({ hits: [], totalMatches: 0 });
        await store.upsert(spec.name, [item("a", [1, 0], { grp: tags("x") })]);
        const none = await store.search(spec.name, knn([0, 0], 5, { filter: tagFilter("grp", "y") }));
        expect(none.hits).toEqual([]);
        expect(none.totalMatches).toBe(0);
      });

      it("returns only the requested fields, and vectors only when asked", async () => {
        const spec = await createIndex("knn_fields", defaultFields(2, "L2"));
        const a = item("a", [0.1, 0.2], { descr: t("hello world"), labels: tags("x", "y"), time: n(42) });
        await store.upsert(spec.name, [a]);
        const all = await store.search(spec.name, knn([0, 0], 1));
        expect(all.hits[0]?.item).toEqual({ id: "a", fields: a.fields });
        expect(all.hits[0]?.item.vector).toBeUndefined();

        const some = await store.search(spec.name, knn([0, 0], 1, { returnFields: ["time", "labels"] }));
        expect(some.hits[0]?.item.fields).toEqual({ time: n(42), labels: tags("x", "y") });

        const none = await store.search(spec.name, knn([0, 0], 1, { returnFields: [], includeVectors: true }));
        expect(none.hits[0]?.item.fields).toEqual({});
        expect(bits(none.hits[0]?.item.vector)).toEqual(bits(f32([0.1, 0.2])));
        expectClose(none.hits[0]?.distance ?? NaN, expectedDistance("L2", [0.1, 0.2], [0, 0]));

        const absent = await store.search(spec.name, knn([0, 0], 1, { returnFields: ["descr"] }));
        expect(absent.hits[0]?.item.fields).toEqual({ descr: t("hello world") });

        const page = await store.search(spec.name, filterOnly(ALL, 1, 0, { returnFields: ["descr"], includeVectors: true }));
        expect(page.hits[0]?.item.fields).toEqual({ descr: t("hello world") });
        expect(bits(page.hits[0]?.item.vector)).toEqual(bits(f32([0.1, 0.2])));
      });

      it("rejects a search whose signal is already aborted", async () => {
        const spec = await createIndex("knn_abort", [vectorSpec(2, "L2")]);
        await store.upsert(spec.name, [item("a", [1, 0])]);
        const controller = new AbortController();
        controller.abort();
        const error: unknown = await store.search(spec.name, knn([0, 0], 1, { signal: controller.signal })).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(VecrecError);
        expect((error as VecrecError).kind).toBe("cancelled");
      });
    });

    // -------------------------------------------------------------------------------------------------
    describe("filters", () => {
      let spec: IndexSpec;
      const catalog: Item[] = [
        item("f1", [0.1, 0], {
          labels: tags("books", "sci-fi"),
          ctag: tags("Books"),
          descr: t("the quick brown fox"),
          n: n(10),
        }),
        item("f2", [0.2, 0.1], {
          labels: tags("comics", "new york"),
          ctag: tags("books"),
          descr: t("a lazy dog sleeps all day"),
          n: n(20),
        }),
        item("f3", [0.3, 0.3], {
          labels: tags("computers"),
          ctag: tags("BOOKS"),
          descr: t("quick thinking computers"),
          n: n(30),
        }),
        item("f4", [0.4, 0.2], { labels: tags("BOOKS", "comics"), ctag: tags("comics"), descr: t("quick brown dogs run"), n: n(40) }),
        item("f5", [0.5, 0.5], { labels: tags(" padded "), descr: t("she was running late for the meetings"), n: n(-5.5) }),
        item("f6", [0.6, 0.1], { ctag: tags("misc"), descr: t("nothing special here") }),
      ];

      beforeAll(async () => {
        spec = await createIndex("filters", [
          tag("labels"),
          tag("ctag", { caseSensitive: true }),
          text("descr"),
          numeric("n"),
          vectorSpec(2, "L2"),
        ]);
        await store.upsert(spec.name, catalog);
      });

      /** Ids matching `filter`, by id (filter-only), checked against the same filter under KNN. */
      async function matching(filter: FilterNode): Promise<string[]> {
        const page = await store.search(spec.name, filterOnly(filter, 100));
        expect(page.totalMatches).toBe(page.hits.length);
        const nearest = await store.search(spec.name, knn([0, 0], 100, { filter }));
        expect(sortedBy(ids(nearest), (x) => x)).toEqual(ids(page));
        return ids(page);
      }

      it("matches any of several tag values, case-insensitively", async () => {
        expect(await matching(tagFilter("labels", "books"))).toEqual(["f1", "f4"]);
        expect(await matching(tagFilter("labels", "Books"))).toEqual(["f1", "f4"]);
        expect(await matching(tagFilter("labels", "books", "computers"))).toEqual(["f1", "f3", "f4"]);
        expect(await matching(tagFilter("labels", "new york"))).toEqual(["f2"]);
        expect(await matching(tagFilter("labels", "sci-fi"))).toEqual(["f1"]);
        expect(await matching(tagFilter("labels", "nothing"))).toEqual([]);
      });

      it("trims tag values", async () => {
        expect(await matching(tagFilter("labels", "padded"))).toEqual(["f5"]);
      });

      it("matches all of several tag values with an AND of tag filters", async () => {
        expect(await matching(and(tagFilter("labels", "books"), tagFilter("labels", "comics")))).toEqual(["f4"]);
      });

      it("keeps case on a case-sensitive tag field", async () => {
        expect(await matching(tagFilter("ctag", "books"))).toEqual(["f2"]);
        expect(await matching(tagFilter("ctag", "Books"))).toEqual(["f1"]);
        expect(await matching(tagFilter("ctag", "BOOKS", "comics"))).toEqual(["f3", "f4"]);
      });

      it("filters numeric ranges with inclusive, exclusive and unbounded sides", async () => {
        expect(await matching(range("n", 10, 30))).toEqual(["f1", "f2", "f3"]);
        expect(await matching(range("n", 10, 30, true, false))).toEqual(["f2", "f3"]);
        expect(await matching(range("n", 10, 30, false, true))).toEqual(["f1", "f2"]);
        expect(await matching(range("n", 10, 30, true, true))).toEqual(["f2"]);
        expect(await matching(range("n", -Infinity, 10))).toEqual(["f1", "f5"]);
        expect(await matching(range("n", 25, Infinity))).toEqual(["f3", "f4"]);
        expect(await matching(range("n", -Infinity, Infinity))).toEqual(["f1", "f2", "f3", "f4", "f5"]);
        expect(await matching(range("n", -5.5, -5.5))).toEqual(["f5"]);
        expect(await matching(range("n", 41, 50))).toEqual([]);
      });

      it("matches text words after stemming, every word required", async () => {
        expect(await matching(textFilter("descr", "quick"))).toEqual(["f1", "f3", "f4"]);
        expect(await matching(textFilter("descr", "QUICK"))).toEqual(["f1", "f3", "f4"]);
        expect(await matching(textFilter("descr", "dog"))).toEqual(["f2", "f4"]);
        expect(await matching(textFilter("descr", "runs"))).toEqual(["f4", "f5"]);
        expect(await matching(textFilter("descr", "meeting"))).toEqual(["f5"]);
        expect(await matching(textFilter("descr", "quick", "brown"))).toEqual(["f1", "f4"]);
        expect(await matching(textFilter("descr", "quick", "computer"))).toEqual(["f3"]);
        expect(await matching(textFilter("descr", "elephant"))).toEqual([]);
        // A stop word among real words is ignored, as Redis ignores it in a query.
        expect(await matching(textFilter("descr", "the", "quick", "brown"))).toEqual(["f1", "f4"]);
      });

      it("combines filters with and, or and not, nested", async () => {
        expect(await matching(or(tagFilter("labels", "computers"), range("n", 40, 40)))).toEqual(["f3", "f4"]);
        expect(await matching(not(tagFilter("labels", "books")))).toEqual(["f2", "f3", "f5", "f6"]);
        expect(await matching(and(textFilter("descr", "quick"), not(tagFilter("labels", "books"))))).toEqual(["f3"]);
        expect(
          await matching(
            or(and(tagFilter("labels", "comics"), range("n", -Infinity, 20)), and(textFilter("descr", "running"), not(range("n", 0, Infinity)))),
          ),
        ).toEqual(["f2", "f5"]);
        expect(await matching(not(or(tagFilter("labels", "books", "comics"), range("n", 0, Infinity))))).toEqual(["f5", "f6"]);
      });

      it("returns the nearest of the matches under KNN", async () => {
        const r = await store.search(spec.name, knn([0.45, 0.45], 2, { filter: textFilter("descr", "quick") }));
        expect(ids(r)).toEqual(["f3", "f4"]);
        expectClose(r.hits[0]?.distance ?? NaN, expectedDistance("L2", [0.3, 0.3], [0.45, 0.45]));
        expectClose(r.hits[1]?.distance ?? NaN, expectedDistance("L2", [0.4, 0.2], [0.45, 0.45]));
      });

      it("pages filter-only results by id", async () => {
        const first = await store.search(spec.name, filterOnly(ALL, 4));
        expect(ids(first)).toEqual(["f1", "f2", "f3", "f4"]);
        expect(first.totalMatches).toBe(6);
        expect(first.hits.every((h) => h.distance === 0)).toBe(true);
        const second = await store.search(spec.name, filterOnly(ALL, 4, 4));
        expect(ids(second)).toEqual(["f5", "f6"]);
        expect(second.totalMatches).toBe(6);
        const beyond = await store.search(spec.name, filterOnly(ALL, 4, 10));
        expect(beyond.hits).toEqual([]);
        expect(beyond.totalMatches).toBe(6);
        const middle = await store.search(spec.name, filterOnly(not(tagFilter("labels", "books")), 2, 1));
        expect(ids(middle)).toEqual(["f3", "f5"]);
        expect(middle.totalMatches).toBe(4);
        const excluded = await store.search(spec.name, filterOnly(ALL, 10, 0, { excludeIds: ["f2"] }));
        expect(ids(excluded)).toEqual(["f1", "f3", "f4", "f5", "f6"]);
      });
    });

    // -------------------------------------------------------------------------------------------------
    describe("walk-through (the blog's recommendation flow)", () => {
      it("stores users with interests, queries by labels, and finds the 2 nearest book readers", async () => {
        const interests: InterestSpec = { categoryNames: ["books", "comics", "computers"], threshold: 0.4, tagField: "interests" };
        const spec = await createIndex("walk", [...defaultFields(3), tag("interests")], interests);
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
            item(id, vector, { descr: t(descr), labels: tags(...labels), time: n(time), interests: tags(...likes) }),
          ),
        );
        expect((await store.getIndex(spec.name)).itemCount).toBe(5);

        const books = await store.search(spec.name, filterOnly(tagFilter("labels", "books"), 10));
        expect(ids(books)).toEqual(["1", "3", "5"]);
        expect(books.totalMatches).toBe(3);
        expect(books.hits[0]?.item.fields).toEqual({
          descr: t("loves fantasy novels and manga"),
          labels: tags("books", "comics"),
          time: n(1700000000),
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

    // -------------------------------------------------------------------------------------------------
    describe("interactions", () => {
      const at = (userId: string, itemId: string, kind: InteractionKind, occurredAtMs: number, weight = 1): Interaction => ({
        userId,
        itemId,
        kind,
        weight,
        occurredAtMs,
      });

      it("records interactions and reads them newest first", async () => {
        const spec = await createIndex("inter", defaultFields(2));
        const given = [at("u1", "i1", "view", 1000), at("u1", "i2", "purchase", 3000, 2.5), at("u1", "i3", "like", 2000), at("u2", "i1", "click", 1500)];
        expect(await store.recordInteractions(spec.name, given)).toBe(4);
        const page = await store.getInteractions(spec.name, "u1", { offset: 0, limit: 10 });
        expect(page.totalCount).toBe(3);
        expect(page.interactions).toEqual([given[1], given[2], given[0]]);
        const u2 = await store.getInteractions(spec.name, "u2", { offset: 0, limit: 10 });
        expect(u2.interactions).toEqual([given[3]]);
      });

      it("deduplicates on user, item, kind and time", async () => {
        const spec = await createIndex("dedup", defaultFields(2));
        const one = at("u", "i", "view", 1000);
        expect(await store.recordInteractions(spec.name, [one, one])).toBe(2);
        await store.recordInteractions(spec.name, [one]);
        await store.recordInteractions(spec.name, [at("u", "i", "like", 1000), at("u", "i", "view", 1001)]);
        const page = await store.getInteractions(spec.name, "u", { offset: 0, limit: 10 });
        expect(page.totalCount).toBe(3);
        expect(page.interactions).toEqual([at("u", "i", "view", 1001), at("u", "i", "like", 1000), at("u", "i", "view", 1000)]);
      });

      it("orders interactions at the same time by item id, then kind", async () => {
        const spec = await createIndex("interties", defaultFields(2));
        await store.recordInteractions(spec.name, [
          at("u", "b", "view", 500),
          at("u", "a", "view", 500),
          at("u", "c", "view", 900),
          at("u", "a", "click", 500),
        ]);
        const page = await store.getInteractions(spec.name, "u", { offset: 0, limit: 10 });
        expect(page.interactions.map((i) => [i.itemId, i.kind])).toEqual([
          ["c", "view"],
          ["a", "click"],
          ["a", "view"],
          ["b", "view"],
        ]);
      });

      it("pages with offset and limit, counting them all", async () => {
        const spec = await createIndex("interpage", defaultFields(2));
        const many = Array.from({ length: 7 }, (_, i) => at("u", `item${i}`, "view", 1000 + i));
        await store.recordInteractions(spec.name, many);
        const first = await store.getInteractions(spec.name, "u", { offset: 0, limit: 3 });
        expect(first.totalCount).toBe(7);
        expect(first.interactions.map((i) => i.itemId)).toEqual(["item6", "item5", "item4"]);
        const last = await store.getInteractions(spec.name, "u", { offset: 6, limit: 3 });
        expect(last.interactions.map((i) => i.itemId)).toEqual(["item0"]);
        const beyond = await store.getInteractions(spec.name, "u", { offset: 10, limit: 3 });
        expect(beyond).toEqual({ interactions: [], totalCount: 7 });
        const nobody = await store.getInteractions(spec.name, "nobody", { offset: 0, limit: 3 });
        expect(nobody).toEqual({ interactions: [], totalCount: 0 });
      });

      it("reads the interactions of several users at once", async () => {
        const spec = await createIndex("interusers", defaultFields(2));
        await store.recordInteractions(spec.name, [
          at("u1", "a", "view", 1),
          at("u2", "b", "like", 5),
          at("u1", "c", "purchase", 9, 3),
        ]);
        const map = await store.getInteractionsOfUsers(spec.name, ["u1", "u2", "ghost"]);
        expect([...map.keys()].sort()).toEqual(["ghost", "u1", "u2"]);
        expect(map.get("u1")).toEqual([at("u1", "c", "purchase", 9, 3), at("u1", "a", "view", 1)]);
        expect(map.get("u2")).toEqual([at("u2", "b", "like", 5)]);
        expect(map.get("ghost")).toEqual([]);
      });

      it("keeps interactions per index", async () => {
        const one = await createIndex("interone", defaultFields(2));
        const two = await createIndex("intertwo", defaultFields(2));
        await store.recordInteractions(one.name, [at("u", "a", "view", 1)]);
        expect((await store.getInteractions(two.name, "u", { offset: 0, limit: 10 })).totalCount).toBe(0);
        expect((await store.getInteractionsOfUsers(two.name, ["u"])).get("u")).toEqual([]);
      });
    });

    // -------------------------------------------------------------------------------------------------
    describe("unknown index", () => {
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
  });
}
