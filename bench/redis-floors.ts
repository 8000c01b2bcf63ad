/**
 * The floor rows of one Redis backend: a vecrec server in a child process (bench/server-child.ts) on
 * that Redis, its gRPC client here, and node-redis here for the direct commands. Loads a FLAT index
 * through vecrec Upsert (the Upsert row), writes the same items into a second FLAT index with pipelined
 * HSETs (the floor of the Upsert row), loads an HNSW index, then measures Search against its floors on
 * both indexes, with and without the filter. Every key and index lives under its own prefix and is
 * dropped at the end.
 */
import { credentials } from "@grpc/grpc-js";
import { createVectorServiceClient } from "../src/cli/upsert-encoding.js";
import { VectorServiceClient } from "../src/gen/vecrec/v1/vecrec.js";
import type { IndexSpec } from "../src/domain/schema.js";
import { createRedisKeys } from "../src/store/redis/redis-keys.js";
import { medianOf } from "./stats.js";
import { createRedisStore } from "../src/store/redis/redis-store.js";
import os from "node:os";
import { serverNodeFlags, startChild, startVecrecProcess, type VecrecProcess } from "./child-process.js";
import { floorData, floorSpec } from "./floor-data.js";
import { bareSearchClient, emptyClient } from "./grpc-floor.js";
import { connectDirect } from "./redis-direct.js";
import { measureSearchFloor, type SearchFloorOptions, type SearchFloorRow } from "./search-floor.js";
import type { ServerChildCpu, ServerChildReady } from "./server-child.js";
import { directHset, directReplace, vecrecUpsert } from "./upsert-floor.js";
import { vecrecUpsertStream } from "./upsert-stream.js";

/** Rounds of the Upsert floor rows (each: Upsert, HSET, UpsertStream, with and without the TEXT field). */
export const UPSERT_ROUNDS = 3;
/** Batches in flight on each side in the concurrent Upsert rows (a loader with that many workers). */
export const UPSERT_IN_FLIGHT = 4;

export interface RedisFloorOptions extends SearchFloorOptions {
  readonly items: number;
  readonly dim: number;
  /** Measure Search against its floors (else only load and the Upsert row). */
  readonly search: boolean;
  /** Measure the pipelined-HSET floor of Upsert. */
  readonly upsertFloor: boolean;
  /** Also load and search an HNSW index. */
  readonly hnsw: boolean;
  /** Also measure the c=N Search rows against the server run with its default workers. */
  readonly workers: boolean;
}

export interface RedisFloorFigures {
  readonly backend: string;
  /**
   * items/s: vecrec Upsert into FLAT, pipelined HSET into FLAT (undefined when skipped), vecrec Upsert into
   * HNSW, UpsertStream into FLAT; with the floor, medians over UPSERT_ROUNDS rounds and the medians of the
   * per-round ratios to HSET.
   */
  readonly upsert: {
    readonly vecrecFlat: number;
    readonly directFlat?: number;
    readonly vecrecHnsw?: number;
    readonly streamFlat?: number;
    readonly upsertRatio?: number;
    readonly streamRatio?: number;
    /** items/s of vecrec's own commands (replace script / HSET) pipelined straight to Redis, and the ratios to it. */
    readonly replaceFlat?: number;
    readonly upsertToReplace?: number;
    readonly streamToReplace?: number;
  };
  /** The same when every item sets every schema field (one HSET each in vecrec too). */
  readonly upsertComplete?: {
    readonly vecrec: number;
    readonly direct: number;
    readonly stream: number;
    readonly upsertRatio: number;
    readonly streamRatio: number;
  };
  /**
   * UPSERT_IN_FLIGHT Upsert calls in flight against as many pipelined batches of HSETs (items/s, medians
   * over the rounds, and the medians of the per-round ratios), for items that leave the TEXT field out
   * and for items that set every field.
   */
  readonly upsertInFlight?: {
    readonly leftOut: { readonly vecrec: number; readonly direct: number; readonly ratio: number };
    readonly complete: { readonly vecrec: number; readonly direct: number; readonly ratio: number };
  };
  readonly search: SearchFloorRow[];
}

