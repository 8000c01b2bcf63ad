/**
 * The VectorStore contract against a real Redis with the Query Engine (Redis 8 or Redis Stack), when
 * VECREC_TEST_REDIS_URL points at one, e.g. `redis://127.0.0.1:6379`. Each run uses its own key prefix
 * and drops what it created, so a shared server is fine (FLUSHALL is never sent).
 */
import { describe, it } from "vitest";
import { deleteKey } from "../support/redis-test-backends.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import { describeVectorStoreContract } from "./vector-store-contract.js";

const url = process.env.VECREC_TEST_REDIS_URL;

if (url === undefined || url === "") {
  const reason = "VECREC_TEST_REDIS_URL is not set: the contract suite against a real Redis Query Engine is skipped";
  console.warn(reason);
  describe.skip(`VectorStore contract: redis (real) (${reason})`, () => {
    it("needs a real Redis", () => undefined);
  });
} else {
  describeVectorStoreContract("redis (real)", async () => {
    const keyPrefix = `vecrec-test-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}:`;
    const store = await createRedisStore({ url, keyPrefix });
    // What the contract's drops leave on the shared server: their marks in the definitions hash.
    return { store, cleanup: () => deleteKey(url, false, `${keyPrefix}indexes`).then(() => store.close()) };
  });
}
