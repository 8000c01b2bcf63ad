/**
 * The durable Persistence of the embedded engine: an LMDB environment (the `lmdb` package) in a data
 * directory.
 *
 * Directory layout (format version 1):
 *   vecrec-format.json   {"format":"vecrec-embedded","version":1}: what this directory is; written first
 *   data.mdb             the LMDB environment (one file), with sub-databases:
 *                          meta          "format" -> the same version (so a bare copy of data.mdb says it
 *                                        too), and putMeta's keys under "m:<key>"
 *                          indexes       index name -> { spec, live }            (MessagePack)
 *                          items         [index name, item id] -> item-record.ts (raw bytes)
 *                          interactions  [index name, user, item, kind, time ms] -> weight
 *   data.mdb-lock        LMDB's reader table
 *   vecrec.lock          the owner's pid (data-dir-lock.ts): one server per directory
 *
 * Crash safety: LMDB is copy-on-write with two meta pages, so a kill -9 or a power loss at any moment
 * leaves the last committed transaction. We open it with `overlappingSync: false`, so a commit returns
 * only after its fsync (lmdb-js's default on Linux, overlapping sync, resolves writes when committed and
 * flushes later: a power loss could lose acknowledged writes) and never with `noSync`. Each `commit` is
 * one LMDB transaction (`transaction(callback)`, all of one request's puts applied in the callback);
 * lmdb-js may put the commits of several requests queued in the same event turn into the same
 * transaction, which is fine: each is whole, in order.
 *
 * Format: a directory is accepted only when its vecrec-format.json names this format and a version we
 * know; an older version is migrated by MIGRATIONS (none yet), a newer one refused. A directory that
 * is not empty and has no format file (foreign), or whose files do not open, is refused with one error
 * naming it, and nothing in it is written.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { open, type Database, type RootDatabase } from "lmdb";
import { FailedPreconditionError } from "../../domain/errors.js";
import type { Interaction, InteractionKind } from "../../domain/interaction.js";
import { lockDataDir, LOCK_FILE, LOCK_SOCKET, type DataDirLock } from "./data-dir-lock.js";
import { decodeItemRecord, encodeItemRecord } from "./item-record.js";
import type { IndexRecord, Persistence, PersistenceBatch, PersistedData } from "./persistence.js";

export const FORMAT_FILE = "vecrec-format.json";
export const DATA_FILE = "data.mdb";
export const FORMAT_NAME = "vecrec-embedded";
export const FORMAT_VERSION = 1;

/**
 * Upgrades of the directory format: MIGRATIONS[v] turns a version v directory into version v + 1
 * (called with the environment open, before anything is loaded). Empty while there is one version.
 */
const MIGRATIONS: Record<number, (env: RootDatabase) => void> = {};

/** A data directory that cannot be used: the message says which and why; nothing was written. */
export class DataDirError extends FailedPreconditionError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DataDirError";
  }
}

type ItemKey = [string, string];
type InteractionKey = [string, string, string, string, number];

interface Databases {
  readonly env: RootDatabase;
  readonly meta: Database<unknown, string>;
  readonly indexes: Database<IndexRecord, string>;
  readonly items: Database<Uint8Array, ItemKey>;
  readonly interactions: Database<number, InteractionKey>;
}

/** LMDB's meta page magic, and the data version of the LMDB lmdb-js builds. */
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_DATA_VERSION = 2;
/** Meta pages are pages 0 and 1; each has a 24-byte page header, then the meta. */
const META_OFFSET = 24;

/**
 * Checks the two meta pages of an LMDB file before LMDB maps it: LMDB trusts its file (a foreign or
 * truncated one can crash the process instead of failing), so a file without LMDB's magic and version,
 * or shorter than its newest meta page says, is refused here with a message. Corruption inside the
 * pages (bit rot) is beyond this check: LMDB keeps no checksums.
 * @throws DataDirError
 */
