/**
 * `npm run bench -- [--name value ...]`: every option is a number (see bench/run.ts for what each
 * part measures). A 0 skips the part an option sizes.
 */
export interface Options {
  /** Recommend vs Search, Writes and per-shard tables: users (0 skips those tables). */
  users: number;
  dim: number;
  queries: number;
  history: number;
  neighbors: number;
  catalog: number;
  /** Recommend/Search pairs over gRPC (0 skips). */
  grpcQueries: number;
  /** Vector encoding table (0 skips). */
  encoding: number;
  /** Redis floor rows: items per index (0 skips every floor row). */
  floorItems: number;
  /** Search vs its floors (0 skips). */
  floorSearch: number;
  /** Upsert vs pipelined HSET (0 skips the HSET copy). */
  floorUpsert: number;
  /** HNSW index in the floor rows (0: FLAT only). */
  floorHnsw: number;
  /** The c=N Search rows also against the server with its default workers (0 skips). */
  floorWorkers: number;
  /** Concurrency-1 rounds (each one vecrec Search, one direct FT.SEARCH, one empty unary call). */
  floorCalls: number;
  /** Calls per kind in the concurrent throughput runs. */
  floorThroughputCalls: number;
  /** Concurrent callers of the throughput runs. */
  concurrency: number;
  /** Embedded engine vs its read bound: items (0 skips). */
  embeddedItems: number;
  /** A second, larger embedded row, e.g. 1000000 (0 skips). */
  embeddedLargeItems: number;
  /** Exact KNN queries timed per embedded row. */
  embeddedQueries: number;
  /** UpsertStream vs in-process upserts on the embedded engine: items (0 skips). */
  streamItems: number;
  /** Range vs KNN, FLOAT16 vs FLOAT32 (bench/queries.ts): items per index (0 skips). */
  queriesItems: number;
  /** Durable embedded engine vs in memory (ingest ratio, bytes on disk, start time): items (0 skips). */
  durableItems: number;
  /** A second, larger durable row, e.g. 1000000 (0 skips). */
  durableLargeItems: number;
  /** Search latency with metrics + tracing on vs off (bench/observability.ts): interleaved calls (0 skips). */
  observabilityCalls: number;
  /** Filtered vs plain Recommend, diversified vs plain Search (bench/shaping.ts): users (0 skips). */
  shapingUsers: number;
  /** Interleaved pairs timed per shaping row. */
  shapingCalls: number;
}

export const DEFAULT_OPTIONS: Readonly<Options> = {
  users: 100_000,
  dim: 128,
  queries: 300,
  history: 20,
  neighbors: 20,
  catalog: 20_000,
  grpcQueries: 100,
  encoding: 1,
  floorItems: 20_000,
  floorSearch: 1,
  floorUpsert: 1,
  floorHnsw: 1,
  floorWorkers: 1,
  floorCalls: 300,
  floorThroughputCalls: 2000,
  concurrency: 16,
  embeddedItems: 100_000,
  embeddedLargeItems: 0,
  embeddedQueries: 50,
  streamItems: 20_000,
  queriesItems: 5000,
  durableItems: 100_000,
  durableLargeItems: 0,
  observabilityCalls: 500,
  shapingUsers: 5000,
  shapingCalls: 200,
};

/** Options that must stay positive (the others may be 0). */
const POSITIVE: readonly (keyof Options)[] = ["dim", "queries", "neighbors", "catalog", "floorCalls", "floorThroughputCalls", "concurrency", "embeddedQueries"];

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function parseOptions(argv: readonly string[]): Options {
  const options: Options = { ...DEFAULT_OPTIONS };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--") continue;
    const name = argv[i]?.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = Number(argv[i + 1]);
    const known = name !== undefined && name in options;
    if (!known || !Number.isFinite(value) || value < 0 || (value === 0 && POSITIVE.includes(name as keyof Options))) {
      const usage = Object.keys(options).map((k) => `--${kebab(k)} N`).join(" ");
      throw new Error(`unknown or bad option ${argv[i]} ${argv[i + 1] ?? ""} (use ${usage})`);
    }
    options[name as keyof Options] = Math.floor(value);
    i++;
  }
  return options;
}
