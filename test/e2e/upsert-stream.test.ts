/**
 * UpsertStream end to end, every backend: acknowledgements per message with rejected items by position,
 * id and reason; NOT_FOUND / INVALID_ARGUMENT for bad streams; the server's memory bound with a client
 * that writes without reading; a cut stream keeps every acknowledged message; re-sending is idempotent.
 */
import { WRITES_IN_FLIGHT } from "../../src/usecases/upsert-stream.js";
import { status, type ClientDuplexStream, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetItemsRequest,
  type GetItemsResponse,
  type Item,
  type UpsertStreamRequest,
  type UpsertStreamResponse,
} from "../../src/gen/vecrec/v1/vecrec.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { BACKENDS, overrideStore, startHarness, unary, vectorBytes, type Harness } from "./harness.js";

type Stream = ClientDuplexStream<UpsertStreamRequest, UpsertStreamResponse>;

function item(id: string, vector: number[], time?: number): Item {
  return { id, vector: vectorBytes(vector), fields: time === undefined ? {} : { time: { kind: { $case: "number", value: time } } } };
}

/** Reads every acknowledgement until the call ends. */
function acks(call: Stream): Promise<{ acks: UpsertStreamResponse[]; error: ServiceError | undefined }> {
  return new Promise((resolve) => {
    const got: UpsertStreamResponse[] = [];
    call.on("data", (m: UpsertStreamResponse) => got.push(m));
    call.on("error", (error: ServiceError) => resolve({ acks: got, error }));
    call.on("end", () => resolve({ acks: got, error: undefined }));
  });
}

