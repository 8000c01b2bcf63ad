/**
 * Faults a test can put the stand-in in, as a real Redis shows them to its clients:
 * - frozen (SIGSTOP): connections stay open, nothing is read or answered until thawed, then every
 *   command sent meanwhile runs in order;
 * - restarted: every connection is dropped; optionally the data set is gone (restart on an empty data
 *   directory, failover to an empty replica), and for `loadingMs` the server answers
 *   `LOADING Redis is loading the dataset in memory` to every command but the few Redis serves while
 *   loading (the handshake: HELLO, AUTH, SELECT, CLIENT; INFO, QUIT).
 */
import { type Reply, err } from "./resp.js";

export interface RestartOptions {
  /** Comes back without any key or index (default false: the data set survives, as with AOF). */
  readonly empty?: boolean;
  /** Answers LOADING for this long after the restart (default 0). */
  readonly loadingMs?: number;
}

/** What Redis serves while loading (commands flagged `loading`, the subset the stand-in knows). */
const OK_WHILE_LOADING = new Set(["HELLO", "AUTH", "SELECT", "CLIENT", "INFO", "QUIT", "COMMAND"]);

export const LOADING_ERROR = "LOADING Redis is loading the dataset in memory";

export class StandInFaults {
  #frozen = false;
  #held: (() => void)[] = [];
  #loadingUntil = 0;

  get frozen(): boolean {
    return this.#frozen;
  }

  freeze(): void {
    this.#frozen = true;
  }

  /** Resumes: runs what arrived while frozen, in order. */
  thaw(): void {
    this.#frozen = false;
    const held = this.#held;
    this.#held = [];
    for (const work of held) work();
  }

  /** True (and `work` kept for thaw) while frozen; false when `work` should run now. */
  hold(work: () => void): boolean {
    if (!this.#frozen) return false;
    this.#held.push(work);
    return true;
  }

  /** Drops what a frozen server had not read yet (its connections are gone). */
  dropHeld(): void {
    this.#held = [];
  }

  startLoading(ms: number): void {
    this.#loadingUntil = Date.now() + ms;
  }

  /** The LOADING error for `cmd` (upper case) while loading, undefined when it runs. */
  loadingReply(cmd: string): Reply | undefined {
    if (this.#loadingUntil <= Date.now() || OK_WHILE_LOADING.has(cmd)) return undefined;
    return err(LOADING_ERROR);
  }
}
