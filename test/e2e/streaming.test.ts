import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/domain/errors.js";
import { IndexRequest, SearchRequest, type SearchResponse } from "../../src/gen/vecrec/v1/vecrec.js";
import type { SearchHit, SearchQuery, SearchResult, VectorStore } from "../../src/store/vector-store.js";
import { BaseServerInterceptingCall } from "@grpc/grpc-js/build/src/server-interceptors.js";
import { FramedMessages, PAGE_CHUNK } from "../../src/grpc/message-page.js";
import { BACKENDS, collect, failure, overrideStore, startHarness, unary, vectorBytes, type Harness } from "./harness.js";

const ITEMS = 10_000;

/** What the test wants the store's search to do on the next call. */
type Fault = "none" | "fail-mid-stream" | "hang-until-aborted";

/** The hit whose item fails under "fail-mid-stream": past the first chunk a page is sent in (PAGE_CHUNK). */
const FAIL_AT = 300;

describe.each(BACKENDS)("Search streams ($name)", (backend) => {
  let h: Harness;
  let fault: Fault = "none";
  /** Hits whose item the handler read (i.e. messages produced) in the last search. */
  let hitsRead = 0;
  /** Settles with the abort reason once a hanging store call has seen its signal abort. */
  let storeAborted: Promise<unknown> = Promise.resolve(undefined);
  let reportAbort: (reason: unknown) => void = () => undefined;

  function instrument(store: VectorStore): VectorStore {
    return overrideStore(store, {
      async search(index: string, query: SearchQuery): Promise<SearchResult> {
        if (fault === "hang-until-aborted") {
          await new Promise<void>((resolve) => {
            if (query.signal?.aborted) resolve();
            query.signal?.addEventListener("abort", () => resolve(), { once: true });
          });
          const reason: unknown = query.signal?.reason;
          reportAbort(reason);
          throw reason;
        }
        const result = await store.search(index, query);
        hitsRead = 0;
        const failMidStream = fault === "fail-mid-stream";
        const hits = result.hits.map(
          (hit, i): SearchHit => ({
            id: hit.id,
            distance: hit.distance,
            get item() {
              if (failMidStream && i === FAIL_AT) throw new UnavailableError("the backend went away mid-stream");
              hitsRead += 1;
              return hit.item;
            },
          }),
        );
        return { hits, totalMatches: result.totalMatches };
      },
    });
  }

  beforeAll(async () => {
    h = await startHarness(backend, { wrapStore: instrument });
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "big", defaultVectorDimension: 3 }), cb));
    const items = Array.from({ length: ITEMS }, (_, i) => ({
      id: `item-${String(i).padStart(5, "0")}`,
      vector: vectorBytes([Math.cos(i / 1000), Math.sin(i / 1000), (i % 7) / 7]),
      fields: { descr: { kind: { $case: "text" as const, value: `item number ${i} with a description of some length` } } },
    }));
    await unary((cb) => h.client.upsert({ indexName: "big", items }, cb));
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const knn = (k: number) =>
    SearchRequest.fromPartial({ indexName: "big", query: { $case: "vector", value: vectorBytes([1, 0, 0]) }, k });

  it("streams all k hits closest first to a slow reader (backpressure on k = 10000)", async () => {
    fault = "none";
    const call = h.client.search(knn(ITEMS));
    const hits: SearchResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      call.on("data", (hit: SearchResponse) => {
        hits.push(hit);
        // A slow reader: every 100 messages, stop reading until a later turn of the event loop.
        if (hits.length % 100 === 0) {
          call.pause();
          setImmediate(() => call.resume());
        }
      });
      call.on("end", resolve);
      call.on("error", reject);
    });
    expect(hits).toHaveLength(ITEMS);
    expect(hits.map((hit) => hit.rank)).toEqual(Array.from({ length: ITEMS }, (_, i) => i + 1));
    for (let i = 1; i < hits.length; i++) {
      const a = hits[i - 1] as SearchResponse;
      const b = hits[i] as SearchResponse;
      expect(a.distance < b.distance || (a.distance === b.distance && a.id < b.id)).toBe(true);
    }
  });

  it("stops short of k when the client cancels early, and keeps serving", async () => {
    fault = "none";
    const call = h.client.search(knn(ITEMS));
    const error = await new Promise<{ code: number }>((resolve) => {
      call.once("data", () => call.cancel());
      call.on("error", resolve);
    });
    expect(error.code).toBe(status.CANCELLED);
    // A later call round-trips, so the server has long seen the cancellation.
    await unary((cb) => h.client.listIndexes({}, cb));
    const producedAfterCancel = hitsRead;
    await unary((cb) => h.client.listIndexes({}, cb));
    expect(hitsRead).toBe(producedAfterCancel);
    expect(hitsRead).toBeLessThan(ITEMS);
  });

  it("ends with DEADLINE_EXCEEDED and aborts the store call when the deadline passes", async () => {
    fault = "hang-until-aborted";
    storeAborted = new Promise((resolve) => (reportAbort = resolve));
    const { messages, error } = await collect<SearchResponse>(
      h.client.search(knn(5), { deadline: new Date(Date.now() + 300) }),
    );
    fault = "none";
    expect(messages).toEqual([]);
    expect(error?.code).toBe(status.DEADLINE_EXCEEDED);
    // The store sees the per-call signal abort (the server's deadline timer, or the client's
    // cancellation when its own deadline fired first).
    const reason = await storeAborted;
    expect(["DeadlineExceededError", "CancelledError"]).toContain((reason as Error | undefined)?.name);
  });

  it("ends with the mapped status when the backend fails mid-stream", async () => {
    // Hits are sent PAGE_CHUNK at a time: the chunks before the failing hit arrive, then the status.
    expect(FAIL_AT).toBeGreaterThan(PAGE_CHUNK);
    fault = "fail-mid-stream";
    const { messages, error } = await collect<SearchResponse>(h.client.search(knn(1000)));
    fault = "none";
    expect(messages.length).toBe(Math.floor(FAIL_AT / PAGE_CHUNK) * PAGE_CHUNK);
    expect(messages.map((m) => m.rank)).toEqual(messages.map((_, i) => i + 1));
    expect(error?.code).toBe(status.UNAVAILABLE);
    expect(error?.details).toContain("went away");
  });

  it("sends pages pre-framed through this grpc-js and vecrec's interceptors (not the message-by-message fallback)", async () => {
    fault = "none";
    const { messages } = await collect<SearchResponse>(h.client.search(knn(3)));
    expect(messages).toHaveLength(3);
    // The hook pageFraming installs once a page reached grpc-js's base call through the interceptor chain.
    const prototype = BaseServerInterceptingCall.prototype as unknown as { serializeMessage(this: unknown, value: unknown): Buffer };
    const framed = new FramedMessages(Buffer.from([0, 0, 0, 0, 0]), 1);
    // Unhooked, grpc-js's own method would reach for `this.handler` and throw.
    expect(prototype.serializeMessage.call({}, framed)).toBe(framed.bytes);
  });

  it("keeps serving after all of the above", async () => {
    const { messages, trailers } = await collect<SearchResponse>(h.client.search(knn(3)));
    expect(messages).toHaveLength(3);
    expect(trailers?.get("vecrec-total-matches")).toEqual(["3"]);
    const error = await failure(unary((cb) => h.client.getIndex({ indexName: "nope" }, cb)));
    expect(error.code).toBe(status.NOT_FOUND);
  });
});
