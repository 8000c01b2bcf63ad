/**
 * What every room of the Redis store works with: the connection, the key layout and the index
 * definitions. The rooms (index-operations, items, interactions, interest-tags, search) extend it.
 */
import type { RedisCommand, RedisConnection } from "./connection.js";
import type { IndexDefinitions } from "./index-definitions.js";
import type { RedisKeys } from "./redis-keys.js";
import type { Reply } from "./reply-parsers.js";

export interface StoreContext {
  readonly connection: RedisConnection;
  readonly keys: RedisKeys;
  readonly definitions: IndexDefinitions;
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
}
