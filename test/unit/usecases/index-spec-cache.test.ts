import { describe, expect, it } from "vitest";
import { IndexNotFoundError } from "../../../src/domain/errors.js";
import { defaultIndexSpec } from "../../../src/domain/index-spec.js";
import type { IndexInfo, IndexSpec } from "../../../src/domain/schema.js";
import { createIndexSpecCache } from "../../../src/usecases/index-spec-cache.js";
import type { VectorStore } from "../../../src/store/vector-store.js";

/** A store whose getIndex counts calls and serves `specs`; nothing else is used by the cache. */
function countingStore(specs: Map<string, IndexSpec>): { store: VectorStore; calls: () => number } {
  let calls = 0;
  const store = {
    getIndex(name: string): Promise<IndexInfo> {
      calls++;
      const spec = specs.get(name);
      if (spec === undefined) return Promise.reject(new IndexNotFoundError(name));
      return Promise.resolve({ spec, itemCount: 0, indexing: false, indexingProgress: 1, indexingFailures: 0 });
    },
  } as unknown as VectorStore;
  return { store, calls: () => calls };
}

describe("index spec cache", () => {
  it("serves a spec from memory until the TTL passes", async () => {
    const specs = new Map([["a", defaultIndexSpec("a", 2)]]);
    const { store, calls } = countingStore(specs);
    let now = 1_000;
    const cache = createIndexSpecCache(store, { ttlMs: 100, now: () => now });
    expect(await cache.get("a")).toEqual(defaultIndexSpec("a", 2));
    specs.set("a", defaultIndexSpec("a", 3));
    now += 99;
    expect(await cache.get("a")).toEqual(defaultIndexSpec("a", 2));
    expect(calls()).toBe(1);
    now += 1;
    expect(await cache.get("a")).toEqual(defaultIndexSpec("a", 3));
    expect(calls()).toBe(2);
  });

  it("shares one store call between concurrent misses", async () => {
    const { store, calls } = countingStore(new Map([["a", defaultIndexSpec("a", 2)]]));
    const cache = createIndexSpecCache(store, { ttlMs: 1_000, now: () => 0 });
    await Promise.all([cache.get("a"), cache.get("a"), cache.get("a")]);
    expect(calls()).toBe(1);
  });

  it("does not cache unknown indexes", async () => {
    const specs = new Map<string, IndexSpec>();
    const { store, calls } = countingStore(specs);
    const cache = createIndexSpecCache(store, { ttlMs: 1_000, now: () => 0 });
    await expect(cache.get("a")).rejects.toBeInstanceOf(IndexNotFoundError);
    specs.set("a", defaultIndexSpec("a", 2));
    expect(await cache.get("a")).toEqual(defaultIndexSpec("a", 2));
    expect(calls()).toBe(2);
  });

  it("takes specs written by this process and forgets invalidated or vanished ones", async () => {
    const specs = new Map([["a", defaultIndexSpec("a", 2)]]);
    const { store, calls } = countingStore(specs);
    const cache = createIndexSpecCache(store, { ttlMs: 1_000, now: () => 0 });
    cache.set(defaultIndexSpec("a", 7));
    expect(await cache.get("a")).toEqual(defaultIndexSpec("a", 7));
    expect(calls()).toBe(0);
    cache.invalidate("a");
    expect(await cache.get("a")).toEqual(defaultIndexSpec("a", 2));
    cache.set(defaultIndexSpec("a", 7));
    await expect(
      cache.guard("a", () => Promise.reject(new IndexNotFoundError("a"))),
    ).rejects.toBeInstanceOf(IndexNotFoundError);
    expect(await cache.get("a")).toEqual(defaultIndexSpec("a", 2));
    expect(calls()).toBe(2);
  });

  it("reads the store every time with a TTL of 0", async () => {
    const { store, calls } = countingStore(new Map([["a", defaultIndexSpec("a", 2)]]));
    const cache = createIndexSpecCache(store, { ttlMs: 0 });
    await cache.get("a");
    await cache.get("a");
    expect(calls()).toBe(2);
  });
});
