/**
 * What every part of the contract suite shares: the store under test and fresh, uniquely named indexes
 * that are dropped (with their items) when the suite ends.
 *
 * Every test creates its own index through `createIndex`, so the suite can run against a shared Redis.
 */
import { afterAll, beforeAll, expect } from "vitest";
import { IndexNotFoundError } from "../../../src/domain/errors.js";
import type { FieldSpec, IndexSpec, InterestSpec } from "../../../src/domain/schema.js";
import type { VectorStore } from "../../../src/store/vector-store.js";

export interface ContractStoreHandle {
  store: VectorStore;
  cleanup(): Promise<void>;
}

export interface ContractContext {
  /**
   * The store under test. It is opened by the suite's beforeAll, but this handle can be taken while
   * describing (`const { store, createIndex } = ctx;`): each method call goes to the open store.
   */
  readonly store: VectorStore;
  /** Unique to this run; every index name starts with `ct_${runId}_`. */
  readonly runId: string;
  /** A fresh index name, unique across runs (the suite may share a Redis with other runs). */
  readonly freshName: (label: string) => string;
  /** Creates an index with a fresh name and the given fields (dropped with its items after the suite). */
  readonly createIndex: (label: string, fields: FieldSpec[], interests?: InterestSpec) => Promise<IndexSpec>;
  /** Polls until a backend that indexes existing data in the background is done (Redis after FT.CREATE). */
  readonly waitUntilIndexed: (indexName: string) => Promise<void>;
}

/**
 * Opens the store with `makeStore` before the tests of the enclosing describe block and, after them,
 * drops every index they created and cleans up. Call it inside that describe block.
 */
export function useContractStore(makeStore: () => Promise<ContractStoreHandle>): ContractContext {
  let handle: ContractStoreHandle | undefined;
  let store: VectorStore | undefined;
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  let counter = 0;
  const created = new Set<string>();

  const storeUnderTest = (): VectorStore => {
    if (store === undefined) throw new Error("the contract's store is not open yet: call it from a test or a hook");
    return store;
  };
  /** Forwards every method call to the store opened in beforeAll. */
  const lateStore = new Proxy({} as VectorStore, {
    get(_target, key) {
      const open = storeUnderTest();
      const value: unknown = Reflect.get(open, key);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(open) : value;
    },
  });

  function freshName(label: string): string {
    counter += 1;
    return `ct_${runId}_${counter}_${label}`.slice(0, 64);
  }

  async function createIndex(label: string, fields: FieldSpec[], interests?: InterestSpec): Promise<IndexSpec> {
    const spec: IndexSpec = interests === undefined ? { name: freshName(label), fields } : { name: freshName(label), fields, interests };
    const result = await storeUnderTest().createIndex(spec);
    created.add(spec.name);
    expect(result.created).toBe(true);
    return spec;
  }

  async function waitUntilIndexed(indexName: string): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const info = await storeUnderTest().getIndex(indexName);
      if (!info.indexing) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`index ${indexName} still indexing after 5 s`);
  }

  beforeAll(async () => {
    handle = await makeStore();
    store = handle.store;
  });

  afterAll(async () => {
    if (store !== undefined) {
      for (const indexName of created) {
        try {
          await store.dropIndex(indexName, { deleteItems: true });
        } catch (error) {
          if (!(error instanceof IndexNotFoundError)) throw error;
        }
      }
    }
    await handle?.cleanup();
  });

  return {
    store: lateStore,
    runId,
    freshName,
    createIndex,
    waitUntilIndexed,
  };
}
