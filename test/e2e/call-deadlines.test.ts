/**
 * Issue 11: every store operation observes its call's deadline and cancellation, not only searches and
 * writes. Before, index-definition reads, the admin calls (Index, GetIndex, ListIndexes, DropIndex,
 * UpdateInterests, and the alias calls), GetItems, GetInteractions and item scans waited for Redis up to the 10 s
 * per-command bound whatever the call's deadline, and went on with their work after the client had
 * been told DEADLINE_EXCEEDED; on the embedded engine a write waiting for a long search's lock did its
 * write after its deadline. Now a call whose signal aborts stops waiting at once (DeadlineExceededError
 * / CancelledError, DEADLINE_EXCEEDED / CANCELLED over gRPC, never UNKNOWN) and sends nothing more.
 */
import { credentials, Metadata, status } from "@grpc/grpc-js";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CancelledError, DeadlineExceededError } from "../../src/domain/errors.js";
import { MATCH_ALL, type FilterNode } from "../../src/domain/filter/filter.js";
import type { IndexSpec } from "../../src/domain/schema.js";
import { VectorServiceClient, type GetIndexResponse } from "../../src/gen/vecrec/v1/vecrec.js";
import { startServer } from "../../src/main.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { startRedisStandIn, type RedisStandIn } from "../support/redis-standin/index.js";
import { failure, unary } from "./harness.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const STILL_WAITING = Symbol("still waiting");

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

function deadlineSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new DeadlineExceededError()), ms).unref();
  return controller.signal;
}

/** What `work` settles with within `ms` (its error when it rejects), or STILL_WAITING. */
async function outcomeWithin(work: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const waiting = new Promise<typeof STILL_WAITING>((resolve) => (timer = setTimeout(() => resolve(STILL_WAITING), ms)));
  try {
    return await Promise.race([work.then((value) => value, (error: unknown) => error), waiting]);
  } finally {
    clearTimeout(timer);
  }
}

