/**
 * `npm run bench`: figures measured side by side in one run, printed as markdown. Never part of the test
 * run. Every option is a number; a 0 skips the part it sizes (bench/options.ts).
 *
 *   npm run bench -- [--users 100000] [--dim 128] [--queries 300] [--history 20] [--neighbors 20]
 *                    [--catalog 20000] [--grpc-queries 100]
 *                    [--floor-items 20000] [--floor-search 1] [--floor-upsert 1] [--floor-hnsw 1]
 *                    [--floor-calls 300] [--floor-throughput-calls 2000] [--concurrency 16]
 *                    [--embedded-items 100000] [--embedded-large-items 0] [--embedded-queries 50]
 *                    [--encoding 1] [--queries-items 5000]
 *                    [--durable-items 100000] [--durable-large-items 0]
 *
 * - Recommend vs Search (`--users`, 0 skips this and the next two): Recommend (`--neighbors`
 *   neighbours, histories of `--history` items over `--catalog`) vs Search k=`--neighbors` of the same
 *   user, through the use cases, interleaved query by query (`--queries`): median and p95 latency; then
 *   the same over a real gRPC server and client on loopback (`--grpc-queries`, 0 skips).
 * - Writes: Upsert (batches of 1000 users, through the item use case) and RecordInteractions.
 * - Redis per shard: keys and used memory per primary after the users are stored (bytes per stored
 *   user: vector, metadata, index entries and HNSW/FLAT structures) and after their interactions.
 * - Floor rows of each Redis backend (`--floor-items` items per index, 0 skips them all;
 *   bench/redis-floors.ts): the vecrec server runs in a child process (bench/server-child.ts).
 *   - Search vs its floors (`--floor-search`, bench/search-floor.ts): vecrec Search over gRPC vs the
 *     same FT.SEARCH sent directly with node-redis vs an empty grpc-js unary call (bench/grpc-floor.ts);
 *     k=10, FLAT and HNSW (`--floor-hnsw 0`: FLAT only), without and with a filter; c=1 latency over
 *     `--floor-calls` interleaved rounds, ratio vecrec median / (FT.SEARCH median + empty median);
 *     c=`--concurrency` throughput over `--floor-throughput-calls` calls of each kind (split into 5
 *     rounds, the kinds in a rotating order: medians, ratios within a round), ratio vecrec /
 *     min(FT.SEARCH, empty); the server process's CPU µs per Search.
 *   - Upsert vs pipelined HSET (`--floor-upsert`, bench/upsert-floor.ts): items/s into an empty FLAT
 *     index, batches of 1000, and the ratio.
 * - Embedded engine vs its read bound (`--embedded-items`, and a second row `--embedded-large-items`,
 *   e.g. 1000000; bench/embedded-bound.ts, a child process with --expose-gc): exact KNN per query
 *   (`--embedded-queries`) vs the best read-only pass (JS, WebAssembly SIMD) over the same bytes, and
 *   RSS bytes per stored vector.
 * - UpsertStream vs in-process upserts on the embedded engine (`--stream-items`, bench/upsert-stream.ts);
 *   on Redis the UpsertStream column of the Upsert floor row (one stream into a third FLAT index).
 * - Range vs KNN, FLOAT16 vs FLOAT32 (`--queries-items`, bench/queries.ts): latency ratios, bytes per
 *   stored vector per element type, on the embedded engine and each Redis backend.
 * - Durable embedded engine vs in memory (`--durable-items`, and a second row `--durable-large-items`,
 *   e.g. 1000000; bench/durable-engine.ts, a child process): Upsert items/s into a data directory vs in
 *   memory (1 and 4 writers) and the ratio, bytes of data.mdb per stored vector, and the start time (a
 *   fresh process opening the directory and rebuilding the arenas).
 * - Vector encoding (`--encoding`): encode + decode of the proto Vector message with the generated
 *   ts-proto codecs, `float32_le` bytes vs `float32_values` repeated float, at 768 and 1536 dimensions.
 *
 * Backends: embedded always; Redis when VECREC_BENCH_REDIS_URL is set, a Redis Cluster when
 * VECREC_BENCH_REDIS_CLUSTER_URL is (one node's URL; both may be set, to compare them in one run). The
 * test stand-in says nothing about speed.
 *
 * - Observability cost (`--observability-calls`, bench/observability.ts): Search latency over gRPC and
 *   server CPU per call with access log + metrics + tracing on (in-memory span exporter) vs off, 10000
 *   items, interleaved, one server process per mode, on the embedded engine and each Redis backend; the
 *   ratio of the medians (goal: under 1.05).
 *
 * - Shaped answers (`--shaping-users`, `--shaping-calls`; bench/shaping.ts): Recommend with an item
 *   index + item filter vs plain Recommend, and Search with MMR `diversity` vs plain Search, interleaved,
 *   through the use cases, on the embedded engine and each Redis backend; the ratios of the medians.
 *
 * A quick run: `npm run bench -- --users 0 --floor-items 2000 --floor-calls 50
 *   --floor-throughput-calls 200 --embedded-items 10000 --encoding 0`. */
