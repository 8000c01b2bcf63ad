/**
 * Cross-backend agreement: one seeded pseudo-random dataset loaded through the VectorStore interface
 * into the embedded engine, the Redis backend on the RESP stand-in (standalone and a 3-node cluster)
 * and the real servers named by VECREC_TEST_REDIS_URL / VECREC_TEST_REDIS_CLUSTER_URL; the same seeded
 * queries (KNN with random filters and k, range searches, filter-only pages, and KNN and range over
 * FLOAT64/FLOAT16/BFLOAT16 indexes) must give the same ids in the same order,
 * the same totals and distances within 1e-6.
 *
 * Except HNSW on a real server, which is approximate by design: even with EF_RUNTIME above the item
 * count, RediSearch 2.10 returned one other 25th neighbour for k=25 (its graph search and its hybrid
 * policies do not promise the exact set). There the comparison is by recall: the hits must be sorted by
 * distance, each with its true distance (within 1e-6), the total must be the hits found, and at least
 * HNSW_MIN_RECALL of the exact neighbours must be among them (a wrong distance, order or filter still
 * fails). The stand-ins answer HNSW exactly and are held to the exact comparison.
 *
 * The embedded results are also checked against a brute-force reference computed here in float64 with
 * its own filter evaluation, so the agreement is not merely "the stand-in reuses the embedded code".
 * The text vocabulary is chosen so that Redis's stemming cannot make two words match each other, and
 * the reference can compare lower-cased words.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FilterNode } from "../../src/domain/filter/filter.js";
import type { FieldValue, Item } from "../../src/domain/item.js";
import type { DistanceMetric, FieldSpec, IndexSpec, VectorAlgorithm } from "../../src/domain/schema.js";
import { roundVector } from "../../src/domain/element-type.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import type { SearchQuery, SearchResult, VectorStore } from "../../src/store/vector-store.js";
import { realServerNotes, redisTestBackends, type RedisTestServer, deleteKey } from "../support/redis-test-backends.js";
import { referenceDistance } from "../support/reference-distance.js";

const DIMENSION = 16;
const ITEM_COUNT = 400;
const QUERIES_PER_INDEX = 30;
const PAGES_PER_INDEX = 12;
const METRICS: readonly DistanceMetric[] = ["COSINE", "L2", "IP"];
const ALGORITHMS: readonly VectorAlgorithm[] = ["FLAT", "HNSW"];
// HNSW on a real Redis is approximate: an ef above the item count makes the 400-item graph search exhaustive.
const EF_RUNTIME = 1000;
/** The share of the exact neighbours an approximate (real-server HNSW) answer must contain. */
const HNSW_MIN_RECALL = 0.95;

const WORDS = ["apple", "river", "stone", "cloud", "maple", "tiger", "violet", "copper", "harbor", "meadow", "falcon", "lantern"];
// Mixed case and padding: tags compare case-insensitively and trimmed.
const TAG_VALUES = ["red", "Red", "green", "GREEN", "blue", " blue ", "teal", "amber"];
const TAG_QUERY_VALUES = ["red", "RED", "green", "Blue", "teal", "amber", "violet"];
// A CASESENSITIVE tag field: "Ab" and "ab" are different tags.
const CODE_VALUES = ["Ab", "ab", "AB", "x y", "Zz"];

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
const intBelow = (random: Random, n: number): number => Math.floor(random() * n);

function randomVector(random: Random): Float32Array {
  const v = new Float32Array(DIMENSION);
  for (let i = 0; i < DIMENSION; i++) v[i] = random() * 2 - 1;
  return v;
}