const SPEC = {
  name: "dl",
  fields: [
    { name: "labels", type: "tag", separator: ",", caseSensitive: false },
    { name: "vec", type: "vector", dimension: 3, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" },
  ],
} as unknown as IndexSpec;

/** A stand-in and a Redis store on it (index "dl" with one item), commands bounded only after 30 s. */
async function redisWithIndex(): Promise<{ standIn: RedisStandIn; store: VectorStore }> {
  const standIn = await startRedisStandIn();
  stops.push(() => standIn.close());
  // definitionCacheMs 0: every call reads the definition from Redis, as after the cache time.
  const store = await createRedisStore({ url: standIn.url, keyPrefix: "dl:", commandTimeoutMs: 30_000, definitionCacheMs: 0 });
  stops.push(() => store.close());
  await store.createIndex(SPEC);
  await store.upsert("dl", [{ id: "a", vector: new Float32Array([1, 0, 0]), fields: { labels: { type: "tag", values: ["x"] } } }]);
  return { standIn, store };
}

describe("call deadlines on Redis (stand-in frozen behind an open socket)", () => {
  it("every store operation stops waiting once its call's deadline passes", async () => {
    const { standIn, store } = await redisWithIndex();
    standIn.freeze();
    stops.push(() => Promise.resolve(standIn.thaw()));
    const first = <T>(iterable: AsyncIterable<T>) => iterable[Symbol.asyncIterator]().next();
    const calls: Record<string, (signal: AbortSignal) => Promise<unknown>> = {
      getIndexSpec: (signal) => store.getIndexSpec("dl", { signal }),
      getIndex: (signal) => store.getIndex("dl", { signal }),
      listIndexes: (signal) => store.listIndexes({ signal }),
      createIndex: (signal) => store.createIndex({ ...SPEC, name: "dl2" }, { signal }),
      dropIndex: (signal) => store.dropIndex("dl", { deleteItems: true, signal }),
      setInterests: (signal) => store.setInterests("dl", undefined, { signal }),
      getItems: (signal) => store.getItems("dl", ["a"], { includeVectors: false, signal }),
      getInteractions: (signal) => store.getInteractions("dl", "u", { offset: 0, limit: 10 }, { signal }),
      scanItems: (signal) => first(store.scanItems("dl", 10, { signal })),
      exportItems: (signal) => first(store.exportItems("dl", { filter: { op: "all" }, batchSize: 10, signal })),
      createAlias: (signal) => store.createAlias("dl-alias", "dl", { signal }),
      updateAlias: (signal) => store.updateAlias("dl-alias", "dl", { signal }),
      deleteAlias: (signal) => store.deleteAlias("dl-alias", { signal }),
    };
    const outcomes = await Promise.all(
      Object.entries(calls).map(async ([name, call]) => [name, await outcomeWithin(call(deadlineSignal(200)), 3_000)] as const),
    );
    for (const [name, outcome] of outcomes) expect(outcome, name).toBeInstanceOf(DeadlineExceededError);
  }, 15_000);

  it("a cancelled call stops waiting too (CancelledError)", async () => {
    const { standIn, store } = await redisWithIndex();
    standIn.freeze();
    stops.push(() => Promise.resolve(standIn.thaw()));
    const controller = new AbortController();
    const pending = outcomeWithin(store.listIndexes({ signal: controller.signal }), 3_000);
    await sleep(50);
    controller.abort(new CancelledError());
    expect(await pending).toBeInstanceOf(CancelledError);
  }, 10_000);

  it("a Search waiting on its FT.SEARCH stops at its deadline, and when its call is cancelled", async () => {
    const standIn = await startRedisStandIn();
    stops.push(() => standIn.close());
    // The definition stays cached (the default), so the frozen Redis holds the FT.SEARCH itself.
    const store = await createRedisStore({ url: standIn.url, keyPrefix: "dls:", commandTimeoutMs: 30_000 });
    stops.push(() => store.close());
    await store.createIndex(SPEC);
    await store.upsert("dl", [{ id: "a", vector: new Float32Array([1, 0, 0]), fields: {} }]);
    const query = (signal: AbortSignal) => store.search("dl", { vector: new Float32Array([1, 0, 0]), k: 1, offset: 0, filter: MATCH_ALL, includeVectors: false, signal });
    expect((await query(new AbortController().signal)).hits.map((h) => h.id)).toEqual(["a"]);
    standIn.freeze();
    stops.push(() => Promise.resolve(standIn.thaw()));
    expect(await outcomeWithin(query(deadlineSignal(200)), 3_000)).toBeInstanceOf(DeadlineExceededError);
    const controller = new AbortController();
    const pending = outcomeWithin(query(controller.signal), 3_000);
    await sleep(50);
    controller.abort(new CancelledError());
    expect(await pending).toBeInstanceOf(CancelledError);
  }, 10_000);

  it("a DropIndex whose deadline passed while Redis was frozen does not drop the index when Redis answers again", async () => {
    const { standIn, store } = await redisWithIndex();
    const logger = pino({ level: process.env.VECREC_TEST_LOG_LEVEL ?? "silent" });
    const server = await startServer({ store, listen: "127.0.0.1:0", logger });
    stops.push(() => server.close({ graceMs: 200 }));
    const client = new VectorServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
    stops.push(() => Promise.resolve(client.close()));
    const getIndex = () => unary<GetIndexResponse>((cb) => client.getIndex({ indexName: "dl" }, new Metadata(), { deadline: Date.now() + 2_000 }, cb));
    expect((await getIndex()).index?.itemCount).toBe(1);

    standIn.freeze();
    const dropped = failure(
      unary((cb) => client.dropIndex({ indexName: "dl", deleteItems: true }, new Metadata(), { deadline: Date.now() + 300 }, cb)),
    );
    expect((await dropped).code).toBe(status.DEADLINE_EXCEEDED);
    await sleep(300);
    // Redis answers again: the definition read the drop had sent is answered now, and nothing follows it.
    standIn.thaw();
    await sleep(500);
    const after = await getIndex();
    expect(after.index?.itemCount).toBe(1);
    expect((await store.getItems("dl", ["a"], { includeVectors: false }))[0]?.id).toBe("a");
  }, 15_000);
});

describe("call deadlines on the embedded engine", () => {
  const DIM = 16;
  const WORDS = Array.from({ length: 100 }, (_, i) => `w${i}`).join(" ");
  // Prefixes no word starts with: each row compares every prefix with every word (a long search).
  const slow: FilterNode = { op: "or", children: Array.from({ length: 16 }, (_, c): FilterNode => ({ op: "text", field: "descr", terms: [`zz${c}*`] })) };

  async function slowIndex(): Promise<VectorStore> {
    const store = createEmbeddedStore();
    stops.push(() => store.close());
    await store.createIndex({
      name: "e",
      fields: [
        { name: "descr", type: "text", weight: 1 },
        { name: "vec", type: "vector", dimension: DIM, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" },
      ],
    } as unknown as IndexSpec);
    await store.upsert(
      "e",
      Array.from({ length: 8_000 }, (_, i) => ({
        id: `i${i}`,
        vector: Float32Array.from({ length: DIM }, (_, d) => ((i * 31 + d * 7) % 17) / 17),
        fields: { descr: { type: "text" as const, value: `${WORDS} item${i}` } },
      })),
    );
    return store;
  }

  const search = (store: VectorStore) =>
    store.search("e", { vector: new Float32Array(DIM), k: 10, offset: 0, filter: slow, returnFields: [], includeVectors: false });

  it("a write waiting for a long search's lock gives up at its deadline and writes nothing later", async () => {
    const store = await slowIndex();
    await search(store); // builds what the first text filter builds
    let searchEnded = false;
    const searching = search(store).finally(() => (searchEnded = true));
    const signal = deadlineSignal(5);
    let searchEndedBeforeDeadline = false;
    signal.addEventListener("abort", () => (searchEndedBeforeDeadline = searchEnded));
    const write = store.upsert("e", [{ id: "late", vector: new Float32Array(DIM), fields: {} }], { signal });
    const outcome = await outcomeWithin(write, 10_000);
    expect(await searching).toMatchObject({ hits: [] });
    if (searchEndedBeforeDeadline) {
      console.log("call-deadlines: the search ended before the write's 5 ms deadline; the lock wait was not exercised");
      return;
    }
    expect(outcome).toBeInstanceOf(DeadlineExceededError);
    expect((await store.getItems("e", ["late"], { includeVectors: false }))[0]).toBeUndefined();
  }, 20_000);

  it("an export stops listing matching ids once its deadline passes", async () => {
    const store = await slowIndex();
    const iterator = store.exportItems("e", { filter: slow, batchSize: 100, signal: deadlineSignal(20) })[Symbol.asyncIterator]();
    let timerRan = false;
    setTimeout(() => (timerRan = true), 1);
    expect(await outcomeWithin(iterator.next(), 10_000)).toBeInstanceOf(DeadlineExceededError);
    expect(timerRan).toBe(true);
  }, 20_000);
});