import { searchDraft } from "../test/support/search-draft.js";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { credentials, type ClientReadableStream } from "@grpc/grpc-js";
import { pino } from "pino";
import { MATCH_ALL } from "../src/domain/filter/filter.js";
import { INTERACTION_KINDS } from "../src/domain/interaction.js";
import { decodeFloat32LE, encodeFloat32LE } from "../src/domain/vector.js";
import { Vector, VectorServiceClient } from "../src/gen/vecrec/v1/vecrec.js";
import { startServer } from "../src/main.js";
import { benchObservability, type ObservabilityFigures } from "./observability.js";
import { createIndexAdmin } from "../src/usecases/index-admin.js";
import { createInteractionService, type InteractionInput } from "../src/usecases/interactions.js";
import { createItemService, type ItemInput } from "../src/usecases/items.js";
import { createRecommender } from "../src/usecases/recommend.js";
import { createSearchService } from "../src/usecases/search.js";
import { createEmbeddedStore } from "../src/store/embedded/embedded-store.js";
import type { VectorStore } from "../src/store/vector-store.js";
import { measureDurable, type DurableFigures } from "./durable-engine.js";
import { measureEmbeddedBound, type EmbeddedBoundFigures } from "./embedded-bound.js";
import { parseOptions, type Options } from "./options.js";
import { benchQueries, printQueries, type QueriesBenchRow } from "./queries.js";
import { benchShaping, printShaping, type ShapingRow } from "./shaping.js";
import { UPSERT_IN_FLIGHT, UPSERT_ROUNDS, benchRedisFloors, type RedisFloorFigures } from "./redis-floors.js";
import { readShards, type ShardReading } from "./redis-shards.js";
import { createRandom, fixed, median, quantile } from "./stats.js";
import { SEARCH_K, THROUGHPUT_ROUNDS } from "./search-floor.js";
import { UPSERT_BATCH } from "./upsert-floor.js";
import { benchEmbeddedStream } from "./upsert-stream.js";

const ms = (x: number): string => x.toFixed(2);

interface LatencyRow {
  backend: string;
  /** Sorted ascending, ms. */
  search: number[];
  recommend: number[];
  recommendedPerQuery: number;
}

interface BackendFigures {
  backend: string;
  upsertPerSecond: number;
  recordPerSecond: number;
  latency: LatencyRow[];
}

/**
 * Warms up, then runs `queries` Search/Recommend pairs for the same random user, alternating which goes
 * first so neither always runs on a warmer cache. `recommend` returns the number of items it got.
 */
async function interleave(
  queries: number,
  pick: () => string,
  search: (userId: string) => Promise<unknown>,
  recommend: (userId: string) => Promise<number>,
): Promise<Omit<LatencyRow, "backend">> {
  for (let i = 0; i < Math.min(30, queries); i++) {
    const u = pick();
    await search(u);
    await recommend(u);
  }
  const searchMs: number[] = [];
  const recommendMs: number[] = [];
  let recommended = 0;
  for (let i = 0; i < queries; i++) {
    const u = pick();
    for (const which of i % 2 === 0 ? ["s", "r"] : ["r", "s"]) {
      const t0 = performance.now();
      if (which === "s") {
        await search(u);
        searchMs.push(performance.now() - t0);
      } else {
        recommended += await recommend(u);
        recommendMs.push(performance.now() - t0);
      }
    }
  }
  searchMs.sort((a, b) => a - b);
  recommendMs.sort((a, b) => a - b);
  return { search: searchMs, recommend: recommendMs, recommendedPerQuery: recommended / queries };
}

/** Reads a server stream to its end; resolves with the number of messages. */
function drain(call: ClientReadableStream<unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    let count = 0;
    call.on("data", () => count++);
    call.on("error", reject);
    call.on("end", () => resolve(count));
  });
}

interface ShardFigures {
  readonly backend: string;
  readonly before: ShardReading[];
  readonly afterUsers: ShardReading[];
  readonly afterInteractions: ShardReading[];
}

