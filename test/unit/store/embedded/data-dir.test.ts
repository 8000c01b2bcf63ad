/**
 * The embedded engine's data directory: reopening, the lock, the format checks (foreign, corrupt,
 * newer directories are refused and left untouched), backup of a live directory and restore.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FailedPreconditionError, UnavailableError } from "../../../../src/domain/errors.js";
import type { IndexSpec } from "../../../../src/domain/schema.js";
import { createEmbeddedStore } from "../../../../src/store/embedded/embedded-store.js";
import { decodeItemRecord, encodeItemRecord } from "../../../../src/store/embedded/item-record.js";
import {
  DATA_FILE,
  DataDirError,
  FORMAT_FILE,
  backupDataDir,
  openLmdbPersistence,
  restoreDataDir,
} from "../../../../src/store/embedded/lmdb-persistence.js";
import { LOCK_FILE, LOCK_SOCKET } from "../../../../src/store/embedded/data-dir-lock.js";
import type { Persistence } from "../../../../src/store/embedded/persistence.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vecrec-datadir-"));
  dirs.push(dir);
  return dir;
}

const spec: IndexSpec = {
  name: "things",
  fields: [
    { name: "grp", type: "tag", separator: ",", caseSensitive: false },
    { name: "vec", type: "vector", dimension: 3, algorithm: "FLAT", metric: "COSINE", elementType: "FLOAT32" },
  ],
};

const open = async (dir: string) => createEmbeddedStore({ persistence: await openLmdbPersistence(dir) });

/** Every file of `dir` with its bytes (to show nothing was written). */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f)).toString("base64")]));
}