function randomId(random: Random, taken: Set<string>): string {
  // Mixed case, digits, punctuation and characters whose UTF-16 and UTF-8 orders differ (U+FF01 and
  // U+1F600): ids sort by UTF-8 bytes, as Redis does, not by insertion order.
  const alphabet = "ABCXYZabcxyz0189-_é\uFF01\u{1F600}";
  for (;;) {
    let id = "";
    const length = 1 + intBelow(random, 6);
    for (let i = 0; i < length; i++) id += pick(random, [...alphabet]);
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

function buildDataset(seed: number): Item[] {
  const random = createRandom(seed);
  const taken = new Set<string>();
  const items: Item[] = [];
  for (let i = 0; i < ITEM_COUNT; i++) {
    const id = randomId(random, taken);
    let vector: Float32Array;
    const earlier = items[intBelow(random, Math.max(1, items.length))];
    if (earlier?.vector !== undefined && i % 25 === 7) {
      vector = Float32Array.from(earlier.vector); // an exact duplicate: a distance tie under every metric
    } else if (i % 100 === 42) {
      vector = new Float32Array(DIMENSION); // a zero vector: a NaN distance under COSINE
    } else if (earlier?.vector !== undefined && i % 25 === 19) {
      vector = earlier.vector.map((x) => x * 2); // same direction: a COSINE tie (power-of-two scaling is exact)
    } else {
      vector = randomVector(random);
    }
    const fields: Record<string, FieldValue> = {};
    if (random() > 0.05) {
      const words = Array.from({ length: 1 + intBelow(random, 4) }, () => {
        const word = pick(random, WORDS);
        return random() < 0.2 ? word[0]?.toUpperCase() + word.slice(1) : word;
      });
      fields.descr = { type: "text", value: words.join(random() < 0.5 ? " " : ", ") };
    }
    const tagCount = intBelow(random, 4);
    if (tagCount > 0 && random() > 0.05) {
      fields.labels = { type: "tag", values: Array.from({ length: tagCount }, () => pick(random, TAG_VALUES)) };
    }
    if (random() < 0.6) fields.code = { type: "tag", values: [pick(random, CODE_VALUES)] };
    // Integers and halves in -4..40 (many equal values, so inclusive and exclusive bounds differ).
    if (random() > 0.05) fields.time = { type: "numeric", value: (intBelow(random, 45) - 4) / (random() < 0.2 ? 2 : 1) };
    items.push({ id, vector, fields });
  }
  return items;
}

function indexSpec(name: string, metric: DistanceMetric, algorithm: VectorAlgorithm): IndexSpec {
  const vector: FieldSpec =
    algorithm === "HNSW"
      ? { name: "vec", type: "vector", dimension: DIMENSION, algorithm, metric, elementType: "FLOAT32", hnsw: { m: 16, efConstruction: 200, efRuntime: 10 } }
      : { name: "vec", type: "vector", dimension: DIMENSION, algorithm, metric, elementType: "FLOAT32" };
  return {
    name,
    fields: [
      { name: "descr", type: "text", weight: 1 },
      { name: "labels", type: "tag", separator: ",", caseSensitive: false },
      { name: "code", type: "tag", separator: ",", caseSensitive: true },
      { name: "time", type: "numeric" },
      vector,
    ],
  };
}

// ---- random filters -------------------------------------------------------------------------------

function randomLeaf(random: Random): FilterNode {
  const kind = intBelow(random, 5);
  if (kind === 4) return { op: "tag", field: "code", values: [pick(random, CODE_VALUES), pick(random, ["ab", "AB", "zz"])] };
  if (kind === 0) {
    const values = Array.from({ length: 1 + intBelow(random, 2) }, () => pick(random, TAG_QUERY_VALUES));
    return { op: "tag", field: "labels", values }; // any of the values
  }
  if (kind === 1) {
    // every one of the values
    return { op: "and", children: [pick(random, TAG_QUERY_VALUES), pick(random, TAG_QUERY_VALUES)].map((v) => ({ op: "tag", field: "labels", values: [v] })) };
  }
  if (kind === 2) {
    const a = intBelow(random, 45) - 2;
    const b = a + intBelow(random, 25);
    const min = random() < 0.15 ? -Infinity : a;
    const max = random() < 0.15 ? Infinity : b;
    return {
      op: "numeric",
      field: "time",
      min,
      max,
      minExclusive: Number.isFinite(min) && random() < 0.5,
      maxExclusive: Number.isFinite(max) && random() < 0.5,
    };
  }
  const terms = Array.from({ length: 1 + intBelow(random, 2) }, () => {
    const word = pick(random, WORDS);
    return random() < 0.3 ? word.toUpperCase() : word;
  });
  return { op: "text", field: "descr", terms };
}

function randomFilter(random: Random, depth = 0): FilterNode {
  const roll = random();
  if (depth === 0 && roll < 0.1) return { op: "all" };
  if (depth >= 2 || roll < 0.45) return randomLeaf(random);
  if (roll < 0.65) return { op: "not", child: randomFilter(random, depth + 1) };
  const children = Array.from({ length: 2 + intBelow(random, 2) }, () => randomFilter(random, depth + 1));
  return { op: roll < 0.85 ? "and" : "or", children };
}

// ---- the brute-force reference ------------------------------------------------------------------

const words = (text: string): Set<string> => new Set(text.toLowerCase().split(/[^a-z]+/).filter((w) => w !== ""));

function referenceMatches(node: FilterNode, item: Item): boolean {
  switch (node.op) {
    case "all":
      return true;
    case "tag": {
      const value = item.fields[node.field];
      if (value?.type !== "tag") return false;
      const fold = node.field === "code" ? (v: string) => v.trim() : (v: string) => v.trim().toLowerCase();
      const held = new Set(value.values.map(fold));
      return node.values.some((v) => held.has(fold(v)));
    }
    case "numeric": {
      const value = item.fields.time;
      if (value?.type !== "numeric") return false;
      const x = value.value;
      return (node.minExclusive ? x > node.min : x >= node.min) && (node.maxExclusive ? x < node.max : x <= node.max);
    }
    case "text": {
      const value = item.fields.descr;
      if (value?.type !== "text") return false;
      const held = words(value.value);
      return node.terms.every((t) => held.has(t.toLowerCase()));
    }
    case "and":
      return node.children.every((c) => referenceMatches(c, item));
    case "or":
      return node.children.some((c) => referenceMatches(c, item));
    case "not":
      return !referenceMatches(node.child, item);
  }
}

/** Ascending, NaN after every number (as Redis lists NaN distances). */
function nanLast(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
  return a - b;
}

/** Bit patterns of a float32 vector (none when absent). */
const bits = (v: Float32Array | undefined): number[] | undefined =>
  v === undefined ? undefined : Array.from(new Uint32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)));