async function benchBackend(
  backend: string,
  store: VectorStore,
  o: Options,
  shards?: { read: () => Promise<ShardReading[]>; figures: ShardFigures[] },
): Promise<BackendFigures> {
  const indexName = `bench-${process.pid}`;
  const admin = createIndexAdmin(store);
  const items = createItemService(store);
  const interactions = createInteractionService(store);
  const search = createSearchService(store);
  const recommender = createRecommender(store);
  const random = createRandom(42);

  const before = shards === undefined ? [] : await shards.read();
  await admin.createIndex({ name: indexName, fields: [], defaultVectorDimension: o.dim });
  try {
    // Users: random vectors around 8 clusters, so that neighbours are meaningful.
    const centers = Array.from({ length: 8 }, () => Float32Array.from({ length: o.dim }, () => random() * 2 - 1));
    const BATCH = 1000;
    let upsertMs = 0;
    for (let start = 0; start < o.users; start += BATCH) {
      const batch: ItemInput[] = [];
      for (let u = start; u < Math.min(o.users, start + BATCH); u++) {
        const center = centers[u % centers.length] as Float32Array;
        const vector = Float32Array.from(center, (c) => c + (random() - 0.5) * 0.6);
        batch.push({
          id: `user:${u}`,
          vector,
          fields: {
            labels: { type: "tag", values: [`c${u % 8}`] },
            time: { type: "numeric", value: u },
          },
        });
      }
      const t0 = performance.now();
      await items.upsert(indexName, batch);
      upsertMs += performance.now() - t0;
    }

    const afterUsers = shards === undefined ? [] : await shards.read();
    // Histories: `history` interactions per user; users of a cluster favour a slice of the catalogue.
    const now = Date.now();
    let recordMs = 0;
    let pending: InteractionInput[] = [];
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const t0 = performance.now();
      await interactions.record(indexName, pending);
      recordMs += performance.now() - t0;
      pending = [];
    };
    for (let u = 0; u < o.users; u++) {
      for (let h = 0; h < o.history; h++) {
        const slice = (u % 8) * Math.floor(o.catalog / 8);
        const item = random() < 0.7 ? slice + Math.floor(random() * (o.catalog / 8)) : Math.floor(random() * o.catalog);
        pending.push({
          userId: `user:${u}`,
          itemId: `item:${item}`,
          kind: INTERACTION_KINDS[Math.floor(random() * INTERACTION_KINDS.length)] ?? "view",
          weight: 1,
          occurredAtMs: now - Math.floor(random() * 30 * 86_400_000),
        });
      }
      if (pending.length >= 10_000) await flush();
    }
    await flush();
    if (shards !== undefined) shards.figures.push({ backend, before, afterUsers, afterInteractions: await shards.read() });

    // Warm-up (JIT, spec cache), then interleave the two queries for the same random users.
    const pick = (): string => `user:${Math.floor(random() * o.users)}`;
    const runSearch = (userId: string) =>
      search.search(searchDraft(indexName, { query: { itemId: userId }, k: o.neighbors, returnFields: ["time"] }));
    const runRecommend = (userId: string) =>
      recommender.recommend({
        indexName,
        user: { userId },
        neighborCount: o.neighbors,
        neighborFilter: MATCH_ALL,
        neighborFilterField: "neighbor_filter",
        limit: 10,
        interactionWeights: undefined,
        recencyHalfLifeSeconds: 7 * 86_400,
        includeOwned: false,
      });
    const direct = await interleave(o.queries, pick, runSearch, async (u) => (await runRecommend(u)).items.length);
    const rows: LatencyRow[] = [{ backend: `${backend} (use cases)`, ...direct }];

    if (o.grpcQueries > 0) {
      // The same queries through a real gRPC server and client on loopback.
      const server = await startServer({ store, listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
      const client = new VectorServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
      try {
        const grpcSearch = (userId: string) =>
          drain(
            client.search({
              indexName,
              query: { $case: "itemId", value: userId },
              k: o.neighbors,
              filter: undefined,
              filterQuery: "",
              returnFields: ["time"],
              includeVectors: false,
              efRuntime: 0,
              offset: 0,
              omitFields: [],
            }),
          );
        const grpcRecommend = (userId: string) =>
          drain(
            client.recommend({
              indexName,
              user: { $case: "userId", value: userId },
              neighborCount: o.neighbors,
              neighborFilter: undefined,
              neighborFilterQuery: "",
              itemIndexName: "",
              itemFilterQuery: "",
              excludeItemIds: [],
              limit: 10,
              interactionWeights: [],
              recencyHalfLifeSeconds: 7 * 86_400,
              includeOwned: false,
            }),
          );
        const overGrpc = await interleave(o.grpcQueries, pick, grpcSearch, grpcRecommend);
        rows.push({ backend: `${backend} (gRPC loopback)`, ...overGrpc });
      } finally {
        client.close();
        await server.close({ graceMs: 1000 });
      }
    }
    return {
      backend,
      upsertPerSecond: o.users / (upsertMs / 1000),
      recordPerSecond: (o.users * o.history) / (recordMs / 1000),
      latency: rows,
    };
  } finally {
    await admin.dropIndex(indexName, true);
  }
}

interface EncodingFigures {
  dim: number;
  encoding: string;
  bytes: number;
  microsPerRoundTrip: number;
}

/** encode + decode of a Vector message back to a Float32Array, both encodings. */
function benchEncoding(dim: number): EncodingFigures[] {
  const random = createRandom(dim);
  const vector = Float32Array.from({ length: dim }, () => random() * 2 - 1);
  const iterations = Math.max(200, Math.floor(1_000_000 / dim));
  const cases: { encoding: string; run: () => number }[] = [
    {
      encoding: "float32_le (bytes)",
      run: () => {
        const bytes = Vector.encode({ encoding: { $case: "float32Le", value: encodeFloat32LE(vector) } }).finish();
        const decoded = Vector.decode(bytes);
        if (decoded.encoding?.$case !== "float32Le") throw new Error("bad decode");
        const back = decodeFloat32LE(decoded.encoding.value);
        if (back.length !== dim) throw new Error("bad length");
        return bytes.length;
      },
    },
    {
      encoding: "float32_values (repeated float)",
      run: () => {
        const bytes = Vector.encode({
          encoding: { $case: "float32Values", value: { values: Array.from(vector) } },
        }).finish();
        const decoded = Vector.decode(bytes);
        if (decoded.encoding?.$case !== "float32Values") throw new Error("bad decode");
        const back = Float32Array.from(decoded.encoding.value.values);
        if (back.length !== dim) throw new Error("bad length");
        return bytes.length;
      },
    },
  ];
  // Warm both paths up (JIT) before timing either, then keep the median of 7 timed rounds.
  for (const c of cases) for (let i = 0; i < 2000; i++) c.run();
  return cases.map(({ encoding, run }) => {
    const bytes = run();
    const rounds: number[] = [];
    for (let round = 0; round < 7; round++) {
      const t0 = performance.now();
      for (let i = 0; i < iterations; i++) run();
      rounds.push((performance.now() - t0) / iterations);
    }
    rounds.sort((a, b) => a - b);
    return { dim, encoding, bytes, microsPerRoundTrip: (rounds[3] as number) * 1000 };
  });
}

interface RedisBackend {
  readonly name: string;
  readonly url: string;
  readonly cluster: boolean;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const cpus = os.cpus();
  const out = (line = ""): void => console.log(line);
  const log = (line: string): void => console.error(line);

  out("# vecrec benchmark");
  out();
  out(`- Machine: ${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.arch()}`);
  out(`- Node ${process.version}`);
  if (o.users > 0) {
    out(`- Data: ${o.users} users x ${o.dim} dims (default schema: FLAT, COSINE), ${o.history} interactions per user over ${o.catalog} items`);
    out(`- Queries: ${o.queries} Recommend (user id, ${o.neighbors} neighbours, limit 10, 7-day half-life) interleaved with ${o.queries} Search (item id = same user, k=${o.neighbors}), through the use cases; then ${o.grpcQueries} of each over gRPC on loopback (server and client in this process)`);
  }
  if (o.floorItems > 0) {
    out(`- Floor rows: ${o.floorItems} items x ${o.dim} dims per index (FLAT${o.floorHnsw > 0 ? ", HNSW M=16 EF_CONSTRUCTION=200 EF_RUNTIME=10" : ""}; COSINE), Search k=${SEARCH_K} with a query vector, filter = one of 8 labels; c=1: ${o.floorCalls} rounds of (vecrec Search, direct FT.SEARCH, empty unary, bare Search server) interleaved; c=${o.concurrency}: ${o.floorThroughputCalls} calls of each kind alone, in ${THROUGHPUT_ROUNDS} rounds; vecrec server (and the bare one) in a child process`);
  }
  out();

  const redisBackends: RedisBackend[] = [];
  const candidates = [
    { name: "redis", url: process.env.VECREC_BENCH_REDIS_URL, variable: "VECREC_BENCH_REDIS_URL", what: "a Redis 8 with the Query Engine", cluster: false },
    {
      name: "redis cluster",
      url: process.env.VECREC_BENCH_REDIS_CLUSTER_URL,
      variable: "VECREC_BENCH_REDIS_CLUSTER_URL",
      what: "a node of a Redis OSS Cluster with the Query Engine",
      cluster: true,
    },
  ];
  for (const { name, url, variable, what, cluster } of candidates) {
    if (url === undefined || url === "") {
      out(`_${name}: skipped (set ${variable} to ${what} to measure it)._`);
      out();
    } else {
      redisBackends.push({ name, url, cluster });
    }
  }

  if (o.users > 0) await legacyTables(o, redisBackends, out, log);
  if (o.floorItems > 0 && redisBackends.length > 0) {
    const floors: RedisFloorFigures[] = [];
    for (const b of redisBackends) {
      const started = performance.now();
      floors.push(
        await benchRedisFloors(b.name, b.url, b.cluster, {
          items: o.floorItems,
          dim: o.dim,
          search: o.floorSearch > 0,
          upsertFloor: o.floorUpsert > 0,
          hnsw: o.floorHnsw > 0,
          workers: o.floorWorkers > 0,
          latencyCalls: o.floorCalls,
          throughputCalls: o.floorThroughputCalls,
          concurrency: o.concurrency,
        }, log),
      );
      log(`[bench] ${b.name} floors done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    printFloors(floors, o, out);
  }
  const bounds: EmbeddedBoundFigures[] = [];
  for (const items of [o.embeddedItems, o.embeddedLargeItems]) {
    if (items > 0) {
      bounds.push(await measureEmbeddedBound(items, o.dim, o.embeddedQueries));
      log(`[bench] embedded bound at ${items} items done`);
    }
  }
  if (bounds.length > 0) printBounds(bounds, out);
  if (o.streamItems > 0) {
    const rows = [await benchEmbeddedStream(o.streamItems, o.dim, false), await benchEmbeddedStream(o.streamItems, o.dim, true)];
    log(`[bench] embedded UpsertStream done`);
    out(
      `## UpsertStream vs in-process upserts, embedded engine (items/s, messages/batches of ${UPSERT_BATCH}, ${o.streamItems} items x ${o.dim}, FLAT COSINE; medians of 3 warm rounds)`,
    );
    out();
    out("| engine | vecrec UpsertStream (gRPC client here, server in a child process) | in-process Upsert use case (validation + store) | in-process store.upsert (no validation) | UpsertStream / use case | UpsertStream / store |");
    out("|---|---:|---:|---:|---:|---:|");
    for (const e of rows) {
      out(
        `| ${e.mode} | ${Math.round(e.stream)} | ${Math.round(e.useCase)} | ${Math.round(e.inProcess)} | ${fixed(e.stream / e.useCase)}x | ${fixed(e.stream / e.inProcess)}x |`,
      );
    }
    out();
  }
  const durables: DurableFigures[] = [];
  for (const items of [o.durableItems, o.durableLargeItems]) {
    if (items > 0) {
      durables.push(await measureDurable(items, o.dim));
      log(`[bench] durable embedded engine at ${items} items done`);
    }
  }
  if (durables.length > 0) printDurables(durables, out);
  if (o.encoding > 0) printEncoding(out);
  if (o.queriesItems > 0) await queriesTables(o, redisBackends, out, log);
  if (o.shapingUsers > 0) await shapingTables(o, redisBackends, out, log);
  if (o.observabilityCalls > 0) {
    const modes = ["off", "log", "metrics", "tracing", "on"];
    const rows = [await benchObservability({ backend: "embedded", items: 10_000, dim: o.dim, calls: o.observabilityCalls, modes })];
    log(`[bench] observability cost: embedded done`);
    for (const { name, url } of redisBackends) {
      rows.push(await benchObservability({ backend: name, url, items: 10_000, dim: o.dim, calls: o.observabilityCalls, modes }));
      log(`[bench] observability cost: ${name} done`);
    }
    printObservability(rows, out);
  }
}

const OBSERVABILITY_MODES: Record<string, string> = {
  off: "off",
  log: "access log only",
  metrics: "metrics only",
  tracing: "tracing only",
  on: "**on** (all three)",
};

/** The observability rows: each mode vs off per backend, latency and server CPU per call, and what "on" did. */
function printObservability(rows: readonly ObservabilityFigures[], out: (line?: string) => void): void {
  const first = rows[0]!;
  out(`## Observability cost on Search (${first.items} items x ${first.dim}, k=10, gRPC loopback, ${first.calls} interleaved calls each; one server process per mode)`);
  out();
  out(
    "off: `--log-level warn`, no metrics, no tracing. Access log: info, to a file, batched as on stdout. Metrics: prom-client + `/metrics` listener. Tracing: in-memory exporter behind the batch span processor. CPU: the server process's, per call.",
  );
  out();
  out("| backend | mode | median ms | p95 ms | median / off | CPU µs/call | CPU - off µs |");
  out("|---|---|---:|---:|---:|---:|---:|");
  for (const row of rows) {
    const off = row.modes.find((m) => m.mode === "off")!;
    for (const m of row.modes) {
      out(
        `| ${row.backend} | ${OBSERVABILITY_MODES[m.mode] ?? m.mode} | ${fixed(m.medianMs, 3)} | ${fixed(m.p95Ms, 3)} | ${fixed(m.medianMs / off.medianMs, 3)}x | ${fixed(m.cpuUs, 0)} | ${m === off ? "" : fixed(m.cpuUs - off.cpuUs, 0)} |`,
      );
    }
  }
  out();
  for (const row of rows) {
    const on = row.modes.find((m) => m.mode === "on")!;
    out(`${row.backend}, on: ${on.calls} Searches sent, ${on.scrapedSearches ?? "n/a"} counted by /metrics, ${on.spans} spans exported, ${on.logLines} access lines written.`);
  }
  out();
}

/** Filtered vs plain Recommend and diversified vs plain Search (bench/shaping.ts) on every backend. */
async function shapingTables(o: Options, redisBackends: readonly RedisBackend[], out: (line?: string) => void, log: (line: string) => void): Promise<void> {
  const rows: ShapingRow[] = [];
  const embedded = createEmbeddedStore();
  rows.push(await benchShaping({ name: "embedded", store: embedded }, o.shapingUsers, o.dim, o.shapingCalls));
  await embedded.close();
  log("[bench] shaping rows: embedded done");
  for (const { name, url } of redisBackends) {
    const { createRedisStore } = await import("../src/store/redis/redis-store.js");
    const store = await createRedisStore({ url, keyPrefix: "vecrec-bench-shaping:" });
    try {
      rows.push(await benchShaping({ name, store }, o.shapingUsers, o.dim, o.shapingCalls));
    } finally {
      await store.close();
    }
    log(`[bench] shaping rows: ${name} done`);
  }
  printShaping(rows, o.dim, o.shapingCalls, out);
}

/** Range vs KNN and FLOAT16 vs FLOAT32 rows (bench/queries.ts) on the embedded engine and each Redis backend. */
async function queriesTables(o: Options, redisBackends: readonly RedisBackend[], out: (line?: string) => void, log: (line: string) => void): Promise<void> {
  const rows: QueriesBenchRow[] = [];
  const embedded = createEmbeddedStore();
  rows.push(await benchQueries({ name: "embedded", store: embedded }, o.queriesItems, o.dim, o.queries));
  await embedded.close();
  log("[bench] queries rows: embedded done");
  for (const { name, url } of redisBackends) {
    const { createRedisStore } = await import("../src/store/redis/redis-store.js");
    const { createClient } = await import("redis");
    const store = await createRedisStore({ url, keyPrefix: "vecrec-bench-q:" });
    const info = createClient({ url, RESP: 2 });
    info.on("error", () => undefined);
    await info.connect();
    try {
      rows.push(
        await benchQueries(
          {
            name,
            store,
            memory: async () => (await readShards(url)).reduce((sum, s) => sum + s.usedMemory, 0),
            vectorIndexBytes: async (index) => {
              const reply = await info.sendCommand<unknown[]>(["FT.INFO", `vecrec-bench-q:idx:${index}`]);
              const at = reply.findIndex((x) => String(x) === "vector_index_sz_mb");
              return Number(reply[at + 1]) * 1024 * 1024;
            },
          },
          o.queriesItems,
          o.dim,
          o.queries,
        ),
      );
    } finally {
      await info.quit();
      await store.close();
    }
    log(`[bench] queries rows: ${name} done`);
  }
  printQueries(rows, o.queriesItems, o.dim, out);
}

function printFloors(floors: readonly RedisFloorFigures[], o: Options, out: (line?: string) => void): void {
  const rows = floors.flatMap((f) => f.search.map((r) => ({ backend: f.backend, ...r })));
  if (rows.length > 0) {
    out(`## Search vs its floors at c=1 (latency, ms; k=${SEARCH_K}, ${o.floorItems} items x ${o.dim})`);
    out();
    out(
      "The bare Search server: a grpc-js server next to vecrec's that sends the same FT.SEARCH and answers k messages made in advance (bench/grpc-floor.ts): the floor as a server with nothing of vecrec in it reaches it.",
    );
    out();
    out(
      "| backend | index | filter | vecrec Search median | p95 | direct FT.SEARCH median | p95 | empty unary median | p95 | vecrec / (FT.SEARCH + empty), medians | bare Search server median | bare / (FT.SEARCH + empty) | vecrec / bare |",
    );
    out("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      const v = median(r.latency.vecrec);
      const d = median(r.latency.direct);
      const e = median(r.latency.empty);
      const b = median(r.latency.bare);
      out(
        `| ${r.backend} | ${r.index} | ${r.filtered ? "1 label of 8" : "none"} | ${fixed(v)} | ${fixed(quantile(r.latency.vecrec, 0.95))} | ${fixed(d)} | ${fixed(quantile(r.latency.direct, 0.95))} | ${fixed(e)} | ${fixed(quantile(r.latency.empty, 0.95))} | ${fixed(v / (d + e))}x | ${fixed(b)} | ${fixed(b / (d + e))}x | ${fixed(v / b)}x |`,
      );
    }
    out();
    out(
      `## Search vs its floors at c=${o.concurrency} (throughput, calls/s, medians of ${THROUGHPUT_ROUNDS} rounds, the kinds in a rotating order; ratios within each round; server CPU of the vecrec process)`,
    );
    out();
    const workers = os.availableParallelism();
    out(
      `One process: the vecrec server child (its CPU in the CPU columns). Default workers: the same server as \`npm start\` runs it, \`--workers 0\` = ${workers} processes here, called over ${Math.max(4, workers * 2)} connections (a connection is served by one worker).`,
    );
    out();
    out(
      `| backend | index | filter | vecrec Search/s | vecrec Search/s, default workers | direct FT.SEARCH/s | empty unary/s | vecrec / min(FT.SEARCH, empty) | default workers / min(FT.SEARCH, empty) | bare Search server/s | bare / min(FT.SEARCH, empty) | server CPU µs per Search | per bare Search | per empty call | hits per Search |`,
    );
    out("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      const t = r.throughput;
      const withWorkers = t.vecrecWorkers === undefined ? "skipped" : String(Math.round(t.vecrecWorkers));
      const workersRatio = r.ratios.vecrecWorkers === undefined ? "" : `${fixed(r.ratios.vecrecWorkers)}x`;
      out(
        `| ${r.backend} | ${r.index} | ${r.filtered ? "1 label of 8" : "none"} | ${Math.round(t.vecrec)} | ${withWorkers} | ${Math.round(t.direct)} | ${Math.round(t.empty)} | ${fixed(r.ratios.vecrec)}x | ${workersRatio} | ${Math.round(t.bare)} | ${fixed(r.ratios.bare)}x | ${Math.round(r.cpuPerSearchMicros)} | ${Math.round(r.cpuPerBareMicros)} | ${Math.round(r.cpuPerEmptyMicros)} | ${fixed(r.hitsPerSearch, 1)} |`,
      );
    }
    out();
  }
  out(
    `## Upsert vs pipelined HSET (items/s, batches of ${UPSERT_BATCH} one call at a time, ${o.floorItems} items x ${o.dim} into an empty index; medians of ${UPSERT_ROUNDS} interleaved rounds, ratios within each round)`,
  );
  out();
  out(
    "Items that leave the schema's TEXT field out are written by vecrec with one RESTORE REPLACE each (the whole hash in one command, atomic: an Upsert replaces the whole item, so the fields it lacks must go); items that set every field, with one HSET each. The HSET floor only adds fields.",
  );
  out();
  out(
    "The replace commands floor sends vecrec's own commands (RESTORE for an item lacking a field, HSET otherwise) pipelined straight to Redis: the same work in Redis, so its ratios are vecrec's own overhead. For items that set every field, vecrec's commands are the HSETs of the floor.",
  );
  out();
  out(
    "| backend | items | vecrec Upsert, FLAT | pipelined HSET, FLAT | vecrec / HSET | vecrec Upsert, HNSW | vecrec UpsertStream, FLAT | UpsertStream / HSET | replace commands pipelined, FLAT | Upsert / same commands | UpsertStream / same commands |",
  );
  out("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const f of floors) {
    const { vecrecFlat, directFlat, vecrecHnsw, streamFlat, upsertRatio, streamRatio, replaceFlat, upsertToReplace, streamToReplace } = f.upsert;
    const streamed = streamFlat === undefined ? "skipped" : Math.round(streamFlat);
    const ratio = (value: number | undefined): string => (value === undefined ? "" : `${fixed(value)}x`);
    out(
      `| ${f.backend} | descr left out | ${Math.round(vecrecFlat)} | ${directFlat === undefined ? "skipped" : Math.round(directFlat)} | ${ratio(upsertRatio)} | ${vecrecHnsw === undefined ? "skipped" : Math.round(vecrecHnsw)} | ${streamed} | ${ratio(streamRatio)} | ${replaceFlat === undefined ? "skipped" : Math.round(replaceFlat)} | ${ratio(upsertToReplace)} | ${ratio(streamToReplace)} |`,
    );
    const c = f.upsertComplete;
    if (c !== undefined) {
      out(
        `| ${f.backend} | every field set | ${Math.round(c.vecrec)} | ${Math.round(c.direct)} | ${fixed(c.upsertRatio)}x | | ${Math.round(c.stream)} | ${fixed(c.streamRatio)}x | (the HSETs) | ${fixed(c.upsertRatio)}x | ${fixed(c.streamRatio)}x |`,
      );
    }
  }
  out();
  const concurrent = floors.filter((f) => f.upsertInFlight !== undefined);
  if (concurrent.length === 0) return;
  out(`## Upsert with ${UPSERT_IN_FLIGHT} batches in flight on each side (items/s, batches of ${UPSERT_BATCH}, ${o.floorItems} items x ${o.dim} into an empty FLAT index)`);
  out();
  out(
    `${UPSERT_IN_FLIGHT} Upsert calls at a time (the next one starts as soon as one ends, as a loader with ${UPSERT_IN_FLIGHT} workers runs) against ${UPSERT_IN_FLIGHT} batches of 1000 pipelined HSETs at a time; requests and commands built before the clock starts. Medians over the rounds; the ratios within each round.`,
  );
  out();
  out("| backend | items | vecrec Upsert | pipelined HSET | vecrec / HSET |");
  out("|---|---|---:|---:|---:|");
  for (const f of concurrent) {
    const { leftOut, complete } = f.upsertInFlight!;
    out(`| ${f.backend} | descr left out | ${Math.round(leftOut.vecrec)} | ${Math.round(leftOut.direct)} | ${fixed(leftOut.ratio)}x |`);
    out(`| ${f.backend} | every field set | ${Math.round(complete.vecrec)} | ${Math.round(complete.direct)} | ${fixed(complete.ratio)}x |`);
  }
  out();
}

function printBounds(bounds: readonly EmbeddedBoundFigures[], out: (line?: string) => void): void {
  out("## Embedded engine vs its read bound (exact KNN k=10, no filter, FLAT COSINE; child process with --expose-gc)");
  out();
  out(
    "KNN on the main thread alone (`scanThreads: 0`), query after query, against the read pass of one thread; then that store and a second one sharing its scans with the default scan threads (`--scan-threads` unset: one per core beyond the first, at most 4), queried alternately (each evicts part of the other's rows from the caches, so the one-thread median there is higher than alone).",
  );
  out();
  out("| items x dims | vector bytes | KNN median ms | KNN p95 ms | read pass, JS (best of 7) ms | read pass, wasm SIMD (best of 7) ms | KNN / best read pass | KNN scan GB/s | RSS bytes per stored vector | scan threads | one thread, alternated, median ms | shared KNN median ms | p95 | one thread / shared |");
  out("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const b of bounds) {
    const bytes = b.items * b.dim * 4;
    const bound = Number.isNaN(b.wasmReadMs) ? b.jsReadMs : Math.min(b.jsReadMs, b.wasmReadMs);
    out(
      `| ${b.items} x ${b.dim} | ${(bytes / 2 ** 20).toFixed(1)} MiB | ${fixed(b.scanMedianMs)} | ${fixed(b.scanP95Ms)} | ${fixed(b.jsReadMs)} | ${fixed(b.wasmReadMs)} | ${fixed(b.scanMedianMs / bound)}x | ${fixed(bytes / (b.scanMedianMs / 1000) / 1e9, 1)} | ${Math.round(b.rssBytesPerVector)}${b.gcExposed ? "" : " (no --expose-gc)"} | ${b.sharedThreads} | ${fixed(b.alternatedScanMedianMs)} | ${fixed(b.sharedScanMedianMs)} | ${fixed(b.sharedScanP95Ms)} | ${fixed(b.alternatedScanMedianMs / b.sharedScanMedianMs)}x |`,
    );
  }
  out();
  out("Searches a second with several at once (the same stores and queries; median of two rounds each, the stores in turn):");
  out();
  out("| items x dims | searches at once | main thread alone /s | with the scan threads /s | ratio |");
  out("|---|---:|---:|---:|---:|");
  for (const b of bounds) {
    for (const c of b.concurrent) {
      out(`| ${b.items} x ${b.dim} | ${c.callers} | ${fixed(c.oneThread, 1)} | ${fixed(c.shared, 1)} | ${fixed(c.shared / c.oneThread)}x |`);
    }
  }
  out();
}

function printDurables(rows: readonly DurableFigures[], out: (line?: string) => void): void {
  out("## Durable embedded engine (data directory, LMDB, fsync per Upsert) vs in memory");
  out();
  out("Upserts of 1000 items (FLAT COSINE, a tag and a number each) straight into the store; start = a fresh process opening the directory and rebuilding the in-memory arenas (warm page cache).");
  out();
  out(`Machine load average ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores at the end: wall times stretch when the cores are busy; CPU ms do not.`);
  out();
  out("| items x dims | writers | in memory items/s | durable items/s | durable / memory | data.mdb bytes per vector (raw vector) | start ms (CPU ms) | RSS after start |");
  out("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    for (const [i, writers] of [1, 4].entries()) {
      const memory = r.memoryPerSecond[i] ?? 0;
      const durable = r.durablePerSecond[i] ?? 0;
      const disk = i === 0 ? `${Math.round(r.diskBytes / r.items)} (${r.dim * 4})` : "";
      const start = i === 0 ? `${Math.round(r.startMs)} (${Math.round(r.startCpuMs)})` : "";
      const rss = i === 0 ? `${(r.startRss / 2 ** 20).toFixed(0)} MiB` : "";
      out(`| ${r.items} x ${r.dim} | ${writers} | ${Math.round(memory)} | ${Math.round(durable)} | ${fixed(durable / memory)}x | ${disk} | ${start} | ${rss} |`);
    }
  }
  out();
}

function printEncoding(out: (line?: string) => void): void {
  out("## Vector encoding (proto Vector message, encode + decode to Float32Array, ts-proto codecs)");
  out();
  out("| dims | encoding | bytes on the wire | µs per encode+decode (median of 7 rounds) | relative cost |");
  out("|---:|---|---:|---:|---:|");
  for (const dim of [768, 1536]) {
    const rows = benchEncoding(dim);
    const base = rows[0]?.microsPerRoundTrip ?? 1;
    for (const r of rows) {
      out(`| ${r.dim} | ${r.encoding} | ${r.bytes} | ${r.microsPerRoundTrip.toFixed(2)} | ${(r.microsPerRoundTrip / base).toFixed(1)}x |`);
    }
  }
}

/** The Recommend vs Search, Writes and per-shard tables, on the embedded engine and each Redis backend. */
async function legacyTables(
  o: Options,
  redisBackends: readonly RedisBackend[],
  out: (line?: string) => void,
  log: (line: string) => void,
): Promise<void> {
  const backends: { name: string; url?: string; open: () => Promise<VectorStore> }[] = [
    { name: "embedded", open: () => Promise.resolve(createEmbeddedStore()) },
  ];
  for (const { name, url } of redisBackends) {
    backends.push({
      name,
      url,
      open: async () => {
        // imported here so that the embedded-only run does not load the Redis client
        const { createRedisStore } = await import("../src/store/redis/redis-store.js");
        return createRedisStore({ url, keyPrefix: "vecrec-bench:" });
      },
    });
  }

  const figures: BackendFigures[] = [];
  const shardFigures: ShardFigures[] = [];
  for (const backend of backends) {
    const store = await backend.open();
    try {
      const started = performance.now();
      const url = backend.url;
      const shards = url === undefined ? undefined : { read: () => readShards(url), figures: shardFigures };
      figures.push(await benchBackend(backend.name, store, o, shards));
      log(`[bench] ${backend.name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await store.close();
    }
  }

  out("## Recommend vs Search (latency, ms)");
  out();
  out("| backend | Search k=20 median | Search p95 | Recommend median | Recommend p95 | Recommend / Search (median) | items per Recommend |");
  out("|---|---:|---:|---:|---:|---:|---:|");
  for (const f of figures.flatMap((x) => x.latency)) {
    const sMed = quantile(f.search, 0.5);
    const rMed = quantile(f.recommend, 0.5);
    out(
      `| ${f.backend} | ${ms(sMed)} | ${ms(quantile(f.search, 0.95))} | ${ms(rMed)} | ${ms(quantile(f.recommend, 0.95))} | ${(rMed / sMed).toFixed(2)}x | ${f.recommendedPerQuery.toFixed(1)} |`,
    );
  }
  out();
  out("## Writes");
  out();
  out("| backend | upsert (users/s, batches of 1000) | record interactions (interactions/s, batches of 10000) |");
  out("|---|---:|---:|");
  for (const f of figures) {
    out(`| ${f.backend} | ${Math.round(f.upsertPerSecond)} | ${Math.round(f.recordPerSecond)} |`);
  }
  out();
  if (shardFigures.length > 0) {
    out("## Redis per shard (keys and used memory per primary)");
    out();
    out("| backend | primary | users stored | bytes per user (vector + metadata + index) | interaction keys | bytes per interaction |");
    out("|---|---|---:|---:|---:|---:|");
    for (const f of shardFigures) {
      if (f.afterUsers.length === 0) out(`| ${f.backend} | (INFO not answered: no figures) | | | | |`);
      f.afterUsers.forEach((after, i) => {
        const before = f.before.find((b) => b.node === after.node) ?? { usedMemory: 0, keys: 0 };
        const final = f.afterInteractions.find((b) => b.node === after.node) ?? after;
        const users = after.keys - before.keys;
        const userBytes = users > 0 ? (after.usedMemory - before.usedMemory) / users : 0;
        const interactionKeys = final.keys - after.keys;
        const interactions = (o.users * o.history * users) / Math.max(1, o.users);
        const interactionBytes = interactions > 0 ? (final.usedMemory - after.usedMemory) / interactions : 0;
        out(`| ${f.backend} | shard ${i + 1} | ${users} | ${Math.round(userBytes)} | ${interactionKeys} | ${interactionBytes.toFixed(1)} |`);
      });
    }
    out();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
