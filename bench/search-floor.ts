/**
 * Search vs its floors, on one loaded index: vecrec Search over gRPC on loopback (k=10, a query vector,
 * optionally the label filter) against
 * - the same FT.SEARCH sent straight to Redis with node-redis from the bench process: the command comes
 *   from vecrec's own `buildSearchArgs` (src/store/redis/commands/ft-search.ts) for the query the Search
 *   use case makes of that request, with k+1 rows as vecrec asks for (to see a tie at the k-th), so it
 *   is byte for byte the query vecrec sends; the reply is read by node-redis but not turned into hits;
 * - an empty unary call of a trivial grpc-js service next to the vecrec server (bench/grpc-floor.ts);
 * - the same FT.SEARCH served by a bare grpc-js server next to the vecrec server (bench/grpc-floor.ts,
 *   startBareSearchServer: the command as the request, k messages made in advance as the answer): what a
 *   Search costs with nothing of vecrec in it.
 * At concurrency 1 (the four interleaved call by call: median and p95 latency) and at `concurrency`
 * callers sharing a fixed number of calls (throughput, each kind alone): in THROUGHPUT_ROUNDS rounds,
 * each kind once per round in an order that rotates from round to round, so that the machine's drift
 * (its speed moves by up to 2x within minutes) hits every kind alike; a kind's throughput is its median
 * over the rounds, and each ratio the median of the ratios within a round. The server's CPU per Search
 * is the server process's cpuUsage delta over the concurrent Search runs divided by their calls.
 */
import { MATCH_ALL, type FilterNode } from "../src/domain/filter/filter.js";
import type { IndexSpec } from "../src/domain/schema.js";
import { Undecodable } from "../src/domain/violations.js";
import type { SearchRequest, VectorServiceClient } from "../src/gen/vecrec/v1/vecrec.js";
import { translateFilterTree } from "../src/grpc/filter-mapping.js";
import { encodeFloat32LE } from "../src/domain/vector.js";
import { buildSearchArgs } from "../src/store/redis/commands/ft-search.js";
import type { RedisKeys } from "../src/store/redis/redis-keys.js";
import type { SearchQuery } from "../src/store/vector-store.js";
import { PROTO_FILTER, type FloorData } from "./floor-data.js";
import type { DirectRedis } from "./redis-direct.js";
import { interleavedLatency, medianOf, throughput } from "./stats.js";
import { encodeCommand } from "./grpc-floor.js";

export const SEARCH_K = 10;

/** Rounds of the concurrent runs (each kind once per round, the calls split between the rounds); odd, so a median is a round's. */
export const THROUGHPUT_ROUNDS = 5;

export interface SearchFloorRow {
  readonly index: string;
  readonly filtered: boolean;
  /** ms, ascending: vecrec Search, direct FT.SEARCH, empty unary, the bare grpc-js Search server. */
  readonly latency: { vecrec: number[]; direct: number[]; empty: number[]; bare: number[] };
  /** calls/s at `concurrency` callers (medians over the rounds); `vecrecWorkers`: the server with its default workers. */
  readonly throughput: { vecrec: number; direct: number; empty: number; bare: number; vecrecWorkers?: number };
  /** Throughput over min(direct, empty) of the same round, median over the rounds. */
  readonly ratios: { vecrec: number; bare: number; vecrecWorkers?: number };
  /** Server process CPU µs per Search (c=N run), per empty call and per call of the bare Search server. */
  readonly cpuPerSearchMicros: number;
  readonly cpuPerEmptyMicros: number;
  readonly cpuPerBareMicros: number;
  /** Hits per vecrec Search (a sanity check: k unless the filter leaves fewer). */
  readonly hitsPerSearch: number;
}

export interface SearchFloorTarget {
  readonly client: VectorServiceClient;
  readonly empty: () => Promise<void>;
  /** One call of the bare Search service with this encoded command (encodeCommand); resolves with its messages. */
  readonly bareSearch: (command: Buffer) => Promise<number>;
  readonly direct: DirectRedis;
  readonly keys: RedisKeys;
  /** Server process CPU time so far, µs. */
  readonly serverCpu: () => Promise<number>;
  /**
   * Clients of the same server run with its default workers (`--workers 0`: one process per core),
   * each on a connection of its own (a connection is served by one worker); undefined: not measured.
   */
  readonly workers?: { readonly clients: readonly VectorServiceClient[]; readonly count: number };
}

export interface SearchFloorOptions {
  readonly latencyCalls: number;
  readonly throughputCalls: number;
  readonly concurrency: number;
}

/** Reads a server stream to its end; resolves with the number of messages. */
function drain(call: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    let count = 0;
    call.on("data", () => count++);
    call.on("error", reject);
    call.on("end", () => resolve(count));
  });
}

