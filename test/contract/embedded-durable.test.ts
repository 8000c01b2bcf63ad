/**
 * The contract suite on the durable embedded engine (LMDB in a temporary data directory), twice: as it
 * serves, and reopened from its directory after each write (so every read after a write is answered by
 * what was loaded back from disk).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { openLmdbPersistence } from "../../src/store/embedded/lmdb-persistence.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { describeVectorStoreContract } from "./vector-store-contract.js";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "vecrec-contract-"));
}

async function openDurable(dir: string): Promise<VectorStore> {
  return createEmbeddedStore({ persistence: await openLmdbPersistence(dir) });
}

describeVectorStoreContract("embedded, durable (data directory)", async () => {
  const dir = tempDir();
  const store = await openDurable(dir);
  return {
    store,
    async cleanup() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

const WRITES = new Set(["createIndex", "dropIndex", "setInterests", "interestsRecomputed", "upsert", "updateItems", "deleteItems", "setInterestTags", "recordInteractions", "createAlias", "updateAlias", "deleteAlias"]);

/**
 * A store that closes and reopens itself from its directory after each write, when no other call is in
 * flight (a call arriving meanwhile waits for the reopened store).
 */
async function reopeningStore(dir: string): Promise<VectorStore> {
  let current = await openDurable(dir);
  let inFlight = 0;
  let reopening: Promise<void> = Promise.resolve();
  async function reopen(): Promise<void> {
    await current.close();
    current = await openDurable(dir);
  }
  const call = async (name: string, args: unknown[]): Promise<unknown> => {
    await reopening;
    inFlight++;
    try {
      return await (current[name as keyof VectorStore] as (...a: unknown[]) => Promise<unknown>).apply(current, args);
    } finally {
      inFlight--;
      if (WRITES.has(name) && inFlight === 0) reopening = reopen();
    }
  };
  return new Proxy({} as VectorStore, {
    get(_target, name: string) {
      // Not a thenable (an async function returns it).
      if (name === "then") return undefined;
      if (name === "backend") return current.backend;
      if (name === "isAvailable") return () => current.isAvailable?.() ?? true;
      if (name === "onAvailabilityChange") return undefined;
      if (name === "close") return async () => { await reopening; await current.close(); };
      if (name === "scanItems" || name === "exportItems") {
        // Iterables, not promises: read from the store open when the walk starts.
        return (index: string, options: never): AsyncIterable<unknown> => ({
          async *[Symbol.asyncIterator]() {
            await reopening;
            inFlight++;
            try {
              yield* name === "scanItems" ? current.scanItems(index, options) : current.exportItems(index, options);
            } finally {
              inFlight--;
            }
          },
        });
      }
      return (...args: unknown[]) => call(name, args);
    },
  });
}

describeVectorStoreContract("embedded, durable, reopened after each write", async () => {
  const dir = tempDir();
  const store = await reopeningStore(dir);
  return {
    store,
    async cleanup() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
