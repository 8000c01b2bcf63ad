/**
 * Durable acknowledgements end to end (issue 16 item 4): a vecrec server on 127.0.0.1 port 0 over the
 * Redis store on the RESP stand-in (and over the embedded engine), the generated client, and the
 * `durability` field of Upsert, DeleteItems and RecordInteractions.
 */
import { credentials, status } from "@grpc/grpc-js";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Durability as DomainDurability } from "../../src/domain/durability.js";
import type { IndexSpec } from "../../src/domain/schema.js";
import { Durability, InteractionKind, VectorServiceClient } from "../../src/gen/vecrec/v1/vecrec.js";
import { startServer } from "../../src/main.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { startRedisStandIn, type RedisStandIn } from "../support/redis-standin/index.js";
import { failure, unary, vectorBytes } from "./harness.js";

const spec: IndexSpec = {
  name: "dur",
  fields: [{ name: "vec", type: "vector", dimension: 2, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" }],
};

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function serve(store: VectorStore): Promise<VectorServiceClient> {
  stops.push(() => store.close());
  await store.createIndex(spec);
  const server = await startServer({ store, listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
  stops.push(() => server.close({ graceMs: 1_000 }));
  const client = new VectorServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
  stops.push(() => Promise.resolve(client.close()));
  return client;
}

async function onStandIn(options: { appendOnly: boolean; durability?: DomainDurability }): Promise<{
  standIn: RedisStandIn;
  client: VectorServiceClient;
}> {
  const standIn = await startRedisStandIn({ appendOnly: options.appendOnly });
  stops.push(() => standIn.close());
  const client = await serve(await createRedisStore({ url: standIn.url, keyPrefix: "e2e-dur:", durability: options.durability }));
  return { standIn, client };
}

const upsert = (client: VectorServiceClient, id: string, durability?: Durability) =>
  unary((cb) => client.upsert({ indexName: "dur", items: [{ id, vector: vectorBytes([1, 2]), fields: {} }], durability }, cb));

const waits = (standIn: RedisStandIn, from: number) => standIn.commandLog.slice(from).filter((argv) => argv[0] === "WAITAOF");

describe("durability over gRPC", () => {
  it("DURABILITY_LOCAL on each write waits with WAITAOF 1 0 before answering; unset sends none", async () => {
    const { standIn, client } = await onStandIn({ appendOnly: true });
    let from = standIn.commandLog.length;
    expect(await upsert(client, "a", Durability.DURABILITY_LOCAL)).toEqual({ upsertedCount: 1 });
    expect(waits(standIn, from).map((argv) => argv.slice(1, 3))).toEqual([["1", "0"]]);

    from = standIn.commandLog.length;
    await unary((cb) =>
      client.recordInteractions(
        {
          indexName: "dur",
          interactions: [{ userId: "u", itemId: "a", kind: InteractionKind.INTERACTION_KIND_VIEW }],
          durability: Durability.DURABILITY_LOCAL,
        },
        cb,
      ),
    );
    expect(waits(standIn, from)).toHaveLength(1);

    from = standIn.commandLog.length;
    expect(
      await unary((cb) => client.deleteItems({ indexName: "dur", ids: ["a"], durability: Durability.DURABILITY_LOCAL }, cb)),
    ).toEqual({ deletedCount: 1 });
    expect(waits(standIn, from)).toHaveLength(1);

    from = standIn.commandLog.length;
    await upsert(client, "b");
    await upsert(client, "c", Durability.DURABILITY_UNSPECIFIED);
    expect(waits(standIn, from)).toHaveLength(0);
  });

  it("the server default (--redis-durability local) applies to unset, and DURABILITY_NONE overrides it", async () => {
    const { standIn, client } = await onStandIn({ appendOnly: true, durability: "local" });
    let from = standIn.commandLog.length;
    await upsert(client, "a");
    expect(waits(standIn, from)).toHaveLength(1);
    from = standIn.commandLog.length;
    await upsert(client, "b", Durability.DURABILITY_NONE);
    expect(waits(standIn, from)).toHaveLength(0);
  });

  it("AOF off: FAILED_PRECONDITION saying Redis has AOF off; REPLICAS with no replica: UNAVAILABLE, applied but not confirmed", async () => {
    const off = await onStandIn({ appendOnly: false });
    const refused = await failure(upsert(off.client, "a", Durability.DURABILITY_LOCAL));
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.details).toMatch(/Redis has AOF off/);

    const on = await onStandIn({ appendOnly: true });
    const unconfirmed = await failure(upsert(on.client, "a", Durability.DURABILITY_REPLICAS));
    expect(unconfirmed.code).toBe(status.UNAVAILABLE);
    expect(unconfirmed.details).toMatch(/applied but not confirmed durable/);
  });

  it("an unknown durability number is INVALID_ARGUMENT, nothing written", async () => {
    const { standIn, client } = await onStandIn({ appendOnly: true });
    const from = standIn.commandLog.length;
    const error = await failure(upsert(client, "a", 7 as Durability));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/durability/);
    expect(standIn.commandLog.slice(from).filter((argv) => argv[0] === "HSET")).toHaveLength(0);
  });

  it("the embedded engine (memory only) refuses DURABILITY_LOCAL with FAILED_PRECONDITION and accepts NONE", async () => {
    const client = await serve(createEmbeddedStore());
    const error = await failure(upsert(client, "a", Durability.DURABILITY_LOCAL));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toMatch(/memory only/);
    expect(await upsert(client, "a", Durability.DURABILITY_NONE)).toEqual({ upsertedCount: 1 });
  });
});
