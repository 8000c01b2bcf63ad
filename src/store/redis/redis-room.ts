/**
 * What every room of the Redis store works with: the connection, the key layout and the index
 * definitions. The rooms (index-operations, items, interactions, interest-tags, search) extend it.
 */
import type { RedisArg, RedisCommand, RedisConnection } from "./connection.js";
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
   * fails with that NOT_FOUND.
   */
  protected async checkedAfter(index: string, keys: readonly RedisArg[], writing: Promise<Written>, signal?: AbortSignal): Promise<Reply[]> {
    const early = this.connection.mode === "standalone" ? this.definitions.confirmWritten(index, signal) : undefined;
    early?.catch(() => undefined);
    let written: Written | undefined;
    let failure: Error | undefined;
    try {
      written = await writing;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    const check = early !== undefined && written?.resent !== true ? early : this.definitions.confirmWritten(index, signal);
    const gone = await check.then(
      () => undefined,
      (reason: unknown) => (reason instanceof Error ? reason : new Error(String(reason))),
    );
    if (gone instanceof IndexDroppedError || gone instanceof IndexVanishedError) {
      await this.connection.pipeline(keys.map((key) => ({ key, command: ["DEL", key] }))).catch(() => undefined);
      throw gone;
    }
    if (failure !== undefined || written === undefined) throw failure ?? new Error("the write settled without replies");
    if (gone !== undefined) throw gone;
    return written.replies;
  }
}