function checkLmdbFile(dir: string, file: string): void {
  const fail = (why: string): never => {
    throw new DataDirError(`data directory ${dir}: ${DATA_FILE} is not a usable database (${why}); nothing was changed`);
  };
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (error: unknown) {
    return fail(message(error));
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(META_OFFSET + 160);
    if (fs.readSync(fd, head, 0, head.length, 0) < head.length) fail("too short");
    if (head.readUInt32LE(META_OFFSET) !== LMDB_MAGIC) fail("not an LMDB file");
    if (head.readUInt32LE(META_OFFSET + 4) !== LMDB_DATA_VERSION) fail(`LMDB data version ${head.readUInt32LE(META_OFFSET + 4)}`);
    // The free list's md_pad holds the page size.
    const pageSize = head.readUInt32LE(META_OFFSET + 24);
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) fail(`page size ${pageSize}`);
    if (size < 2 * pageSize) fail("shorter than its two meta pages");
    const second = Buffer.alloc(META_OFFSET + 160);
    fs.readSync(fd, second, 0, second.length, pageSize);
    const metas = [head, second].filter((page) => page.readUInt32LE(META_OFFSET) === LMDB_MAGIC);
    // The meta LMDB will use: the newest transaction.
    const newest = metas.reduce((a, b) => (b.readBigUInt64LE(META_OFFSET + 128) > a.readBigUInt64LE(META_OFFSET + 128) ? b : a));
    const lastPage = newest.readBigUInt64LE(META_OFFSET + 120);
    if (BigInt(size) < (lastPage + 1n) * BigInt(pageSize)) fail(`truncated: ${size} bytes, its pages need ${(lastPage + 1n) * BigInt(pageSize)}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens the environment of a checked directory (`readOnly` for backups of a live directory). */
function openDatabases(dir: string, options: { readOnly: boolean }): Databases {
  const file = path.join(dir, DATA_FILE);
  if (fs.existsSync(file)) checkLmdbFile(dir, file);
  let env: RootDatabase;
  try {
    env = open({
      path: file,
      maxDbs: 8,
      // A commit resolves after its fsync (see the header).
      overlappingSync: false,
      // Every write is one transaction of a request (commit below): lmdb's batching of an event turn's
      // writes adds nothing, and when a commit fails it leaves the batch's own promise rejected with
      // nobody to handle it, which would end the process (a full disk must stop the store, not the server).
      eventTurnBatching: false,
      readOnly: options.readOnly,
    });
  } catch (error: unknown) {
    throw new DataDirError(`data directory ${dir}: ${DATA_FILE} does not open as a database (corrupt or not vecrec's): ${message(error)}`, {
      cause: error,
    });
  }
  try {
    return {
      env,
      meta: env.openDB<unknown, string>({ name: "meta" }),
      indexes: env.openDB<IndexRecord, string>({ name: "indexes" }),
      items: env.openDB<Uint8Array, ItemKey>({ name: "items", encoding: "binary" }),
      interactions: env.openDB<number, InteractionKey>({ name: "interactions" }),
    };
  } catch (error: unknown) {
    void env.close();
    throw new DataDirError(`data directory ${dir}: ${DATA_FILE} is not a vecrec database: ${message(error)}`, { cause: error });
  }
}

/**
 * What `dir` holds: "new" (missing or empty: it may be created), or its format version.
 * @throws DataDirError for a foreign or unreadable directory, or a format we do not know
 */
function inspectDataDir(dir: string): "new" | number {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "new";
    throw new DataDirError(`data directory ${dir} cannot be read: ${message(error)}`, { cause: error });
  }
  // A lock file alone is what a server stopped before creating anything leaves.
  if (entries.every((entry) => entry === LOCK_FILE || entry === LOCK_SOCKET || entry.startsWith(`${FORMAT_FILE}.tmp-`))) return "new";
  if (!entries.includes(FORMAT_FILE)) {
    throw new DataDirError(
      `data directory ${dir} is not empty and is not a vecrec data directory (no ${FORMAT_FILE}); ` +
        `nothing was changed: point --data-dir at an empty or new directory, or at one vecrec created`,
    );
  }
  let format: { format?: unknown; version?: unknown };
  try {
    format = JSON.parse(fs.readFileSync(path.join(dir, FORMAT_FILE), "utf8")) as typeof format;
  } catch (error: unknown) {
    throw new DataDirError(`data directory ${dir}: ${FORMAT_FILE} is unreadable (${message(error)}); nothing was changed`, { cause: error });
  }
  if (format.format !== FORMAT_NAME || typeof format.version !== "number" || !Number.isInteger(format.version) || format.version < 1) {
    throw new DataDirError(`data directory ${dir}: ${FORMAT_FILE} does not describe a vecrec data directory; nothing was changed`);
  }
  if (format.version > FORMAT_VERSION) {
    throw new DataDirError(
      `data directory ${dir} has format version ${format.version}, written by a newer vecrec; this one reads up to ` +
        `${FORMAT_VERSION}; nothing was changed`,
    );
  }
  if (!entries.includes(DATA_FILE)) {
    // Our format file and no database: a server stopped between creating the one and the other.
    if (entries.every((entry) => entry === LOCK_FILE || entry === LOCK_SOCKET || entry === FORMAT_FILE || entry.startsWith(`${FORMAT_FILE}.tmp-`))) return "new";
    throw new DataDirError(`data directory ${dir} has ${FORMAT_FILE} but no ${DATA_FILE}; nothing was changed`);
  }
  return format.version;
}

