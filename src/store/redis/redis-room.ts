/**
 * What every room of the Redis store works with: the connection, the key layout and the index
 * definitions. The rooms (index-operations, items, interactions, interest-tags, search) extend it.
 */
import type { RedisArg, RedisCommand, RedisConnection } from "./connection.js";
import { IndexNotFoundError } from "../../domain/errors.js";
import { IndexDroppedError, IndexVanishedError, type IndexDefinitions } from "./index-definitions.js";
import type { RedisKeys } from "./redis-keys.js";
import type { Reply } from "./reply-parsers.js";

export interface StoreContext {
  readonly connection: RedisConnection;
  readonly keys: RedisKeys;
  readonly definitions: IndexDefinitions;
}

/** A write's replies, one per command, and whether some commands were sent again after its first pipeline. */
export interface Written {
  readonly replies: Reply[];
  readonly resent: boolean;
}

/** How many times, how far apart, a write whose check could not be made checks again in the background. */
const BACKGROUND_CHECKS = 5;
const BACKGROUND_CHECK_GAP_MS = 2000;

/** Whether `signal` has aborted (read afresh: a function, so that no earlier test of it narrows it). */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

export abstract class RedisRoom {
  protected readonly connection: RedisConnection;
  protected readonly keys: RedisKeys;
  protected readonly definitions: IndexDefinitions;

  constructor(context: StoreContext) {
    this.connection = context.connection;
    this.keys = context.keys;
    this.definitions = context.definitions;
  }

  /**
   * Sends a command on `key` (routed to its slot's primary on a cluster); keyless without one. Nothing
   * is sent once `signal` has aborted: a write checks its call between round trips by sending.
   */
  protected send(command: RedisCommand, key?: string, signal?: AbortSignal): Promise<Reply> {
    return this.connection.send(command, key === undefined && signal === undefined ? undefined : { key, signal });
  }

  /**
   * Waits for `writing` (a write's commands, the first pipeline of which this tick has sent) and then
   * confirms its index (index-definitions.ts, confirmWritten): on a standalone server the check is sent
   * now, behind those commands on the one connection, so Redis runs it after them (sent again only when
   * more commands followed: a refused RESTORE or an unknown script sent again); on a cluster once they
   * answered. When the index was dropped with its items meanwhile, or Redis lost every definition, the
   * `keys` written are deleted (best effort: what the call wrote belongs to no index) and the call
   * fails with that NOT_FOUND. A call whose `signal` had aborted sent nothing, and checks nothing; one
   * whose writes or check failed (cancelled or past its deadline once they went out, Redis slow, gone or
   * refusing) fails at once and is checked again in the background (#checkInBackground), so that what it
   * may have written behind a drop's sweep does not stay. (On a cluster a write the signal cut short may
   * still be on its way when that check runs: best effort.)
   */
  protected async checkedAfter(index: string, keys: readonly RedisArg[], writing: Promise<Written>, signal?: AbortSignal): Promise<Reply[]> {
    if (aborted(signal)) return (await writing).replies;
    // With the call's signal, so that the check is one of the call's round trips (traces); a check the
    // signal cut short is made again in the background, without it.
    const early = this.connection.mode === "standalone" ? this.definitions.confirmWritten(index, signal) : undefined;
    early?.catch(() => undefined);
    let written: Written;
    try {
      written = await writing;
    } catch (error) {
      this.#checkInBackground(index, keys);
      throw error;
    }
    const gone = await this.#deleteIfDropped(written.resent || early === undefined ? this.definitions.confirmWritten(index, signal) : early, keys);
    if (gone === undefined) return written.replies;
    if (!(gone instanceof IndexNotFoundError)) this.#checkInBackground(index, keys);
    throw gone;
  }

  /**
   * checkedAfter's check made again without the call's signal, in the background: up to
   * BACKGROUND_CHECKS attempts BACKGROUND_CHECK_GAP_MS apart while the check itself fails (Redis slow,
   * unreachable, refusing), each bounded by the connection's command timeout.
   */
  #checkInBackground(index: string, keys: readonly RedisArg[], attempts = BACKGROUND_CHECKS): void {
    void this.#deleteIfDropped(this.definitions.confirmWritten(index), keys)
      .then((gone) => {
        if (gone === undefined || gone instanceof IndexNotFoundError || attempts <= 1) return;
        setTimeout(() => this.#checkInBackground(index, keys, attempts - 1), BACKGROUND_CHECK_GAP_MS).unref();
      })
      .catch(() => undefined);
  }

  /**
   * Settles with undefined when `check` found the index, else with its error; when that says the index
   * was dropped with its items (or Redis lost every definition), `keys` are deleted first (best effort).
   */
  async #deleteIfDropped(check: Promise<void>, keys: readonly RedisArg[]): Promise<Error | undefined> {
    const gone = await check.then(
      () => undefined,
      (reason: unknown) => (reason instanceof Error ? reason : new Error(String(reason))),
    );
    if (gone instanceof IndexDroppedError || gone instanceof IndexVanishedError) {
      await this.connection.pipeline(keys.map((key) => ({ key, command: ["DEL", key] }))).catch(() => undefined);
    }
    return gone;
  }
}