describe("the data directory", () => {
  it("keeps items (vectors bit for bit, fields), interactions and definitions across a reopen", async () => {
    const dir = path.join(tempDir(), "nested", "data");
    let store = await open(dir);
    await store.createIndex(spec);
    const odd = new Float32Array([1e-45, -0, 3.4e38]);
    await store.upsert("things", [
      { id: "a", vector: odd, fields: { grp: { type: "tag", values: ["x", "y"] } } },
      { id: "é/☃", vector: new Float32Array([0, 0, 0]), fields: {} },
    ]);
    await store.recordInteractions("things", [{ userId: "a", itemId: "z", kind: "like", weight: 0.25, occurredAtMs: 12 }]);
    await store.close();
    store = await open(dir);
    const [a, snowman] = await store.getItems("things", ["a", "é/☃"], { includeVectors: true });
    expect(new Uint8Array((a?.vector as Float32Array).buffer)).toEqual(new Uint8Array(odd.buffer));
    expect(a?.fields).toEqual({ grp: { type: "tag", values: ["x", "y"] } });
    expect(Array.from(snowman?.vector ?? [])).toEqual([0, 0, 0]);
    expect((await store.getInteractions("things", "a", { offset: 0, limit: 10 })).interactions).toEqual([
      { userId: "a", itemId: "z", kind: "like", weight: 0.25, occurredAtMs: 12 },
    ]);
    expect((await store.getIndexSpec("things"))).toEqual(spec);
    await store.close();
  });

  it("encodes an item record and decodes it back", () => {
    const item = {
      id: "i",
      vector: new Float32Array([1.5, -2, Number.MIN_VALUE]),
      fields: { t: { type: "text", value: "héllo" }, g: { type: "tag", values: [] }, n: { type: "numeric", value: -1.25 } },
    } as const;
    expect(decodeItemRecord("i", encodeItemRecord(item))).toEqual(item);
    expect(decodeItemRecord("j", encodeItemRecord({ id: "j", fields: {} }))).toEqual({ id: "j", fields: {} });
    expect(() => decodeItemRecord("k", new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/version/);
  });

  it("refuses a second opener in this process and in another process, and takes over a stale lock", async () => {
    const dir = tempDir();
    const store = await open(dir);
    await expect(openLmdbPersistence(dir)).rejects.toThrow(/in use by another vecrec process/);
    // Another process: the same refusal, from its own pid check.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "-e", `import("./src/store/embedded/lmdb-persistence.ts").then((m) => m.openLmdbPersistence(${JSON.stringify(dir)})).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); })`],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(3);
    expect(stderr).toContain(`data directory ${dir} is in use by another vecrec process (pid ${process.pid}`);
    await store.close();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    // A lock file left by a process that is gone (a kill -9) does not stop the next server: without a
    // socket (a vecrec before the socket), by its pid, once older than an owner still starting.
    const lockFile = path.join(dir, LOCK_FILE);
    fs.writeFileSync(lockFile, JSON.stringify({ pid: 2 ** 22 + 7, startTime: "1" }));
    await expect(openLmdbPersistence(dir)).rejects.toThrow(/in use by another vecrec process/);
    const minuteAgo = new Date(Date.now() - 60_000);
    fs.utimesSync(lockFile, minuteAgo, minuteAgo);
    const again = await open(dir);
    expect(await again.listIndexes()).toEqual([]);
    expect(fs.existsSync(path.join(dir, LOCK_SOCKET))).toBe(true);
    await again.close();
    expect(fs.existsSync(path.join(dir, LOCK_SOCKET))).toBe(false);
  });

  it("keeps an interests recompute marked with the definition across a reopen, until cleared", async () => {
    const dir = tempDir();
    let store = await open(dir);
    await store.createIndex(spec);
    await store.setInterests("things", { categoryNames: ["a", "b", "c"], threshold: 0.5, tagField: "likes" }, { recomputeTagField: "likes" });
    await store.close();
    store = await open(dir);
    expect(await store.pendingInterestRecomputes()).toEqual(new Map([["things", "likes"]]));
    expect((await store.getIndexSpec("things")).interests?.threshold).toBe(0.5);
    await store.interestsRecomputed("things");
    await store.close();
    store = await open(dir);
    expect(await store.pendingInterestRecomputes()).toEqual(new Map());
    await store.close();
  });

  it("refuses a lock whose owner's socket answers, whatever its pid says (an owner in another pid namespace)", async () => {
    const dir = tempDir();
    await (await open(dir)).close();
    // Another container on the same volume: its pid (1 there) means nothing here, its socket answers.
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 7, startTime: "1" }));
    const minuteAgo = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(dir, LOCK_FILE), minuteAgo, minuteAgo);
    const owner = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => owner.listen(path.join(dir, LOCK_SOCKET), resolve));
    try {
      await expect(openLmdbPersistence(dir)).rejects.toThrow(/in use by another vecrec process \(pid 4194311/);
      expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(true);
    } finally {
      await new Promise<void>((resolve) => owner.close(() => resolve()));
    }
  });

  it("takes over a lock whose socket refuses (its owner died), whatever its pid says, within a second", async () => {
    const dir = tempDir();
    // A server killed with SIGKILL: its lock file and its socket stay, nobody listens.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "-e", `import("./src/store/embedded/lmdb-persistence.ts").then((m) => m.openLmdbPersistence(${JSON.stringify(dir)})).then(() => { console.log("locked"); setInterval(() => {}, 1000); })`],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("locked") && resolve()));
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(fs.existsSync(path.join(dir, LOCK_SOCKET))).toBe(true);
    // Its pid rewritten to one that lives here with the right start time (our parent): the socket decides.
    const stat = fs.readFileSync(`/proc/${process.ppid}/stat`, "utf8");
    const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, startTime }));
    const started = Date.now();
    const store = await open(dir);
    expect(Date.now() - started).toBeLessThan(1_000);
    await store.close();
  });

  it("refuses foreign, corrupt, truncated and newer directories with one error, writing nothing", async () => {
    const foreign = tempDir();
    fs.writeFileSync(path.join(foreign, "notes.txt"), "mine");
    const corrupt = tempDir();
    fs.writeFileSync(path.join(corrupt, FORMAT_FILE), JSON.stringify({ format: "vecrec-embedded", version: 1 }));
    fs.writeFileSync(path.join(corrupt, DATA_FILE), Buffer.alloc(64 * 1024, 7));
    const newer = tempDir();
    fs.writeFileSync(path.join(newer, FORMAT_FILE), JSON.stringify({ format: "vecrec-embedded", version: 99 }));
    fs.writeFileSync(path.join(newer, DATA_FILE), "future");
    // A real database cut short (a copy that stopped half-way).
    const truncated = tempDir() + "-truncated";
    fs.mkdirSync(truncated);
    dirs.push(truncated);
    const source = tempDir();
    const full = createEmbeddedStore({ persistence: await openLmdbPersistence(source) });
    await full.createIndex(spec);
    await full.upsert("things", Array.from({ length: 500 }, (_, i) => ({ id: `i${i}`, vector: new Float32Array([i, 1, 2]), fields: {} })));
    await full.close();
    fs.copyFileSync(path.join(source, FORMAT_FILE), path.join(truncated, FORMAT_FILE));
    const bytes = fs.readFileSync(path.join(source, DATA_FILE));
    fs.writeFileSync(path.join(truncated, DATA_FILE), bytes.subarray(0, bytes.length - 4096));
    const alien = tempDir();
    fs.writeFileSync(path.join(alien, FORMAT_FILE), "{not json");
    const cases: [string, RegExp][] = [
      [foreign, /is not empty and is not a vecrec data directory/],
      [corrupt, /is not a usable database \(not an LMDB file\)/],
      [newer, /format version 99, written by a newer vecrec/],
      [alien, /vecrec-format\.json is unreadable/],
      [truncated, /is not a usable database \(truncated/],
    ];
    for (const [dir, message] of cases) {
      const before = snapshot(dir);
      let error: unknown;
      try {
        await openLmdbPersistence(dir);
      } catch (e) {
        error = e;
      }
      expect(error, dir).toBeInstanceOf(DataDirError);
      expect(error).toBeInstanceOf(FailedPreconditionError);
      expect((error as Error).message).toMatch(message);
      expect(snapshot(dir)).toEqual(before);
    }
  });

  it("backs up a live directory and restores it into a new one, never over an existing one", async () => {
    const dir = tempDir();
    const store = await open(dir);
    await store.createIndex(spec);
    await store.upsert("things", [{ id: "a", vector: new Float32Array([1, 2, 3]), fields: {} }]);
    const backup = path.join(tempDir(), "backup");
    expect(await backupDataDir(dir, backup)).toBeGreaterThan(0);
    // Written after the backup: not in it.
    await store.upsert("things", [{ id: "b", vector: new Float32Array([1, 2, 4]), fields: {} }]);
    await expect(backupDataDir(dir, backup)).rejects.toThrow(/is not empty; nothing was overwritten/);
    await store.close();

    const restored = path.join(tempDir(), "restored");
    await restoreDataDir(backup, restored);
    await expect(restoreDataDir(backup, dir)).rejects.toThrow(/is not empty; nothing was overwritten/);
    const back = await open(restored);
    expect((await back.getItems("things", ["a", "b"], { includeVectors: true })).map((i) => i?.id)).toEqual(["a", undefined]);
    expect(await back.getIndexSpec("things")).toEqual(spec);
    await back.close();
    // The backup itself is a data directory a server opens.
    const direct = await open(backup);
    expect((await direct.getIndex("things")).itemCount).toBe(1);
    await direct.close();
  });
});