/** Writes a file and makes it durable (temp file, fsync, rename, fsync of the directory). */
function writeFileDurably(file: string, text: string): void {
  const temp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(temp, "w", 0o644);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  fsyncDir(path.dirname(file));
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function formatText(): string {
  return `${JSON.stringify({ format: FORMAT_NAME, version: FORMAT_VERSION })}\n`;
}

/**
 * Checks the version recorded inside the database (a second guard: data.mdb copied without its format
 * file, or a format file beside another data.mdb), writing it into a new one.
 */
function checkInnerFormat(dir: string, dbs: Databases, expected: number): void {
  const inner = dbs.meta.get("format") as { format?: unknown; version?: unknown } | undefined;
  if (inner === undefined) {
    const empty = dbs.indexes.getKeysCount() === 0 && dbs.items.getKeysCount() === 0;
    if (!empty) throw new DataDirError(`data directory ${dir}: ${DATA_FILE} holds data but no vecrec format record; nothing was changed`);
    dbs.meta.putSync("format", { format: FORMAT_NAME, version: expected });
    return;
  }
  if (inner.format !== FORMAT_NAME || inner.version !== expected) {
    throw new DataDirError(
      `data directory ${dir}: ${DATA_FILE} says format ${JSON.stringify(inner)}, ${FORMAT_FILE} says version ${expected}; nothing was changed`,
    );
  }
}

/**
 * Opens (creating it when missing or empty) the data directory `dir` for this process: takes its lock,
 * checks its format, migrates an older one.
 * @throws DataDirError (a FailedPreconditionError) with one message naming the directory
 */
export async function openLmdbPersistence(dir: string): Promise<Persistence> {
  if (os.endianness() !== "LE") throw new DataDirError("the embedded engine's data directory needs a little-endian machine");
  const absolute = path.resolve(dir);
  const state = inspectDataDir(absolute);
  if (state === "new") fs.mkdirSync(absolute, { recursive: true });
  let lock: DataDirLock;
  try {
    lock = await lockDataDir(absolute);
  } catch (error: unknown) {
    if (error instanceof FailedPreconditionError) throw new DataDirError(error.message, { cause: error });
    throw new DataDirError(`data directory ${absolute}: cannot create its lock file: ${message(error)}`, { cause: error });
  }
  let dbs: Databases;
  try {
    // Under the lock: what another process may have created meanwhile is looked at again.
    const version = inspectDataDir(absolute);
    if (version === "new") writeFileDurably(path.join(absolute, FORMAT_FILE), formatText());
    dbs = openDatabases(absolute, { readOnly: false });
    try {
      let current = version === "new" ? FORMAT_VERSION : version;
      checkInnerFormat(absolute, dbs, current);
      while (current < FORMAT_VERSION) {
        const migrate = MIGRATIONS[current];
        if (migrate === undefined) throw new DataDirError(`data directory ${absolute}: no migration from format version ${current}`);
        migrate(dbs.env);
        current++;
        dbs.meta.putSync("format", { format: FORMAT_NAME, version: current });
        writeFileDurably(path.join(absolute, FORMAT_FILE), formatText());
      }
    } catch (error: unknown) {
      void dbs.env.close();
      throw error;
    }
  } catch (error: unknown) {
    lock.release();
    if (error instanceof DataDirError) throw error;
    throw new DataDirError(`data directory ${absolute} cannot be opened: ${message(error)}`, { cause: error });
  }
  return lmdbPersistence(absolute, dbs, lock);
}

function lmdbPersistence(dir: string, dbs: Databases, lock: DataDirLock): Persistence {
  let closing: Promise<void> | undefined;
  return {
    durable: true,
    location: dir,

    load(): PersistedData {
      const indexes = [...dbs.indexes.getRange()].map(({ value }) => value);
      const meta = new Map<string, unknown>();
      for (const { key, value } of dbs.meta.getRange()) if (key.startsWith("m:")) meta.set(key.slice(2), value);
      return {
        indexes,
        meta,
        *items() {
          // Each value read is a copy of its own, so the vector can stay a view of it.
          for (const { key, value } of dbs.items.getRange()) yield [key[0], decodeItemRecord(key[1], value, { view: true })];
        },
        *interactions() {
          for (const { key, value } of dbs.interactions.getRange()) {
            const [indexName, userId, itemId, kind, occurredAtMs] = key;
            yield [indexName, { userId, itemId, kind: kind as InteractionKind, weight: value, occurredAtMs }];
          }
        },
      };
    },

    commit(write: (batch: PersistenceBatch) => void): Promise<void> {
      if (closing !== undefined) return Promise.reject(new Error("the data directory is closed"));
      // The delta is recorded now (memory may change before the transaction runs), applied in it.
      const ops: (() => unknown)[] = [];
      write({
        putIndex: (record) => ops.push(() => dbs.indexes.put(record.spec.name, record)),
        deleteIndex: (name) => ops.push(() => dbs.indexes.remove(name)),
        putItems(indexName, items) {
          for (const item of items) {
            const bytes = encodeItemRecord(item);
            ops.push(() => dbs.items.put([indexName, item.id], bytes));
          }
        },
        deleteItems(indexName, ids) {
          for (const id of ids) ops.push(() => dbs.items.remove([indexName, id]));
        },
        putInteractions(indexName, interactions) {
          for (const i of interactions) ops.push(() => dbs.interactions.put(interactionKey(indexName, i), i.weight));
        },
        deleteInteractions(indexName, interactions) {
          for (const i of interactions) ops.push(() => dbs.interactions.remove(interactionKey(indexName, i)));
        },
        putMeta(key, value) {
          ops.push(() => (value === undefined ? dbs.meta.remove(`m:${key}`) : dbs.meta.put(`m:${key}`, value)));
        },
      });
      if (ops.length === 0) return Promise.resolve();
      // A failed commit (disk full, I/O error) rejects the transaction, which the write path reports
      // (the store stops serving), and also every put and remove of it, and the commitError promise
      // that lmdb hangs on those errors: left unhandled, those rejections would end the process.
      return dbs.env
        .transaction<void>(() => {
          for (const op of ops) ignoreRejection(op());
        })
        .catch((error: unknown) => {
          ignoreRejection((error as { commitError?: unknown }).commitError);
          throw error;
        });
    },

    close(): Promise<void> {
      closing ??= (async () => {
        try {
          await dbs.env.close();
        } finally {
          lock.release();
        }
      })();
      return closing;
    },
  };
}

function interactionKey(indexName: string, i: Interaction): InteractionKey {
  return [indexName, i.userId, i.itemId, i.kind, i.occurredAtMs];
}

/** Handles `value`'s rejection, when it is a promise, as seen elsewhere. */
function ignoreRejection(value: unknown): void {
  if (value instanceof Promise) value.catch(() => undefined);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Copies a consistent snapshot of data directory `dataDir` (live or not: LMDB lets this process read it
 * while its server writes) into `to`, which must be missing or empty; the copy is a data directory of
 * its own (compacted), which `restoreDataDir` puts back, or a server can open as it is.
 * @returns the bytes of the copied database
 * @throws DataDirError
 */
export async function backupDataDir(dataDir: string, to: string): Promise<number> {
  const from = path.resolve(dataDir);
  const target = path.resolve(to);
  const state = inspectDataDir(from);
  if (state === "new") throw new DataDirError(`data directory ${from} holds no vecrec data to back up`);
  requireEmpty(target, "backup target");
  const dbs = openDatabases(from, { readOnly: true });
  try {
    checkInnerFormat(from, dbs, state);
    fs.mkdirSync(target, { recursive: true });
    // mdb_env_copy2 with compaction: one read transaction, so the copy is one committed state.
    await dbs.env.backup(path.join(target, DATA_FILE), true);
  } finally {
    await dbs.env.close();
  }
  const dataFd = fs.openSync(path.join(target, DATA_FILE), "r");
  try {
    fs.fsyncSync(dataFd);
  } finally {
    fs.closeSync(dataFd);
  }
  writeFileDurably(path.join(target, FORMAT_FILE), `${JSON.stringify({ format: FORMAT_NAME, version: state })}\n`);
  return fs.statSync(path.join(target, DATA_FILE)).size;
}

/**
 * Puts the backup `from` (made by backupDataDir) into data directory `dataDir`, which must be missing or
 * empty (nothing is overwritten; stop the server and move its directory away first).
 * @throws DataDirError
 */
export async function restoreDataDir(from: string, dataDir: string): Promise<void> {
  const source = path.resolve(from);
  const target = path.resolve(dataDir);
  const state = inspectDataDir(source);
  if (state === "new") throw new DataDirError(`backup ${source} is empty or missing`);
  // Check that the backup opens before copying it.
  const dbs = openDatabases(source, { readOnly: true });
  try {
    checkInnerFormat(source, dbs, state);
  } finally {
    await dbs.env.close();
  }
  requireEmpty(target, "restore target (--data-dir)");
  fs.mkdirSync(target, { recursive: true });
  const temp = path.join(target, `${DATA_FILE}.restoring`);
  fs.copyFileSync(path.join(source, DATA_FILE), temp, fs.constants.COPYFILE_EXCL);
  const fd = fs.openSync(temp, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, path.join(target, DATA_FILE));
  // The format file last: until it is there, the directory is not taken for a complete one.
  writeFileDurably(path.join(target, FORMAT_FILE), `${JSON.stringify({ format: FORMAT_NAME, version: state })}\n`);
}

function requireEmpty(dir: string, what: string): void {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dir);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new DataDirError(`${what} ${dir} cannot be read: ${message(error)}`, { cause: error });
  }
  if (entries.length > 0) throw new DataDirError(`${what} ${dir} is not empty; nothing was overwritten`);
}
