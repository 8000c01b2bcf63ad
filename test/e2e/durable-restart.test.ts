/**
 * The durable embedded engine end to end: the real vecrec process (src/main.ts through tsx, as `npm
 * start` runs the build) on a temporary data directory. It writes through every write RPC, is killed
 * with SIGKILL in the middle of streams of acknowledged Upserts and RecordInteractions (several times, at
 * random points), restarted on the same directory each time, and must find every acknowledged item,
 * interaction and index definition, with the same Search and Recommend answers as before the kills.
 * Then a backup taken from the command line while the server runs restores into a directory a server
 * opens with the same data (refusals: test/unit/store/embedded/data-dir.test.ts).
 */
import { credentials } from "@grpc/grpc-js";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import {
  DeleteItemsRequest,
  DistanceMetric,
  DropIndexRequest,
  GetItemsRequest,
  IndexRequest,
  InteractionKind,
  RecommendRequest,
  SearchRequest,
  UpdateInterestsRequest,
  UpdateItemsRequest,
  UpsertRequest,
  VectorAlgorithm,
  VectorElementType,
  VectorServiceClient,
  type IndexInfo,
  type Item,
} from "../../src/gen/vecrec/v1/vecrec.js";
import { restoreDataDir } from "../../src/store/embedded/lmdb-persistence.js";
import { collect, unary, vectorBytes } from "./harness.js";

/**
 * The kills, each at a random point of a stream of acknowledged writes. Each restart costs a process
 * start (~2-3 s on a busy 2-core machine), so 3 by default; VECREC_TEST_KILLS=30 for a longer run.
 */
const KILLS = Number(process.env.VECREC_TEST_KILLS ?? 3);