describe("the write path", () => {
  it("stops serving once a commit fails (memory would be ahead of the disk), and says so", async () => {
    let fail = false;
    const changes: string[] = [];
    const persistence: Persistence = {
      durable: true,
      location: "/nowhere",
      load: () => ({ indexes: [], items: () => [], interactions: () => [], meta: new Map() }),
      commit(write) {
        write({
          putIndex: (r) => changes.push(`index ${r.spec.name}`),
          deleteIndex: () => undefined,
          putItems: (_n, items) => changes.push(...[...items].map((i) => `item ${i.id}`)),
          deleteItems: () => undefined,
          putInteractions: () => undefined,
          deleteInteractions: () => undefined,
          putMeta: () => undefined,
        });
        return fail ? Promise.reject(new Error("ENOSPC: no space left on device")) : Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    const store = createEmbeddedStore({ persistence });
    const health: boolean[] = [];
    store.onAvailabilityChange?.((available) => health.push(available));
    await store.createIndex(spec);
    await store.upsert("things", [{ id: "a", vector: new Float32Array([1, 2, 3]), fields: {} }]);
    expect(changes).toEqual(["index things", "item a"]);
    fail = true;
    await expect(store.upsert("things", [{ id: "b", vector: new Float32Array([1, 2, 3]), fields: {} }])).rejects.toThrow(
      /could not be saved to the data directory: ENOSPC/,
    );
    expect(store.isAvailable?.()).toBe(false);
    expect(health).toEqual([false]);
    await expect(store.getItems("things", ["a"], { includeVectors: false })).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.listIndexes()).rejects.toThrow(/restart the server/);
    await store.close();
  });
});