/** Ids in UTF-8 byte order (Redis's strcmp). */
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

function close(actual: number, expected: number, tolerance: number): boolean {
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.isNaN(actual) && Number.isNaN(expected);
  const diff = Math.abs(actual - expected);
  return diff <= tolerance || diff <= tolerance * Math.abs(expected);
}

/** Checks one embedded KNN result against the float64 brute force. */
function expectMatchesReference(items: readonly Item[], metric: DistanceMetric, query: SearchQuery, result: SearchResult, label: string): void {
  const vector = query.vector as Float32Array;
  const exact = new Map<string, number>();
  for (const item of items) {
    if (!referenceMatches(query.filter, item)) continue;
    const distance = referenceDistance(metric, vector, item.vector as Float32Array);
    // Redis: a filtered (hybrid) KNN leaves out NaN distances (zero vectors under COSINE); a plain
    // KNN lists them last (shared/conformance/README.md).
    if (Number.isNaN(distance) && query.filter.op !== "all") continue;
    exact.set(item.id, distance);
  }
  const best = [...exact.values()].sort(nanLast).slice(0, query.k);

  expect(result.totalMatches, `${label}: totalMatches`).toBe(Math.min(query.k, exact.size));
  expect(result.hits.length, `${label}: hit count`).toBe(best.length);
  result.hits.forEach((hit, i) => {
    const reference = exact.get(hit.id);
    expect(reference, `${label}: hit ${hit.id} does not match the filter`).toBeDefined();
    expect(close(hit.distance, reference as number, 1e-5), `${label}: ${hit.id} distance ${hit.distance} vs ${reference}`).toBe(true);
    // No closer item was left out: the i-th distance is the i-th smallest of the reference.
    expect(close(hit.distance, best[i] as number, 1e-5), `${label}: rank ${i} distance ${hit.distance} vs ${best[i]}`).toBe(true);
    const previous = result.hits[i - 1];
    if (previous !== undefined) {
      const order = nanLast(previous.distance, hit.distance);
      const ordered = order < 0 || (order === 0 && byUtf8(previous.id, hit.id) < 0);
      expect(ordered, `${label}: ${previous.id} (${previous.distance}) before ${hit.id} (${hit.distance})`).toBe(true);
    }
  });
}

function expectPageMatchesReference(items: readonly Item[], query: SearchQuery, result: SearchResult, label: string): void {
  const matching = items.filter((item) => referenceMatches(query.filter, item)).map((item) => item.id).sort(byUtf8);
  expect(result.totalMatches, `${label}: totalMatches`).toBe(matching.length);
  expect(result.hits.map((h) => h.id), `${label}: page`).toEqual(matching.slice(query.offset, query.offset + query.k));
  expect(result.hits.every((h) => h.distance === 0), `${label}: filter-only distances are 0`).toBe(true);
}