interface Server {
  readonly child: ChildProcess;
  readonly client: VectorServiceClient;
  readonly logs: Record<string, unknown>[];
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vecrec-${label}-`));
  dirs.push(dir);
  return dir;
}

function spawnMain(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    env: { ...process.env, VECREC_LISTEN: "", VECREC_REDIS_URL: "", VECREC_LOG_LEVEL: "", VECREC_DATA_DIR: "", VECREC_IN_MEMORY: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return child;
}

/** Starts vecrec on `dataDir` and waits for its address. */
async function start(dataDir: string): Promise<Server> {
  const child = spawnMain(["--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "info"]);
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    logs.push(entry);
    if (typeof entry.address === "string") {
      // Keep reading (and discarding) so the pipe never fills.
      child.stdout?.resume();
      return { child, logs, client: new VectorServiceClient(entry.address, credentials.createInsecure()) };
    }
  }
  throw new Error(`vecrec exited before listening: ${JSON.stringify(logs)} ${stderr}`);
}

async function kill(server: Server): Promise<void> {
  server.client.close();
  const exited = once(server.child, "exit");
  server.child.kill("SIGKILL");
  await exited;
}

async function stop(server: Server): Promise<number | null> {
  server.client.close();
  const exited = once(server.child, "exit");
  server.child.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  return code;
}

/** A deterministic pseudo-random generator (LCG) for vectors; kill times use Math.random. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const STREAM_DIM = 8;

/** What the definitions of an index look like through GetIndex, without its counters. */
function definition(info: IndexInfo | undefined): unknown {
  if (info === undefined) return undefined;
  return { name: info.indexName, fields: info.fields, interests: info.interests };
}

async function searchIds(client: VectorServiceClient, request: Partial<SearchRequest>): Promise<unknown[]> {
  const { messages, error } = await collect<{ id: string; distance: number }>(client.search(SearchRequest.fromPartial(request)));
  if (error) throw error;
  return messages.map((m) => [m.id, m.distance]);
}

async function answers(client: VectorServiceClient): Promise<unknown> {
  const knn = await searchIds(client, { indexName: "users", query: { $case: "vector", value: vectorBytes([0.9, 0.7, 0.2]) }, k: 4, filterQuery: "@labels:{books}" });
  const byInterest = await searchIds(client, { indexName: "users", k: 10, filterQuery: "@interests:{computers}" });
  const neighbours = await searchIds(client, { indexName: "users", query: { $case: "itemId", value: "user:1" }, k: 3 });
  const recommended = await collect<{ itemId: string; score: number; contributions: unknown[] }>(
    client.recommend(RecommendRequest.fromPartial({ indexName: "users", user: { $case: "userId", value: "user:1" }, limit: 5 })),
  );
  if (recommended.error) throw recommended.error;
  return { knn, byInterest, neighbours, recommended: recommended.messages };
}

describe("the durable embedded engine (the vecrec process on a data directory)", () => {
  it("keeps every acknowledged write across SIGKILLs at random points, answers the same, and backs up live", async () => {
    const dataDir = tempDir("durable");
    let server = await start(dataDir);
    expect(server.logs.some((l) => String(l.msg).includes(`data kept in ${dataDir}`))).toBe(true);
    const c = server.client;

    // Every write RPC: Index (x4), Upsert, RecordInteractions, UpdateItems, UpdateInterests, DeleteItems, DropIndex (x2).
    await unary((cb) => c.index(IndexRequest.fromPartial({ indexName: "users", defaultVectorDimension: 3, interests: { categoryNames: ["books", "comics", "computers"] } }), cb));
    await unary((cb) =>
      c.index(
        {
          indexName: "stream",
          defaultVectorDimension: 0,
          fields: [
            { name: "n", type: { $case: "numeric", value: {} } },
            {
              name: "v",
              type: {
                $case: "vector",
                value: {
                  dimension: STREAM_DIM,
                  algorithm: VectorAlgorithm.VECTOR_ALGORITHM_FLAT,
                  distanceMetric: DistanceMetric.DISTANCE_METRIC_L2,
                  elementType: VectorElementType.VECTOR_ELEMENT_TYPE_FLOAT32,
                },
              },
            },
          ],
        },
        cb,
      ),
    );
    await unary((cb) => c.index(IndexRequest.fromPartial({ indexName: "gone", defaultVectorDimension: 2 }), cb));
    await unary((cb) => c.index(IndexRequest.fromPartial({ indexName: "kept", defaultVectorDimension: 2 }), cb));
    const users: Partial<Item>[] = [
      { id: "user:1", vector: vectorBytes([0.9, 0.7, 0.2]), fields: { labels: { kind: { $case: "tags", value: { values: ["books", "comics"] } } } } },
      { id: "user:2", vector: vectorBytes([0.8, 0.6, 0.1]), fields: { labels: { kind: { $case: "tags", value: { values: ["books"] } } } } },
      { id: "user:3", vector: vectorBytes([0.1, 0.2, 0.9]), fields: { labels: { kind: { $case: "tags", value: { values: ["computers"] } } } } },
      { id: "user:4", vector: vectorBytes([0.7, 0.1, 0.6]), fields: { descr: { kind: { $case: "text", value: "reads manuals" } } } },
      { id: "user:5", vector: vectorBytes([0.5, 0.5, 0.5]), fields: { time: { kind: { $case: "number", value: 1700000000 } } } },
    ];
    await unary((cb) => c.upsert(UpsertRequest.fromPartial({ indexName: "users", items: users }), cb));
    await unary((cb) => c.upsert(UpsertRequest.fromPartial({ indexName: "gone", items: [{ id: "g", vector: vectorBytes([1, 0]) }] }), cb));
    await unary((cb) => c.upsert(UpsertRequest.fromPartial({ indexName: "kept", items: [{ id: "k1", vector: vectorBytes([1, 0]) }, { id: "k2", vector: vectorBytes([0, 1]) }] }), cb));
    const at = (ms: number) => new Date(1_700_000_000_000 + ms);
    await unary((cb) =>
      c.recordInteractions(
        {
          indexName: "users",
          interactions: [
            { userId: "user:2", itemId: "book:dune", kind: InteractionKind.INTERACTION_KIND_PURCHASE, weight: 1, occurredAt: at(1) },
            { userId: "user:2", itemId: "comic:watchmen", kind: InteractionKind.INTERACTION_KIND_PURCHASE, weight: 2, occurredAt: at(2) },
            { userId: "user:3", itemId: "book:sicp", kind: InteractionKind.INTERACTION_KIND_VIEW, weight: 0.5, occurredAt: at(3) },
            { userId: "user:5", itemId: "book:dune", kind: InteractionKind.INTERACTION_KIND_LIKE, weight: 1, occurredAt: at(4) },
            { userId: "user:4", itemId: "user:5", kind: InteractionKind.INTERACTION_KIND_VIEW, weight: 1, occurredAt: at(5) },
          ],
        },
        cb,
      ),
    );
    await unary((cb) =>
      c.updateItems(
        UpdateItemsRequest.fromPartial({
          indexName: "users",
          createMissing: true,
          updates: [
            { id: "user:2", setFields: { time: { kind: { $case: "number", value: 1700000050 } } }, removeFields: ["labels"] },
            { id: "user:3", vector: vectorBytes([0.2, 0.1, 0.95]) },
            { id: "user:6", vector: vectorBytes([0.3, 0.9, 0.1]), setFields: { labels: { kind: { $case: "tags", value: { values: ["comics"] } } } } },
          ],
        }),
        cb,
      ),
    );
    await unary((cb) => c.updateInterests(UpdateInterestsRequest.fromPartial({ indexName: "users", interests: { categoryNames: ["books", "comics", "computers"], threshold: 0.5 } }), cb));
    // Deleting user:5 deletes its history and the interactions with it.
    expect(await unary<{ deletedCount: number }>((cb) => c.deleteItems(DeleteItemsRequest.fromPartial({ indexName: "users", ids: ["user:5"] }), cb))).toEqual({ deletedCount: 1 });
    await unary((cb) => c.dropIndex(DropIndexRequest.fromPartial({ indexName: "gone", deleteItems: true }), cb));
    await unary((cb) => c.dropIndex(DropIndexRequest.fromPartial({ indexName: "kept", deleteItems: false }), cb));

    const before = await answers(c);
    const usersNow = async (client: VectorServiceClient) =>
      (await unary<{ items: Item[] }>((cb) =>
        client.getItems(GetItemsRequest.fromPartial({ indexName: "users", ids: ["user:1", "user:2", "user:3", "user:4", "user:5", "user:6"], includeVectors: true }), cb),
      )).items;
    const usersBefore = await usersNow(c);
    expect(usersBefore.map((u) => u.id)).toEqual(["user:1", "user:2", "user:3", "user:4", "user:6"]);
    const definitions = await Promise.all(
      ["users", "stream"].map(async (name) => definition((await unary<{ index?: IndexInfo }>((cb) => c.getIndex({ indexName: name }, cb))).index)),
    );
    const interactionsOf = async (client: VectorServiceClient, userId: string, index = "users") =>
      (await unary<{ interactions: { itemId: string; kind: number; weight?: number; occurredAt?: Date }[] }>((cb) =>
        client.getInteractions({ indexName: index, userId, offset: 0, limit: 1000 }, cb),
      )).interactions.map((i) => [i.itemId, i.kind, i.weight, i.occurredAt?.getTime()]);
    const historyBefore = await Promise.all(["user:2", "user:3", "user:4", "user:5"].map((u) => interactionsOf(c, u)));

    // Streams of acknowledged writes, killed at random points.
    const ackedItems = new Map<string, number[]>();
    const ackedInteractions = new Map<string, Set<string>>();
    const next = random(42);
    for (let round = 0; round < KILLS; round++) {
      let stopped = false;
      const writer = async (w: number): Promise<void> => {
        for (let n = 0; !stopped; n++) {
          if (n % 3 === 2) {
            const userId = `su${w}`;
            const batch = Array.from({ length: 10 }, (_, j) => ({ userId, itemId: `r${round}-${n}-${j}`, weight: 1, occurredAt: at(round * 1e6 + n * 100 + j) }));
            try {
              await unary((cb) => server.client.recordInteractions({ indexName: "stream", interactions: batch.map((i) => ({ ...i, kind: InteractionKind.INTERACTION_KIND_VIEW })) }, cb));
            } catch {
              return; // killed
            }
            const set = ackedInteractions.get(userId) ?? new Set<string>();
            ackedInteractions.set(userId, set);
            for (const i of batch) set.add(`${i.itemId}@${i.occurredAt.getTime()}`);
            continue;
          }
          const items = Array.from({ length: 25 }, (_, j) => ({
            id: `s${round}-${w}-${n}-${j}`,
            values: Array.from({ length: STREAM_DIM }, () => Math.fround(next() * 2 - 1)),
          }));
          try {
            await unary((cb) =>
              server.client.upsert(
                UpsertRequest.fromPartial({
                  indexName: "stream",
                  items: items.map((i) => ({ id: i.id, vector: vectorBytes(i.values), fields: { n: { kind: { $case: "number", value: n } } } })),
                }),
                cb,
              ),
            );
          } catch {
            return; // killed
          }
          for (const i of items) ackedItems.set(i.id, i.values);
        }
      };
      const writers = [0, 1, 2].map(writer);
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
      await kill(server);
      stopped = true;
      await Promise.all(writers);
      server = await start(dataDir);
      // Everything acknowledged so far is there, with its exact vector.
      const ids = [...ackedItems.keys()];
      for (let from = 0; from < ids.length; from += 1000) {
        const chunk = ids.slice(from, from + 1000);
        const got = await unary<{ items: Item[]; missingIds: string[] }>((cb) =>
          server.client.getItems(GetItemsRequest.fromPartial({ indexName: "stream", ids: chunk, includeVectors: true }), cb),
        );
        expect(got.missingIds, `round ${round}: acknowledged items missing after SIGKILL`).toEqual([]);
        got.items.forEach((item) => {
          const id = item.id;
          const vector = item.vector?.encoding;
          const values = vector?.$case === "float32Le" ? [...new Float32Array(new Uint8Array(vector.value).buffer)] : vector?.$case === "float32Values" ? vector.value.values : [];
          expect(values).toEqual(ackedItems.get(id));
        });
      }
      for (const [userId, expected] of ackedInteractions) {
        const stored = new Set((await interactionsOf(server.client, userId, "stream")).map(([item, , , time]) => `${String(item)}@${String(time)}`));
        expect([...expected].filter((key) => !stored.has(key)), `round ${round}: acknowledged interactions missing`).toEqual([]);
      }
    }
    expect(ackedItems.size).toBeGreaterThan(0);

    // The indexes, their definitions, histories and answers are as before the kills.
    const listed = await unary<{ indexes: IndexInfo[] }>((cb) => server.client.listIndexes({}, cb));
    expect(listed.indexes.map((i) => i.indexName)).toEqual(["stream", "users"]);
    const after = await Promise.all(
      ["users", "stream"].map(async (name) => definition((await unary<{ index?: IndexInfo }>((cb) => server.client.getIndex({ indexName: name }, cb))).index)),
    );
    expect(after).toEqual(definitions);
    expect(await Promise.all(["user:2", "user:3", "user:4", "user:5"].map((u) => interactionsOf(server.client, u)))).toEqual(historyBefore);
    expect(await answers(server.client)).toEqual(before);
    expect(await usersNow(server.client)).toEqual(usersBefore);
    // "kept" was dropped keeping its items: created again, they are back; "gone"'s are not.
    const kept = await unary<{ index?: IndexInfo }>((cb) => server.client.index(IndexRequest.fromPartial({ indexName: "kept", defaultVectorDimension: 2 }), cb));
    expect(kept.index?.itemCount).toBe(2);
    const keptItems = await unary<{ items: Item[] }>((cb) => server.client.getItems(GetItemsRequest.fromPartial({ indexName: "kept", ids: ["k1", "k2"] }), cb));
    expect(keptItems.items.map((i) => i?.id)).toEqual(["k1", "k2"]);
    await unary((cb) => server.client.index(IndexRequest.fromPartial({ indexName: "gone", defaultVectorDimension: 2 }), cb));
    const goneItems = await unary<{ missingIds: string[] }>((cb) => server.client.getItems(GetItemsRequest.fromPartial({ indexName: "gone", ids: ["g"] }), cb));
    expect(goneItems.missingIds).toEqual(["g"]);

    // A backup from the command line while the server runs holds what was acknowledged before it.
    const backup = path.join(tempDir("backup"), "snapshot");
    const cli = spawnMain(["backup", "--data-dir", dataDir, "--to", backup]);
    let cliOut = "";
    let cliErr = "";
    cli.stdout?.on("data", (chunk: Buffer) => (cliOut += chunk.toString()));
    cli.stderr?.on("data", (chunk: Buffer) => (cliErr += chunk.toString()));
    const [cliCode] = (await once(cli, "exit")) as [number | null];
    expect(cliErr).toBe("");
    expect(cliCode).toBe(0);
    expect(cliOut).toContain(`backed up ${dataDir} to ${backup}`);
    await unary((cb) => server.client.upsert(UpsertRequest.fromPartial({ indexName: "users", items: [{ id: "later", vector: vectorBytes([1, 2, 3]) }] }), cb));
    expect(await stop(server)).toBe(0);
    // Restored (the command's own code; restore's refusals: test/unit/store/embedded/data-dir.test.ts), a
    // server on it answers as before, without the write made after the backup.
    const restored = path.join(tempDir("restored"), "data");
    await restoreDataDir(backup, restored);
    const again = await start(restored);
    expect(await answers(again.client)).toEqual(before);
    expect(await usersNow(again.client)).toEqual(usersBefore);
    const later = await unary<{ missingIds: string[] }>((cb) => again.client.getItems(GetItemsRequest.fromPartial({ indexName: "users", ids: ["later"] }), cb));
    expect(later.missingIds).toEqual(["later"]);
    expect(await stop(again)).toBe(0);
  }, 60_000 + KILLS * 10_000);
});
