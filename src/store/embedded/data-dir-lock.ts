/**
 * One server per data directory: an exclusive lock file (`vecrec.lock`) holding the owner's pid.
 *
 * LMDB itself lets several processes open one environment (its own lock file coordinates readers and
 * the writer), so two vecrec servers on one directory would both load it and then each write its own
 * view: the lock refuses the second. Why a pid file created with O_EXCL rather than a dependency:
 * Node has no flock(2), and `proper-lockfile` decides staleness from an mtime it refreshes on a timer,
 * so after a crash a restart is refused until that stale time has passed and a busy event loop can
 * lose the lock; a pid file is free once its owner is gone, which we can check at once. Stale
 * detection: the file records the pid and, on Linux, that process's start time (field 22 of
 * /proc/<pid>/stat), so a pid reused by another process after a crash is not taken for the owner.
 */
import fs from "node:fs";
import path from "node:path";
import { FailedPreconditionError } from "../../domain/errors.js";

export const LOCK_FILE = "vecrec.lock";

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
export function lockDataDir(dir: string): DataDirLock {
  const file = path.join(dir, LOCK_FILE);
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
      let released = false;
      heldHere.add(file);
      return {
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          // Only our own lock: never remove one another process took over.
          if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === JSON.stringify(mine)) fs.rmSync(file, { force: true });
        },
      };
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue; // released meanwhile: try again
    }
    const owner = parseOwner(text);
    if (owner !== undefined && (heldHere.has(file) || isAlive(owner))) {
      throw new FailedPreconditionError(
        `data directory ${dir} is in use by another vecrec process (pid ${owner.pid}, lock file ${file}): ` +
          `stop it first, or use another --data-dir`,
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