export async function benchRedisFloors(
  backend: string,
  url: string,
  cluster: boolean,
  o: RedisFloorOptions,
  log: (line: string) => void,
): Promise<RedisFloorFigures> {
  const keyPrefix = `vecrec-bench-floor-${process.pid}:`;
  const keys = createRedisKeys(keyPrefix);
  const store = await createRedisStore({ url, keyPrefix });
  const direct = await connectDirect(url, cluster);
  const child = startChild("./server-child.ts", [url, keyPrefix, cluster ? "cluster" : "standalone"], serverNodeFlags());
  const created: string[] = [];
  let client: VectorServiceClient | undefined;
  let empty: ReturnType<typeof emptyClient> | undefined;
  let bareSearch: ReturnType<typeof bareSearchClient> | undefined;
  let workersServer: VecrecProcess | undefined;
  try {
    const ready = (await child.ready) as ServerChildReady;
    // The client `vecrec load` uses (UpsertStream requests encoded in one buffer; other calls as generated).
    client = createVectorServiceClient(`127.0.0.1:${ready.vecrecPort}`, credentials.createInsecure());
    empty = emptyClient(ready.emptyPort);
    bareSearch = bareSearchClient(ready.bareSearchPort);
    const data = floorData(o.items, o.dim);
    const create = async (spec: IndexSpec): Promise<IndexSpec> => {
      await store.createIndex(spec);
      created.push(spec.name);
      return spec;
    };

    const flat = await create(floorSpec("floor-flat", o.dim, "FLAT"));
    let vecrecFlat = await vecrecUpsert(client, flat.name, data);
    log(`[bench] ${backend}: FLAT loaded through vecrec Upsert (${Math.round(vecrecFlat)} items/s)`);
    let directFlat: number | undefined;
    let streamFlat: number | undefined;
    let upsertRatio: number | undefined;
    let streamRatio: number | undefined;
    let replaceFlat: number | undefined;
    let upsertToReplace: number | undefined;
    let streamToReplace: number | undefined;
    let upsertComplete: RedisFloorFigures["upsertComplete"];
    let upsertInFlight: RedisFloorFigures["upsertInFlight"];
    if (o.upsertFloor) {
      /** items/s of `write` into a fresh FLAT index, dropped afterwards. */
      const into = async (name: string, write: (spec: IndexSpec) => Promise<number>): Promise<number> => {
        const spec = await create(floorSpec(name, o.dim, "FLAT"));
        try {
          return await write(spec);
        } finally {
          await store.dropIndex(spec.name, { deleteItems: true });
          created.splice(created.indexOf(spec.name), 1);
        }
      };
      // The three writers in turn, round after round (the machine's drift hits them alike), each into a
      // fresh empty index; the ratios are taken within each round, the medians reported.
      const complete = floorData(o.items, o.dim, true);
      const rounds: {
        upsert: number;
        hset: number;
        replace: number;
        stream: number;
        upsertAll: number;
        hsetAll: number;
        streamAll: number;
        upsertN: number;
        hsetN: number;
        upsertAllN: number;
        hsetAllN: number;
      }[] = [];
      for (let round = 0; round < UPSERT_ROUNDS; round++) {
        rounds.push({
          upsert: await into("floor-upsert", (spec) => vecrecUpsert(client!, spec.name, data)),
          hset: await into("floor-hset", (spec) => directHset(direct, keys, spec, data)),
          replace: await into("floor-replace", (spec) => directReplace(direct, keys, spec, data)),
          stream: await into("floor-stream", (spec) => vecrecUpsertStream(client!, spec.name, data)),
          // The same items with their TEXT field set too: every field of the schema, one HSET per item.
          upsertAll: await into("floor-complete", (spec) => vecrecUpsert(client!, spec.name, complete)),
          hsetAll: await into("floor-complete-hset", (spec) => directHset(direct, keys, spec, complete)),
          streamAll: await into("floor-complete-stream", (spec) => vecrecUpsertStream(client!, spec.name, complete)),
          // The same with UPSERT_IN_FLIGHT batches in flight on each side.
          upsertN: await into("floor-upsert-n", (spec) => vecrecUpsert(client!, spec.name, data, UPSERT_IN_FLIGHT)),
          hsetN: await into("floor-hset-n", (spec) => directHset(direct, keys, spec, data, UPSERT_IN_FLIGHT)),
          upsertAllN: await into("floor-complete-n", (spec) => vecrecUpsert(client!, spec.name, complete, UPSERT_IN_FLIGHT)),
          hsetAllN: await into("floor-complete-hset-n", (spec) => directHset(direct, keys, spec, complete, UPSERT_IN_FLIGHT)),
        });
        const r = rounds.at(-1)!;
        log(
          `[bench] ${backend}: upsert round ${round + 1}/${UPSERT_ROUNDS}: Upsert ${Math.round(r.upsert)}, HSET ${Math.round(r.hset)}, replace commands ${Math.round(r.replace)}, UpsertStream ${Math.round(r.stream)} items/s; every field set: ${Math.round(r.upsertAll)}, ${Math.round(r.hsetAll)}, ${Math.round(r.streamAll)}; ${UPSERT_IN_FLIGHT} in flight: ${Math.round(r.upsertN)}, ${Math.round(r.hsetN)}, every field set ${Math.round(r.upsertAllN)}, ${Math.round(r.hsetAllN)}`,
        );
      }
      vecrecFlat = medianOf(rounds.map((r) => r.upsert));
      directFlat = medianOf(rounds.map((r) => r.hset));
      streamFlat = medianOf(rounds.map((r) => r.stream));
      upsertRatio = medianOf(rounds.map((r) => r.upsert / r.hset));
      streamRatio = medianOf(rounds.map((r) => r.stream / r.hset));
      replaceFlat = medianOf(rounds.map((r) => r.replace));
      upsertToReplace = medianOf(rounds.map((r) => r.upsert / r.replace));
      streamToReplace = medianOf(rounds.map((r) => r.stream / r.replace));
      upsertComplete = {
        vecrec: medianOf(rounds.map((r) => r.upsertAll)),
        direct: medianOf(rounds.map((r) => r.hsetAll)),
        stream: medianOf(rounds.map((r) => r.streamAll)),
        upsertRatio: medianOf(rounds.map((r) => r.upsertAll / r.hsetAll)),
        streamRatio: medianOf(rounds.map((r) => r.streamAll / r.hsetAll)),
      };
      upsertInFlight = {
        leftOut: {
          vecrec: medianOf(rounds.map((r) => r.upsertN)),
          direct: medianOf(rounds.map((r) => r.hsetN)),
          ratio: medianOf(rounds.map((r) => r.upsertN / r.hsetN)),
        },
        complete: {
          vecrec: medianOf(rounds.map((r) => r.upsertAllN)),
          direct: medianOf(rounds.map((r) => r.hsetAllN)),
          ratio: medianOf(rounds.map((r) => r.upsertAllN / r.hsetAllN)),
        },
      };
    }
    let hnsw: IndexSpec | undefined;
    let vecrecHnsw: number | undefined;
    if (o.hnsw) {
      hnsw = await create(floorSpec("floor-hnsw", o.dim, "HNSW"));
      vecrecHnsw = await vecrecUpsert(client, hnsw.name, data);
      log(`[bench] ${backend}: HNSW loaded through vecrec Upsert (${Math.round(vecrecHnsw)} items/s)`);
    }

    const search: SearchFloorRow[] = [];
    if (o.search) {
      // The same server as `npm start` runs it with its default workers (one process per core), on the
      // same keys, for the c=N rows; clients on connections of their own (one connection, one worker).
      let workers: { readonly clients: VectorServiceClient[]; readonly count: number } | undefined;
      if (o.workers) {
        workersServer = await startVecrecProcess(["--redis-url", url, "--redis-key-prefix", keyPrefix, "--workers", "0", "--log-level", "warn"]);
        const count = os.availableParallelism();
        workers = {
          count,
          clients: Array.from(
            { length: Math.max(4, count * 2) },
            () => new VectorServiceClient(`127.0.0.1:${workersServer!.port}`, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }),
          ),
        };
      }
      const target = {
        client,
        empty: empty.call,
        bareSearch: bareSearch.call,
        direct,
        keys,
        serverCpu: async () => {
          const cpu = await child.ask<ServerChildCpu>({ type: "cpu" });
          return cpu.user + cpu.system;
        },
        ...(workers !== undefined && { workers }),
      };
      try {
        for (const spec of hnsw === undefined ? [flat] : [flat, hnsw]) {
          for (const filtered of [false, true]) {
            search.push(await measureSearchFloor(target, spec, data, filtered, o));
            log(`[bench] ${backend}: Search floors measured on ${spec.name}${filtered ? " (filtered)" : ""}`);
          }
        }
      } finally {
        for (const workersClient of workers?.clients ?? []) workersClient.close();
      }
    }
    return {
      backend,
      upsert: {
        vecrecFlat,
        ...(directFlat !== undefined && { directFlat }),
        ...(streamFlat !== undefined && { streamFlat }),
        ...(vecrecHnsw !== undefined && { vecrecHnsw }),
        ...(upsertRatio !== undefined && { upsertRatio }),
        ...(streamRatio !== undefined && { streamRatio }),
        ...(replaceFlat !== undefined && { replaceFlat, upsertToReplace, streamToReplace }),
      },
      search,
      ...(upsertComplete !== undefined && { upsertComplete }),
      ...(upsertInFlight !== undefined && { upsertInFlight }),
    };
  } finally {
    client?.close();
    empty?.close();
    bareSearch?.close();
    await workersServer?.stop();
    await child.stop();
    for (const name of created) await store.dropIndex(name, { deleteItems: true });
    await direct.close();
    await store.close();
  }
}
