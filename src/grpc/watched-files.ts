/**
 * Files re-read when they change: secrets (certificates, keys, the tokens file) are rotated by
 * replacing the files (a Kubernetes secret volume swaps a symlink, cert-manager or an operator
 * rewrites them), and vecrec picks the new ones up without a restart.
 *
 * Polling, not fs.watch: a stat of each path every `pollMs` sees a file replaced by rename or
 * behind a swapped symlink, which inotify watches of the old inode miss. A change is a different
 * (mtime, size, inode) of any of the files; `reload()` (SIGHUP) re-reads them whatever the stats say.
 */
import { statSync } from "node:fs";

/** How often the files are looked at by default. */
export const DEFAULT_FILE_POLL_MS = 1_000;

export interface WatchedFiles {
  /** Calls onChange now, whether or not the files changed (SIGHUP). */
  reload(): void;
  /** Stops watching. Idempotent. */
  close(): void;
}

function fingerprint(paths: readonly string[]): string {
  return paths
    .map((path) => {
      try {
        const stat = statSync(path);
        return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
      } catch {
        return "missing";
      }
    })
    .join("|");
}

/**
 * Calls `onChange` each time one of `paths` changes (looked at every `pollMs`), and on reload().
 * `onChange` reads and validates the files itself and keeps what it had when they are bad.
 */
export function watchFiles(paths: readonly string[], onChange: () => void, pollMs = DEFAULT_FILE_POLL_MS): WatchedFiles {
  let last = fingerprint(paths);
  const timer = setInterval(() => {
    const now = fingerprint(paths);
    if (now === last) return;
    last = now;
    onChange();
  }, pollMs);
  timer.unref();
  return {
    reload() {
      last = fingerprint(paths);
      onChange();
    },
    close() {
      clearInterval(timer);
    },
  };
}