function expectAgreement(expected: SearchResult, actual: SearchResult, label: string): void {
  expect(actual.totalMatches, `${label}: totalMatches`).toBe(expected.totalMatches);
  expect(actual.hits.map((h) => h.id), `${label}: ids`).toEqual(expected.hits.map((h) => h.id));
  actual.hits.forEach((hit, i) => {
    const want = expected.hits[i]?.distance as number;
    expect(close(hit.distance, want, 1e-6), `${label}: ${hit.id} distance ${hit.distance} vs ${want}`).toBe(true);
  });
}

// ---- the backends -------------------------------------------------------------------------------

/**
 * An approximate KNN answer (HNSW on a real server): sorted by distance, each distance the true one,
 * the same total, and at least HNSW_MIN_RECALL of the exact ids.
 */
function expectRecall(
  items: readonly Item[],
  metric: DistanceMetric,
  query: SearchQuery,
  expected: SearchResult,
  actual: SearchResult,
  label: string,
): void {
  // An approximate search may find fewer than k when k is above the matches (a real cluster once
  // returned 399 of 400 for k=450), so the total is what it found, never more than the truth.
  expect(actual.totalMatches, `${label}: totalMatches`).toBe(actual.hits.length);
  expect(actual.hits.length, `${label}: hit count`).toBeLessThanOrEqual(expected.hits.length);
  const byId = new Map(items.map((item) => [item.id, item]));
  actual.hits.forEach((hit, i) => {
    const item = byId.get(hit.id);
    expect(item, `${label}: ${hit.id} is an item`).toBeDefined();
    const want = referenceDistance(metric, query.vector as Float32Array, item?.vector as Float32Array);
    expect(close(hit.distance, want, 1e-6), `${label}: ${hit.id} distance ${hit.distance} vs ${want}`).toBe(true);
    const previous = actual.hits[i - 1];
    if (previous !== undefined && !Number.isNaN(hit.distance)) {
      expect(previous.distance <= hit.distance + 1e-6, `${label}: sorted at ${i}`).toBe(true);
    }
  });
  const exact = new Set(expected.hits.map((h) => h.id));
  const found = actual.hits.filter((h) => exact.has(h.id)).length;
  const recall = exact.size === 0 ? 1 : found / exact.size;
  expect(recall, `${label}: recall ${found}/${exact.size}`).toBeGreaterThanOrEqual(HNSW_MIN_RECALL);
}

interface Backend {
  readonly name: string;
  readonly store: VectorStore;
  /** HNSW answers are approximate (a real server). */
  readonly approximate: boolean;
}

for (const note of realServerNotes()) console.warn(`cross-backend: ${note}`);

