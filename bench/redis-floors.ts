/**
 * The floor rows of one Redis backend: a vecrec server in a child process (bench/server-child.ts) on
 * that Redis, its gRPC client here, and node-redis here for the direct commands. Loads a FLAT index
 * through vecrec Upsert (the Upsert row), writes the same items into a second FLAT index with pipelined
 * HSETs (the floor of the Upsert row), loads an HNSW index, then measures Search against its floors on
 * both indexes, with and without the filter. Every key and index lives under its own prefix and is
 * dropped at the end.
 */
import { credentials } from "@grpc/grpc-js";
import { VectorServiceClient } from "../src/gen/vecrec/v1/vecrec.js";
import type { IndexSpec } from "../src/domain/schema.js";
import { createRedisKeys } from "../src/store/redis/redis-keys.js";
import { createRedisStore } from "../src/store/redis/redis-store.js";
import { startChild } from "./child-process.js";
import { floorData, floorSpec } from "./floor-data.js";
import { emptyClient } from "./grpc-floor.js";
import { connectDirect } from "./redis-direct.js";
import { measureSearchFloor, type SearchFloorOptions, type SearchFloorRow } from "./search-floor.js";
import type { ServerChildCpu, ServerChildReady } from "./server-child.js";
import { directHset, vecrecUpsert } from "./upsert-floor.js";
import { vecrecUpsertStream } from "./upsert-stream.js";

export interface RedisFloorOptions extends SearchFloorOptions {
  readonly items: number;
  readonly dim: number;
  /** Measure Search against its floors (else only load and the Upsert row). */
  readonly search: boolean;
  /** Measure the pipelined-HSET floor of Upsert. */
  readonly upsertFloor: boolean;
  /** Also load and search an HNSW index. */
  readonly hnsw: boolean;
}

export interface RedisFloorFigures {
  readonly backend: string;
  /** items/s: vecrec Upsert into FLAT, pipelined HSET into FLAT (undefined when skipped), vecrec Upsert into HNSW. */
  readonly upsert: { readonly vecrecFlat: number; readonly directFlat?: number; readonly vecrecHnsw?: number; readonly streamFlat?: number };
  /** items/s when every item sets every schema field (one HSET each in vecrec too): vecrec Upsert, pipelined HSET. */
  readonly upsertComplete?: { readonly vecrec: number; readonly direct: number; readonly stream: number };
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
  const child = startChild("./server-child.ts", [url, keyPrefix]);
  const created: string[] = [];
  let client: VectorServiceClient | undefined;
  let empty: ReturnType<typeof emptyClient> | undefined;
  try {
    const ready = (await child.ready) as ServerChildReady;
    client = new VectorServiceClient(`127.0.0.1:${ready.vecrecPort}`, credentials.createInsecure());
    empty = emptyClient(ready.emptyPort);
    const data = floorData(o.items, o.dim);
    const create = async (spec: IndexSpec): Promise<IndexSpec> => {
      await store.createIndex(spec);
      created.push(spec.name);
      return spec;
    };

    const flat = await create(floorSpec("floor-flat", o.dim, "FLAT"));
    const vecrecFlat = await vecrecUpsert(client, flat.name, data);
    log(`[bench] ${backend}: FLAT loaded through vecrec Upsert (${Math.round(vecrecFlat)} items/s)`);
    let directFlat: number | undefined;
    let streamFlat: number | undefined;
    if (o.upsertFloor) {
      const copy = await create(floorSpec("floor-hset", o.dim, "FLAT"));
      directFlat = await directHset(direct, keys, copy, data);
      log(`[bench] ${backend}: FLAT copy written with pipelined HSET (${Math.round(directFlat)} items/s)`);
      await store.dropIndex(copy.name, { deleteItems: true });
      created.splice(created.indexOf(copy.name), 1);
      // The same items through one UpsertStream call, right after the floor (same Redis state).
      const streamed = await create(floorSpec("floor-stream", o.dim, "FLAT"));
      streamFlat = await vecrecUpsertStream(client, streamed.name, data);
      log(`[bench] ${backend}: FLAT copy loaded through one UpsertStream (${Math.round(streamFlat)} items/s)`);
      await store.dropIndex(streamed.name, { deleteItems: true });
      created.splice(created.indexOf(streamed.name), 1);
    }
    let upsertComplete: RedisFloorFigures["upsertComplete"];
    if (o.upsertFloor) {
      // The same items with their TEXT field set too: every field of the schema, one HSET per item.
      const complete = floorData(o.items, o.dim, true);
      const viaVecrec = await create(floorSpec("floor-complete", o.dim, "FLAT"));
      const vecrec = await vecrecUpsert(client, viaVecrec.name, complete);
      await store.dropIndex(viaVecrec.name, { deleteItems: true });
      created.splice(created.indexOf(viaVecrec.name), 1);
      const viaHset = await create(floorSpec("floor-complete-hset", o.dim, "FLAT"));
      const hset = await directHset(direct, keys, viaHset, complete);
      await store.dropIndex(viaHset.name, { deleteItems: true });
      created.splice(created.indexOf(viaHset.name), 1);
      const viaStream = await create(floorSpec("floor-complete-stream", o.dim, "FLAT"));
      const stream = await vecrecUpsertStream(client, viaStream.name, complete);
      await store.dropIndex(viaStream.name, { deleteItems: true });
      created.splice(created.indexOf(viaStream.name), 1);
      upsertComplete = { vecrec, direct: hset, stream };
      log(`[bench] ${backend}: items setting every field: vecrec Upsert ${Math.round(vecrec)} items/s, pipelined HSET ${Math.round(hset)} items/s, UpsertStream ${Math.round(stream)} items/s`);
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
      const target = {
        client,
        empty: empty.call,
        direct,
        keys,
        serverCpu: async () => {
          const cpu = await child.ask<ServerChildCpu>({ type: "cpu" });
          return cpu.user + cpu.system;
        },
      };
      for (const spec of hnsw === undefined ? [flat] : [flat, hnsw]) {
        for (const filtered of [false, true]) {
          search.push(await measureSearchFloor(target, spec, data, filtered, o));
          log(`[bench] ${backend}: Search floors measured on ${spec.name}${filtered ? " (filtered)" : ""}`);
        }
      }
    }
    return {
      backend,
      upsert: { vecrecFlat, ...(directFlat !== undefined && { directFlat }), ...(streamFlat !== undefined && { streamFlat }), ...(vecrecHnsw !== undefined && { vecrecHnsw }) },
      search,
      ...(upsertComplete !== undefined && { upsertComplete }),
    };
  } finally {
    client?.close();
    empty?.close();
    await child.stop();
    for (const name of created) await store.dropIndex(name, { deleteItems: true });
    await direct.close();
    await store.close();
  }
}
