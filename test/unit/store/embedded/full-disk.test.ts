/**
 * A data directory whose disk fills up: the write that cannot be saved fails UNAVAILABLE, the store
 * stops serving (availability false), and the process goes on (lmdb leaves rejected promises behind a
 * failed commit: unhandled, they would end it; vitest fails a run with an unhandled rejection). On a
 * reopen every acknowledged write is there. Needs a small filesystem: a 2 MiB tmpfs, which only root
 * can mount; skipped (saying so) elsewhere.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../../../src/domain/errors.js";
import { defaultIndexSpec } from "../../../../src/domain/index-spec.js";
import { createEmbeddedStore } from "../../../../src/store/embedded/embedded-store.js";
import { openLmdbPersistence } from "../../../../src/store/embedded/lmdb-persistence.js";

const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), "vecrec-full-disk-"));
let mounted = false;
let why = "";
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint], { stdio: "pipe" });
  mounted = true;
} catch (error: unknown) {
  why = `cannot mount a 2 MiB tmpfs here (${String((error as { stderr?: Buffer }).stderr ?? error).trim().split("\n")[0]}): the full-disk test needs root`;
  console.log(`full-disk: skipped: ${why}`);
}

afterAll(() => {
  if (mounted) execFileSync("umount", [mountPoint]);
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!mounted)(`a data directory on a full disk${mounted ? "" : ` (skipped: ${why})`}`, () => {
  it("fails the write that cannot be saved UNAVAILABLE, stops serving, stays up, and keeps every acknowledged write", async () => {
    const dir = path.join(mountPoint, "data");
    let store = createEmbeddedStore({ persistence: await openLmdbPersistence(dir) });
    const availability: boolean[] = [];
    store.onAvailabilityChange?.((available) => availability.push(available));
    await store.createIndex(defaultIndexSpec("full", 64));
    const acknowledged: string[] = [];
    let failure: unknown;
    for (let batch = 0; batch < 1000 && failure === undefined; batch++) {
      const items = Array.from({ length: 50 }, (_, j) => ({
        id: `i${batch}-${j}`,
        vector: Float32Array.from({ length: 64 }, (_, d) => Math.sin(batch * 50 + j + d)),
        fields: {},
      }));
      try {
        await store.upsert("full", items);
        acknowledged.push(...items.map((item) => item.id));
      } catch (error: unknown) {
        failure = error;
      }
    }
    expect(failure).toBeInstanceOf(UnavailableError);
    expect((failure as Error).message).toMatch(/could not be saved to the data directory/);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(availability).toEqual([false]);
    expect(store.isAvailable?.()).toBe(false);
    await expect(store.getIndex("full")).rejects.toBeInstanceOf(UnavailableError);
    // Time for lmdb's rejections to surface: none may go unhandled.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await store.close();

    store = createEmbeddedStore({ persistence: await openLmdbPersistence(dir) });
    try {
      const items = await store.getItems("full", acknowledged, { includeVectors: false });
      expect(items.filter((item) => item === undefined)).toHaveLength(0);
    } finally {
      await store.close();
    }
  });
});
