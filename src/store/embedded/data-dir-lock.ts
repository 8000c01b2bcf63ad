/**
 * One server per data directory: an exclusive lock file (`vecrec.lock`) holding the owner's pid, and a
 * Unix socket beside it (`vecrec.lock.sock`) that the owner listens on while it holds the lock.
 *
 * LMDB itself lets several processes open one environment (its own lock file coordinates readers and
 * the writer), so two vecrec servers on one directory would both load it and then each write its own
 * view: the lock refuses the second. Why a pid file created with O_EXCL rather than a dependency:
 * Node has no flock(2), and `proper-lockfile` decides staleness from an mtime it refreshes on a timer,
 * so after a crash a restart is refused until that stale time has passed and a busy event loop can
 * lose the lock; a pid file is free once its owner is gone, which we can check at once.
 *
 * Whether the owner of a lock file is alive: first by connecting to its socket, which the kernel
 * answers for a live owner whatever its pid namespace (two containers sharing the directory's volume,
 * both node as pid 1, see each other's socket but not each other's pids) and refuses once the owner
 * is gone (the socket file stays, unlistened). Where there is no socket (a lock taken by a vecrec
 * before this, a path too long for a socket, an owner between taking the lock file and listening:
 * a lock file younger than STARTING_MS without a socket is taken as live), by the pid: the file
 * records it and, on Linux, that process's start time (field 22 of /proc/<pid>/stat), so a pid reused
 * by another process after a crash is not taken for the owner. A directory shared between hosts
 * (a network filesystem) is not supported: LMDB itself is not safe there.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { FailedPreconditionError } from "../../domain/errors.js";

export const LOCK_FILE = "vecrec.lock";
/** The socket the owner listens on while it holds the lock (connected to, to see whether it lives). */
export const LOCK_SOCKET = "vecrec.lock.sock";
/** A lock file this young without a socket may be an owner about to listen: taken as live. */
const STARTING_MS = 10_000;

interface LockOwner {
  readonly pid: number;
  /** /proc/<pid>/stat start time (clock ticks since boot), when the system has it. */
  readonly startTime?: string;
}

/** Lock files this process holds (its own pid in a lock file is stale only when not one of these). */
const heldHere = new Set<string>();

export interface DataDirLock {
  release(): void;
}

/**
 * Takes the lock of `dir` (which must exist).
 * @throws FailedPreconditionError when a live process holds it
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const file = path.join(dir, LOCK_FILE);
  const socketPath = path.join(dir, LOCK_SOCKET);
  const mine: LockOwner = { pid: process.pid, ...startTimeField(process.pid) };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
      try {
        fs.writeSync(fd, JSON.stringify(mine));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      heldHere.add(file);
      const server = await listenOn(socketPath);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          server?.close();
          // Only our own lock: never remove one another process took over.
          if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === JSON.stringify(mine)) {
            if (server !== undefined) fs.rmSync(socketPath, { force: true });
            fs.rmSync(file, { force: true });
          }
        },
      };
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let text: string;
    let age: number;
    try {
      text = fs.readFileSync(file, "utf8");
      age = Date.now() - fs.statSync(file).mtimeMs;
    } catch {
      continue; // released meanwhile: try again
    }
    const owner = parseOwner(text);
    if (heldHere.has(file) || (await ownerLives(owner, socketPath, age))) {
      throw new FailedPreconditionError(
        `data directory ${dir} is in use by another vecrec process (${owner === undefined ? "its lock file is being written" : `pid ${owner.pid}`}, ` +
          `lock file ${file}): stop it first, or use another --data-dir`,
      );
    }
    // Stale (its owner is gone, or the file is unreadable): remove it if it is still the one we read.
    try {
      if (fs.readFileSync(file, "utf8") === text) fs.rmSync(file);
    } catch {
      // gone already
    }
  }
  throw new FailedPreconditionError(`data directory ${dir}: could not take the lock file ${file} (other processes keep taking it)`);
}

/**
 * Listens on the lock's socket (the lock file is held: a socket file left there is a dead owner's);
 * undefined where it cannot (a path too long for a Unix socket, a filesystem without them): the pid
 * alone then tells.
 */
async function listenOn(socketPath: string): Promise<net.Server | undefined> {
  fs.rmSync(socketPath, { force: true });
  const server = net.createServer((socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch {
    return undefined;
  }
  server.unref();
  return server;
}

/** Whether the owner of a lock file lives (see the header); `age`: the lock file's, ms. */
async function ownerLives(owner: LockOwner | undefined, socketPath: string, age: number): Promise<boolean> {
  const answer = await probeSocket(socketPath);
  if (answer === "answers") return true;
  if (answer === "refused") return false;
  if (age < STARTING_MS) return true;
  return owner !== undefined && isAlive(owner);
}

/** Connects to the lock's socket: answered (the owner lives), refused (a dead owner's), or none there. */
function probeSocket(socketPath: string): Promise<"answers" | "refused" | "absent"> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once("connect", () => {
      socket.destroy();
      resolve("answers");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(error.code === "ECONNREFUSED" ? "refused" : "absent");
    });
  });
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    return typeof value.pid === "number" && Number.isInteger(value.pid) && value.pid > 0
      ? { pid: value.pid, ...(typeof value.startTime === "string" ? { startTime: value.startTime } : {}) }
      : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  // Our own pid in a stale file (a restarted container gets the same pid): not another owner.
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error: unknown) {
    // EPERM: a live process of another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = startTimeField(owner.pid).startTime;
  return owner.startTime === undefined || now === undefined || now === owner.startTime;
}

/** The start time of `pid` from /proc (Linux), as { startTime } or {} where there is none. */
function startTimeField(pid: number): { startTime?: string } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const startTime = fields[19];
    return startTime === undefined ? {} : { startTime };
  } catch {
    return {};
  }
}