describe(`cross-backend agreement: embedded vs ${redisTestBackends().map((b) => b.name).join(", ")}`, () => {
  const items = buildDataset(20_261_126);
  /**
   * The items of one index. A COSINE index, FLAT or HNSW, leaves out the zero vectors (issue 11 rejects
   * them under COSINE at the API, so only data written around it can hold them). Their NaN distances
   * poison a real RediSearch 2.10 search:
   * - HNSW: they break the graph's neighbour selection; measured on Redis 7.4.1 + RediSearch 2.10.32, a
   *   handful of zero vectors among 400 made the recall of random queries drop to 4-84% at EF_RUNTIME
   *   1000, while without them it is 100%.
   * - FLAT: a zero vector among the first rows the brute-force scan meets, before its top-k heap is
   *   full, stops the heap from taking closer rows (measured on Redis 7.4.1 + RediSearch 2.10.32, 400
   *   random vectors x 16, k=10, one of them zero: stored first or sixth, 30 of 30 queries came back
   *   wrong; stored 201st or last, none). Which rows come first changes from run to run (on a cluster,
   *   with the shards the run's keys hash to), so this test failed now and then on the real servers, on
   *   query 9 of COSINE/FLAT, with the same wrong answer on every repeat while every hash held its right
   *   vector.
   * NaN distances stay covered where the heap never fills: the contract suite's "lists NaN distances
   * (zero vectors under COSINE) last" (suite/search-ranking.ts) on every backend, and the zero query
   * vector below.
   */
  const datasetOf = (metric: DistanceMetric): Item[] =>
    metric === "COSINE" ? items.filter((item) => item.vector?.some((x) => x !== 0) === true) : items;
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const indexNames = METRICS.flatMap((metric) => ALGORITHMS.map((algorithm) => ({ metric, algorithm, name: `xb_${runId}_${metric}_${algorithm}` })));
  let embedded: VectorStore;
  /** Indexes of the element-type tests, dropped with the others. */
  const typedIndexNames: string[] = [];
  const servers: RedisTestServer[] = [];
  const others: Backend[] = [];
  // What the random queries exercised, so a generator that drifts into trivial cases fails loudly.
  const seen = { kAboveMatches: 0, noMatch: 0, tiedHits: 0, partialPages: 0 };

  beforeAll(async () => {
    embedded = createEmbeddedStore();
    for (const backend of redisTestBackends()) {
      const server = await backend.start();
      servers.push(server);
      const store = await createRedisStore({ url: server.url, keyPrefix: `vecrec-xb-${runId}:` });
      others.push({ name: backend.name, store, approximate: backend.real });
    }
    for (const store of [embedded, ...others.map((b) => b.store)]) {
      for (const { metric, algorithm, name } of indexNames) {
        await store.createIndex(indexSpec(name, metric, algorithm));
        // Several batches, the last one writing twenty items again (unchanged: upsert replaces whole items).
        const dataset = datasetOf(metric);
        await store.upsert(name, dataset.slice(0, 150));
        await store.upsert(name, dataset.slice(150));
        await store.upsert(name, dataset.slice(100, 120));
      }
    }
  });

  afterAll(async () => {
    for (const { store } of others) {
      for (const name of [...indexNames.map((x) => x.name), ...typedIndexNames]) await store.dropIndex(name, { deleteItems: true }).catch(() => undefined);
      await store.close();
    }
    // What the drops leave on a shared server: their marks in the definitions hash.
    for (const [i, backend] of redisTestBackends().entries()) {
      if (backend.real && servers[i] !== undefined) await deleteKey(servers[i].url, backend.cluster, `vecrec-xb-${runId}:indexes`).catch(() => undefined);
    }
    await embedded?.close();
    for (const server of servers) await server.close();
  });

  it("loads every item into every backend", async () => {
    for (const { store } of others) {
      for (const { name, metric } of indexNames) {
        expect((await store.getIndex(name)).itemCount).toBe(datasetOf(metric).length);
      }
    }
    expect((await embedded.getIndex(indexNames.find((x) => x.metric === "L2")?.name as string)).itemCount).toBe(ITEM_COUNT);
    // The COSINE indexes hold every item but the zero vectors (see datasetOf).
    expect(datasetOf("COSINE").length).toBeLessThan(ITEM_COUNT);
  });

  it("compares with every Redis backend of this run (the stand-ins, and the real servers configured)", () => {
    expect(others.map((b) => b.name)).toEqual(redisTestBackends().map((b) => b.name));
    expect(others.map((b) => b.name)).toEqual(expect.arrayContaining(["redis (stand-in)", "redis cluster (stand-in)"]));
  });

  for (const { metric, algorithm } of METRICS.flatMap((m) => ALGORITHMS.map((a) => ({ metric: m, algorithm: a })))) {
    it(`agrees on KNN with random filters and k (${metric}, ${algorithm})`, async () => {
      const name = indexNames.find((x) => x.metric === metric && x.algorithm === algorithm)?.name as string;
      const random = createRandom(METRICS.indexOf(metric) * 10 + ALGORITHMS.indexOf(algorithm) + 1);
      const items = datasetOf(metric);
      for (let q = 0; q < QUERIES_PER_INDEX; q++) {
        // Some queries are an item's own vector (or twice it): ties at the top with its duplicates;
        // one is the zero vector (every COSINE distance NaN).
        const source = q % 5 === 0 ? items[intBelow(random, items.length)]?.vector : undefined;
        const vector =
          q === 13
            ? new Float32Array(DIMENSION)
            : source === undefined
              ? randomVector(random)
              : q % 10 === 0
                ? Float32Array.from(source)
                : source.map((x) => x * 2);
        const query: SearchQuery = {
          vector,
          k: pick(random, [1, 3, 10, 25, 100, ITEM_COUNT + 50]),
          offset: 0,
          filter: randomFilter(random),
          includeVectors: q % 3 === 0,
          returnFields: pick(random, [undefined, [], ["labels"], ["time", "descr"], ["code"]]),
          ...(algorithm === "HNSW" ? { efRuntime: EF_RUNTIME } : {}),
        };
        const label = `${metric}/${algorithm} query ${q} k=${query.k} filter=${JSON.stringify(query.filter)}`;
        const expected = await embedded.search(name, query);
        expectMatchesReference(items, metric, query, expected, `embedded ${label}`);
        if (expected.totalMatches < query.k) seen.kAboveMatches++;
        if (expected.totalMatches === 0) seen.noMatch++;
        if (expected.hits.some((h, i) => i > 0 && h.distance === expected.hits[i - 1]?.distance)) seen.tiedHits++;
        for (const backend of others) {
          const actual = await backend.store.search(name, query);
          if (algorithm === "HNSW" && backend.approximate) {
            expectRecall(items, metric, query, expected, actual, `${backend.name} ${label}`);
            continue;
          }
          expectAgreement(expected, actual, `${backend.name} ${label}`);
          // The same items come back: the fields asked for, and the vector bit for bit when asked for.
          expect(actual.hits.map((h) => h.item.fields), `${backend.name} ${label}: fields`).toEqual(expected.hits.map((h) => h.item.fields));
          expect(actual.hits.map((h) => bits(h.item.vector)), `${backend.name} ${label}: vectors`).toEqual(
            expected.hits.map((h) => bits(h.item.vector)),
          );
        }
      }
    });
  }

  for (const metric of METRICS) {
    it(`agrees on range searches with random radii, filters and k (${metric}, FLAT)`, async () => {
      const name = indexNames.find((x) => x.metric === metric && x.algorithm === "FLAT")?.name as string;
      const random = createRandom(500 + METRICS.indexOf(metric));
      let nonEmpty = 0;
      for (let q = 0; q < QUERIES_PER_INDEX; q++) {
        const vector = q % 4 === 0 ? Float32Array.from(items[intBelow(random, items.length)]?.vector ?? []) : randomVector(random);
        // A radius halfway between two neighbouring distances of the whole set: no item on the boundary.
        const ranked = [...new Set(items.map((item) => referenceDistance(metric, vector, item.vector as Float32Array)).filter((d) => !Number.isNaN(d)))].sort(
          (a, b) => a - b,
        );
        const at = intBelow(random, Math.min(ranked.length - 1, 120));
        const maxDistance = Math.max(0, ((ranked[at] as number) + (ranked[at + 1] as number)) / 2);
        const query: SearchQuery = {
          vector,
          k: pick(random, [1, 5, 25, ITEM_COUNT]),
          offset: 0,
          filter: q % 3 === 0 ? { op: "all" } : randomFilter(random),
          includeVectors: false,
          maxDistance,
        };
        const label = `${metric} range ${q} r=${maxDistance} k=${query.k} filter=${JSON.stringify(query.filter)}`;
        const expected = await embedded.search(name, query);
        const inRange = items
          .filter((item) => referenceMatches(query.filter, item))
          .map((item) => ({ id: item.id, d: referenceDistance(metric, vector, item.vector as Float32Array) }))
          .filter((e) => e.d <= maxDistance)
          .sort((a, b) => a.d - b.d || byUtf8(a.id, b.id));
        expect(expected.totalMatches, `embedded ${label}: total`).toBe(Math.min(query.k, inRange.length));
        expected.hits.forEach((hit, i) => expect(close(hit.distance, inRange[i]?.d as number, 1e-5), `embedded ${label}: rank ${i}`).toBe(true));
        if (expected.hits.length > 0) nonEmpty++;
        for (const backend of others) expectAgreement(expected, await backend.store.search(name, query), `${backend.name} ${label}`);
      }
      expect(nonEmpty).toBeGreaterThan(QUERIES_PER_INDEX / 3);
    });
  }

  for (const elementType of ["FLOAT64", "FLOAT16", "BFLOAT16"] as const) {
    it(`agrees on KNN and range searches over ${elementType} vectors (every metric, FLAT)`, async () => {
      const random = createRandom(700 + ["FLOAT64", "FLOAT16", "BFLOAT16"].indexOf(elementType));
      // The use cases round vectors to the type before any store sees them: so does this test.
      const rounded = items.map((item) => ({ ...item, vector: roundVector(elementType, item.vector as Float32Array) }));
      for (const metric of METRICS) {
        // Under COSINE the zero vectors are left out: on a real RediSearch 2.10.32 their NaN distances
        // made FLAT KNN over FLOAT64/FLOAT16/BFLOAT16 miss true neighbours (which ones changed with the
        // key names, i.e. the order of the rows), the poisoning datasetOf describes.
        const typedItems = metric === "COSINE" ? rounded.filter((item) => item.vector.some((x) => x !== 0)) : rounded;
        const name = `xb_${runId}_${metric}_${elementType}`;
        typedIndexNames.push(name);
        const base = indexSpec(name, metric, "FLAT");
        const spec: IndexSpec = { ...base, fields: base.fields.map((f) => (f.type === "vector" ? { ...f, elementType } : f)) };
        for (const store of [embedded, ...others.map((b) => b.store)]) {
          await store.createIndex(spec);
          await store.upsert(name, typedItems.slice(0, 200));
          await store.upsert(name, typedItems.slice(200));
        }
        // A real cluster creates the index on each shard in turn: a shard that got items first indexes
        // them in the background. Wait until every item is indexed everywhere.
        for (const { store } of others) {
          for (let tries = 0; tries < 200; tries++) {
            const info = await store.getIndex(name);
            if (!info.indexing && info.itemCount === typedItems.length) break;
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        }
        for (let q = 0; q < 12; q++) {
          const vector = roundVector(elementType, q === 5 ? Float32Array.from(typedItems[q]?.vector ?? []) : randomVector(random));
          const knnQuery: SearchQuery = { vector, k: pick(random, [1, 10, 50]), offset: 0, filter: q % 2 === 0 ? { op: "all" } : randomFilter(random), includeVectors: q % 4 === 0 };
          const expected = await embedded.search(name, knnQuery);
          // Near the float64 reference (the type's arithmetic moves COSINE by up to ~5e-3 for BFLOAT16).
          for (const hit of expected.hits) {
            const stored = typedItems.find((item) => item.id === hit.id)?.vector as Float32Array;
            const want = referenceDistance(metric, vector, stored);
            if (!Number.isNaN(want)) expect(close(hit.distance, want, 5e-3), `${name} ${hit.id} ${hit.distance} vs ${want}`).toBe(true);
          }
          const distances = expected.hits.map((h) => h.distance).filter((d) => !Number.isNaN(d));
          const radius = Math.max(0, distances[Math.floor(distances.length / 2)] ?? 0);
          const rangeQuery: SearchQuery = { ...knnQuery, k: 400, maxDistance: radius };
          const expectedRange = await embedded.search(name, rangeQuery);
          for (const backend of others) {
            const label = `${backend.name} ${name} query ${q}`;
            const actual = await backend.store.search(name, knnQuery);
            expectAgreement(expected, actual, `${label} knn`);
            expect(actual.hits.map((h) => bits(h.item.vector)), `${label}: vectors`).toEqual(expected.hits.map((h) => bits(h.item.vector)));
            expectAgreement(expectedRange, await backend.store.search(name, rangeQuery), `${label} range r=${radius}`);
          }
        }
      }
    });
  }

  it("agrees on filter-only pages (offset + k, id order)", async () => {
    const random = createRandom(99);
    for (const { name, metric } of indexNames) {
      const items = datasetOf(metric);
      for (let p = 0; p < PAGES_PER_INDEX; p++) {
        const query: SearchQuery = {
          k: pick(random, [1, 7, 50, ITEM_COUNT + 50]),
          offset: pick(random, [0, 0, 3, 40, 350]),
          filter: randomFilter(random),
          includeVectors: false,
        };
        const label = `${name} page ${p} k=${query.k} offset=${query.offset} filter=${JSON.stringify(query.filter)}`;
        const expected = await embedded.search(name, query);
        expectPageMatchesReference(items, query, expected, `embedded ${label}`);
        if (expected.hits.length > 0 && expected.hits.length < expected.totalMatches) seen.partialPages++;
        for (const backend of others) {
          const actual = await backend.store.search(name, query);
          expectAgreement(expected, actual, `${backend.name} ${label}`);
          // Whole items come back the same (fields as stored).
          expect(actual.hits.map((h) => h.item.fields), `${backend.name} ${label}: fields`).toEqual(expected.hits.map((h) => h.item.fields));
        }
      }
    }
  });

  it("exercised ties, k above the matches, empty results and partial pages", () => {
    expect(seen.kAboveMatches).toBeGreaterThan(10);
    expect(seen.noMatch).toBeGreaterThan(0);
    expect(seen.tiedHits).toBeGreaterThan(3);
    expect(seen.partialPages).toBeGreaterThan(5);
  });
});
