/**
 * Aliases on Redis, beyond the contract (test/contract/suite/aliases.ts): the FT alias is kept in step
 * with vecrec's own (an FT.SEARCH sent to Redis on the alias reaches the same index), a moved alias
 * takes effect at once on another replica that caches definitions for a minute (as another --workers
 * process would), and an FT alias lost between the two writes (a crash) is repaired by repeating the
 * call. On the stand-ins (standalone, cluster) and the real servers when configured.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultIndexSpec } from "../../src/domain/index-spec.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { deleteKey, realServerNotes, redisTestBackends, uniquePrefix, type RedisTestServer } from "../support/redis-test-backends.js";

for (const note of realServerNotes()) console.warn(note);

for (const backend of redisTestBackends()) {
  describe(`aliases on ${backend.name}`, () => {
    let server: RedisTestServer;
    let mine: VectorStore;
    let other: VectorStore;
    let raw: ReturnType<typeof createClient>;
    const prefix = uniquePrefix("aliases");
    const a = "idx_a";
    const b = "idx_b";
    const alias = "live";

    beforeAll(async () => {
      server = await backend.start();
      mine = await createRedisStore({ url: server.url, keyPrefix: prefix });
      // A replica whose definitions cache outlives the test: an alias must never come from it.
      other = await createRedisStore({ url: server.url, keyPrefix: prefix, definitionCacheMs: 60_000 });
      raw = createClient({ url: server.url, RESP: 2 });
      await raw.connect();
      await mine.createIndex(defaultIndexSpec(a, 2));
      await mine.createIndex(defaultIndexSpec(b, 2));
      await mine.upsert(a, [{ id: "in-a", vector: new Float32Array([1, 0]), fields: {} }]);
      await mine.upsert(b, [{ id: "in-b", vector: new Float32Array([0, 1]), fields: {} }]);
    });

    afterAll(async () => {
      await mine?.deleteAlias(alias).catch(() => undefined);
      for (const name of [a, b]) await mine?.dropIndex(name, { deleteItems: true }).catch(() => undefined);
      // What the drops leave on a shared server: their marks in the definitions hash.
      if (backend.real && server !== undefined) await deleteKey(server.url, backend.cluster, `${prefix}indexes`).catch(() => undefined);
      await raw?.quit().catch(() => undefined);
      await mine?.close();
      await other?.close();
      await server?.close();
    });

    /** The keys an FT.SEARCH sent straight to Redis on the FT alias finds (Redis resolves its alias). */
    async function ftAliasKeys(): Promise<string[] | string> {
      try {
        const reply = await raw.sendCommand<unknown[]>(["FT.SEARCH", `${prefix}idx:${alias}`, "*", "NOCONTENT"]);
        return reply.slice(1).map(String);
      } catch (error) {
        return (error as Error).message;
      }
    }

    it("keeps the FT alias in step, moves at once for another replica, and repairs a lost FT alias", async () => {
      await other.getIndexSpec(a);
      await other.getIndexSpec(b);
      expect(await mine.createAlias(alias, a)).toEqual({ created: true });
      expect((await other.getIndexSpec(alias)).name).toBe(a);
      expect(await ftAliasKeys()).toEqual([`${prefix}${a}:item:in-a`]);

      await mine.updateAlias(alias, b);
      expect((await other.getIndexSpec(alias)).name).toBe(b);
      expect(await ftAliasKeys()).toEqual([`${prefix}${b}:item:in-b`]);

      // A crash between the hash write and the FT alias: vecrec still resolves from its hash, and
      // repeating the call puts the FT alias back.
      await raw.sendCommand(["FT.ALIASDEL", `${prefix}idx:${alias}`]);
      expect(await ftAliasKeys()).not.toEqual([`${prefix}${b}:item:in-b`]);
      expect((await other.getIndexSpec(alias)).name).toBe(b);
      expect(await mine.createAlias(alias, b)).toEqual({ created: false });
      expect(await ftAliasKeys()).toEqual([`${prefix}${b}:item:in-b`]);

      expect(await mine.deleteAlias(alias)).toEqual({ indexName: b });
      expect(await ftAliasKeys()).toMatch(/no such index/i);
      expect((await mine.listIndexes()).flatMap((info) => info.aliases ?? [])).toEqual([]);
      await expect(other.getIndexSpec(alias)).rejects.toThrow(/does not exist/);
    });
  });
}