function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe.each(BACKENDS)("UpsertStream end to end ($name)", (backend) => {
  let h: Harness;
  /** While set, every upsert waits for it (the memory-bound test holds the store). */
  let gate: Promise<void> | undefined;
  let upsertCalls = 0;
  const index = `ustream_${Date.now().toString(36)}`;
  beforeAll(async () => {
    h = await startHarness(backend, {
      wrapStore: (store: VectorStore) =>
        overrideStore(store, {
          async upsert(name, items, options) {
            upsertCalls++;
            if (gate !== undefined) await gate;
            return store.upsert(name, items, options);
          },
        }),
    });
    await unary((cb) => h.client.index({ indexName: index, fields: [], defaultVectorDimension: 3 }, cb));
  });
  afterAll(async () => {
    await h?.close();
  });

  const count = async (ids: string[]): Promise<number> => {
    const got = await unary<GetItemsResponse>((cb) => h.client.getItems(GetItemsRequest.fromPartial({ indexName: index, ids }), cb));
    return got.items.length;
  };

  it("acknowledges each message, rejecting bad items by position, id and reason and writing the rest", async () => {
    const call = h.client.upsertStream();
    const done = acks(call);
    call.write({ indexName: index, items: [item("s1", [1, 0, 0], 1), item("s2", [0, 1, 0])] });
    call.write({
      indexName: "",
      items: [item("s3", [0, 0, 1]), item("bad dim", [1, 2]), { id: "", vector: undefined, fields: {} }, item("s4", [1, 1, 1])],
    });
    call.write({ indexName: index, items: [] });
    call.end();
    const { acks: got, error } = await done;
    expect(error).toBeUndefined();
    expect(got.map((a) => [a.messageIndex, a.acceptedCount, a.totalAccepted, a.totalRejected])).toEqual([
      [0, 2, 2, 0],
      [1, 2, 4, 2],
      [2, 0, 4, 2],
    ]);
    expect(got[1]?.rejected.map((r) => [r.position, r.indexInMessage, r.id])).toEqual([
      [3, 1, "bad dim"],
      [4, 2, ""],
    ]);
    expect(got[1]?.rejected[0]?.reason).toMatch(/^items\[1\]\.vector: /);
    expect(got[1]?.rejected[1]?.reason).toContain("items[2].id");
    expect(got[1]?.rejected[1]?.reason).toContain("items[2].vector: required");
    expect(await count(["s1", "s2", "s3", "s4", "bad dim"])).toBe(4);
  });

  it("acknowledges each message once written, without waiting for the next one (a client may wait for each)", async () => {
    const call = h.client.upsertStream();
    const got: UpsertStreamResponse[] = [];
    call.on("data", (m: UpsertStreamResponse) => got.push(m));
    const ended = acks(call);
    for (let m = 0; m < 3; m++) {
      call.write({ indexName: index, items: [item(`wait-${m}`, [1, m, 1])] });
      await eventually(() => got.length === m + 1, `the acknowledgement of message ${m} before message ${m + 1} is sent`, 5_000);
    }
    call.end();
    expect((await ended).error).toBeUndefined();
    expect(got.map((a) => [a.messageIndex, a.totalAccepted])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });

  it("keeps an acknowledgement within a client's default 4 MiB however many rejected items with long ids it lists", async () => {
    // 10,000 items (the most a message holds), each with a 250-character id (too long) and two problems.
    const items = Array.from({ length: 10_000 }, (_, i) => ({
      id: `${String(i).padStart(5, "0")}${"x".repeat(245)}`,
      vector: vectorBytes([1, 2]),
      fields: { unknown_field: { kind: { $case: "text" as const, value: "v" } } },
    }));
    const call = h.client.upsertStream();
    const done = acks(call);
    call.write({ indexName: index, items });
    call.end();
    const { acks: got, error } = await done;
    expect(error).toBeUndefined();
    const rejected = got[0]?.rejected ?? [];
    expect(rejected.map((r) => r.indexInMessage)).toEqual(items.map((_, i) => i));
    expect(rejected.map((r) => r.position - (rejected[0]?.position ?? 0))).toEqual(items.map((_, i) => i));
    expect(rejected[0]?.id).toBe(items[0]?.id);
    expect(rejected[0]?.reason).toContain("items[0].vector: ");
    expect(rejected[0]?.reason).toContain("items[0].fields");
    // Past the budget of ids and reasons: positions only.
    expect(rejected.at(-1)).toMatchObject({ indexInMessage: 9_999, id: "", reason: "" });
  });

  it("writes an id repeated in later messages in message order (the last one wins), though messages are written two at once", async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `again-${i}`);
    const call = h.client.upsertStream();
    const done = acks(call);
    for (let m = 1; m <= 30; m++) call.write({ indexName: index, items: ids.map((id) => item(id, [1, m, 0], m)) });
    call.end();
    const { acks: got, error } = await done;
    expect(error).toBeUndefined();
    expect(got.map((a) => a.messageIndex)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const stored = await unary<GetItemsResponse>((cb) =>
      h.client.getItems(GetItemsRequest.fromPartial({ indexName: index, ids, includeVectors: true }), cb),
    );
    expect(stored.items.map((i) => i.fields.time?.kind)).toEqual(ids.map(() => ({ $case: "number", value: 30 })));
  });

  it("fails an unknown index with NOT_FOUND and a changed index name with INVALID_ARGUMENT", async () => {
    const unknown = h.client.upsertStream();
    const first = acks(unknown);
    unknown.write({ indexName: "no_such_index_q", items: [item("x", [1, 0, 0])] });
    unknown.end();
    expect((await first).error?.code).toBe(status.NOT_FOUND);

    const changed = h.client.upsertStream();
    const second = acks(changed);
    changed.write({ indexName: index, items: [item("c1", [1, 0, 0])] });
    changed.write({ indexName: "other", items: [item("c2", [1, 0, 0])] });
    changed.end();
    const { acks: got, error } = await second;
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(got.map((a) => a.acceptedCount)).toEqual([1]);
    expect(await count(["c1", "c2"])).toBe(1);
  });

  it("holds a bounded number of messages for a client that writes without reading", async () => {
    // 200 messages of 16 items x 3 dims padded by a 4 KiB text each (~64 KiB per message, 12.8 MiB in all).
    const pad = "x".repeat(4096);
    const messages: UpsertStreamRequest[] = [];
    for (let m = 0; m < 200; m++) {
      const items = Array.from({ length: 16 }, (_, i) => ({
        ...item(`m${m}-${i}`, [1, m, i]),
        fields: { descr: { kind: { $case: "text" as const, value: pad } } },
      }));
      messages.push({ indexName: index, items });
    }
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    upsertCalls = 0;
    const call = h.client.upsertStream();
    try {
    let flushed = 0;
    // Writes everything at once, without reading; the client buffers what HTTP/2 flow control holds back.
    for (const message of messages) call.write(message, () => flushed++);
    call.end();
    await eventually(() => upsertCalls === WRITES_IN_FLIGHT, "the first messages to reach the store");
    // Let the transport settle: what the client could hand over while the server holds the store.
    let last = -1;
    await eventually(() => {
      const settled = flushed === last;
      last = flushed;
      return settled && flushed > 0;
    }, "the client's writes to stop progressing");
    // At most 5 messages held by the server (2 being written, 1 validated, 1 read, 1 being received)
    // plus the HTTP/2 windows (64 KiB each side) and socket buffers: far from the 200 written.
    expect(flushed).toBeLessThanOrEqual(20);
    expect(upsertCalls).toBe(WRITES_IN_FLIGHT);
    } finally {
      gate = undefined;
      release();
    }
    const done = acks(call);
    const { acks: got, error } = await done;
    expect(error).toBeUndefined();
    expect(got).toHaveLength(200);
    expect(got.at(-1)?.totalAccepted).toBe(3200);
    expect(await count(messages.map((m) => m.items[15]?.id ?? ""))).toBe(200);
  });

  it("keeps every acknowledged message of a stream cut midway, and re-sending is idempotent", async () => {
    const messages = Array.from({ length: 20 }, (_, m) => ({
      indexName: index,
      items: Array.from({ length: 50 }, (_, i) => item(`cut${m}-${i}`, [m, i, 1], m)),
    }));
    const call = h.client.upsertStream();
    const got: UpsertStreamResponse[] = [];
    const ended = new Promise<void>((resolve) => {
      call.on("data", (ack: UpsertStreamResponse) => {
        got.push(ack);
        if (got.length === 5) call.cancel();
      });
      call.on("error", () => resolve());
      call.on("end", () => resolve());
    });
    for (const message of messages) call.write(message);
    await ended;
    expect(got.length).toBeGreaterThanOrEqual(5);
    const acked = messages.slice(0, got.length).flatMap((m) => m.items.map((i) => i.id));
    expect(await count(acked)).toBe(acked.length);

    // Resume: send everything again in a new stream; the index ends with each item once.
    const again = h.client.upsertStream();
    const all = acks(again);
    for (const message of messages) again.write(message);
    again.end();
    const { acks: second, error } = await all;
    expect(error).toBeUndefined();
    expect(second.at(-1)?.totalAccepted).toBe(1000);
    expect(await count(messages.flatMap((m) => m.items.map((i) => i.id)))).toBe(1000);
  });
});