export async function measureSearchFloor(
  target: SearchFloorTarget,
  spec: IndexSpec,
  data: FloorData,
  filtered: boolean,
  o: SearchFloorOptions,
): Promise<SearchFloorRow> {
  let filter: FilterNode = MATCH_ALL;
  if (filtered) {
    const decoded = translateFilterTree(PROTO_FILTER, "filter");
    if (decoded instanceof Undecodable) throw new Error("the bench filter does not decode");
    filter = decoded;
  }
  const requests: SearchRequest[] = data.queries.map((vector) => ({
    indexName: spec.name,
    query: { $case: "vector", value: { encoding: { $case: "float32Le", value: encodeFloat32LE(vector) } } },
    k: SEARCH_K,
    filter: filtered ? PROTO_FILTER : undefined,
    filterQuery: "",
    returnFields: [],
    includeVectors: false,
    efRuntime: 0,
    offset: 0,
    omitFields: [],
  }));
  // What the Search use case makes of those requests (no return_fields: every metadata field; no
  // ef_runtime: the index default), and what the Redis store sends for it.
  const commands = data.queries.map((vector) => {
    const query: SearchQuery = { k: SEARCH_K, offset: 0, filter, includeVectors: false, vector };
    const args = buildSearchArgs(target.keys, spec, query, SEARCH_K + 1);
    if (args === undefined) throw new Error("the bench query matches nothing");
    return args.command;
  });

  const encoded = commands.map((command) => encodeCommand(command));
  let vi = 0;
  let di = 0;
  let bi = 0;
  let hits = 0;
  let searches = 0;
  const vecrec = async (): Promise<void> => {
    hits += await drain(target.client.search(requests[vi++ % requests.length] as SearchRequest));
    searches++;
  };
  const direct = async (): Promise<void> => {
    await target.direct.send(commands[di++ % commands.length] as (string | Buffer)[]);
  };
  const bare = async (): Promise<void> => {
    const messages = await target.bareSearch(encoded[bi++ % encoded.length] as Buffer);
    if (messages !== SEARCH_K) throw new Error(`the bare Search service answered ${messages} messages`);
  };
  const [vecrecMs = [], directMs = [], emptyMs = [], bareMs = []] = await interleavedLatency([vecrec, direct, target.empty, bare], o.latencyCalls);
  const hitsPerSearch = hits / searches;

  let wi = 0;
  const workersClients = target.workers?.clients;
  const vecrecWorkers =
    workersClients === undefined
      ? undefined
      : async (): Promise<void> => {
          const client = workersClients[wi % workersClients.length] as VectorServiceClient;
          await drain(client.search(requests[wi++ % requests.length] as SearchRequest));
        };
  type Kind = "vecrec" | "direct" | "empty" | "bare" | "vecrecWorkers";
  const kinds: [Kind, () => Promise<void>][] = [
    ["vecrec", vecrec],
    ["direct", direct],
    ["empty", target.empty],
    ["bare", bare],
    ...(vecrecWorkers === undefined ? [] : [["vecrecWorkers", vecrecWorkers] as [Kind, () => Promise<void>]]),
  ];
  const perRound = Math.max(1, Math.ceil(o.throughputCalls / THROUGHPUT_ROUNDS));
  const rounds: Partial<Record<Kind, number>>[] = [];
  const cpu: Partial<Record<Kind, number>> = {};
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    const measured: Partial<Record<Kind, number>> = {};
    for (let j = 0; j < kinds.length; j++) {
      const [kind, call] = kinds[(round + j) % kinds.length] as [Kind, () => Promise<void>];
      const before = await target.serverCpu();
      measured[kind] = await throughput(call, o.concurrency, perRound);
      cpu[kind] = (cpu[kind] ?? 0) + (await target.serverCpu()) - before;
    }
    rounds.push(measured);
  }
  const of = (kind: Kind): number => medianOf(rounds.map((r) => r[kind] as number));
  const ratio = (kind: Kind): number => medianOf(rounds.map((r) => (r[kind] as number) / Math.min(r.direct as number, r.empty as number)));
  // throughput() runs a warm-up of min(total, 4 x callers) calls before the timed ones: counted here too.
  const callsPerRun = THROUGHPUT_ROUNDS * (perRound + Math.min(perRound, o.concurrency * 4));
  return {
    index: spec.fields.find((f) => f.type === "vector")?.algorithm ?? "?",
    filtered,
    latency: { vecrec: vecrecMs, direct: directMs, empty: emptyMs, bare: bareMs },
    throughput: {
      vecrec: of("vecrec"),
      direct: of("direct"),
      empty: of("empty"),
      bare: of("bare"),
      ...(vecrecWorkers !== undefined && { vecrecWorkers: of("vecrecWorkers") }),
    },
    ratios: {
      vecrec: ratio("vecrec"),
      bare: ratio("bare"),
      ...(vecrecWorkers !== undefined && { vecrecWorkers: ratio("vecrecWorkers") }),
    },
    cpuPerSearchMicros: (cpu.vecrec ?? 0) / callsPerRun,
    cpuPerEmptyMicros: (cpu.empty ?? 0) / callsPerRun,
    cpuPerBareMicros: (cpu.bare ?? 0) / callsPerRun,
    hitsPerSearch,
  };
}
