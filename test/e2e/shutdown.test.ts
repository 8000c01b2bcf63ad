import { Metadata, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IndexRequest, SearchRequest, type SearchResponse } from "../../src/gen/vecrec/v1/vecrec.js";
import type { SearchQuery, SearchResult, VectorStore } from "../../src/store/vector-store.js";
import { BACKENDS, collect, failure, overrideStore, startHarness, unary, vectorBytes, type Harness } from "./harness.js";

describe("graceful shutdown", () => {
  let h: Harness;
  let gate: { opened: Promise<void>; open(): void; entered: Promise<void>; enter(): void } | undefined;

  function gated(store: VectorStore): VectorStore {
    return overrideStore(store, {
      async search(index: string, query: SearchQuery): Promise<SearchResult> {
        if (gate) {
          gate.enter();
          await gate.opened;
        }
        return store.search(index, query);
      },
    });
  }

  beforeAll(async () => {
    h = await startHarness(BACKENDS[0] as (typeof BACKENDS)[number], { wrapStore: gated });
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "g", defaultVectorDimension: 2 }), cb));
    await unary((cb) => h.client.upsert({ indexName: "g", items: [{ id: "a", vector: vectorBytes([1, 0]), fields: {} }] }, cb));
  });
  afterAll(async () => {
    await h?.close();
  });

  it("lets an in-flight call finish, refuses new calls, then stops", async () => {
    let open!: () => void;
    let enter!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const entered = new Promise<void>((r) => (enter = r));
    gate = { opened, open, entered, enter };

    const inFlight = collect<SearchResponse>(
      h.client.search(SearchRequest.fromPartial({ indexName: "g", query: { $case: "vector", value: vectorBytes([1, 0]) }, k: 1 })),
    );
    await entered;
    const closing = h.server.close({ graceMs: 10_000 });
    // New calls are refused while draining (the listener is gone).
    const refused = await failure(unary((cb) => h.client.listIndexes({}, new Metadata(), { deadline: new Date(Date.now() + 2_000) }, cb)));
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(refused.code);

    open();
    const { messages, error } = await inFlight;
    expect(error).toBeUndefined();
    expect(messages.map((m) => m.id)).toEqual(["a"]);
    await closing;
    gate = undefined;
  });
});
