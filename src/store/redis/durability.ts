/**
 * Durable acknowledgements (`--redis-durability`, a write request's `durability`): after a write's
 * commands, `WAITAOF <numlocal> <numreplicas> <timeout>` on each primary that received them, sent on
 * the same connection as the writes (WAITAOF waits for the writes of the connection it is sent on;
 * node-redis sends a connection's commands in order). The call is acknowledged only when every
 * primary answers that the writes are fsynced as asked.
 *
 * What a failure leaves: the writes were applied (in Redis's memory) either way; only their
 * durability is unconfirmed. AOF off: FAILED_PRECONDITION. Fewer fsyncs than asked within the
 * timeout (a slow disk, no replica with AOF): UNAVAILABLE. Repeating the call is safe (writes are
 * idempotent).
 */
import { ErrorReply } from "redis";
import type { Durability } from "../../domain/durability.js";
import { FailedPreconditionError, UnavailableError } from "../../domain/errors.js";
import type { KeyedCommand, RedisArg, RedisCommand, RedisConnection, Route } from "./connection.js";
import { replyArray, replyNumber, type Reply } from "./reply-parsers.js";

/** The commands whose first argument is a key they change (those the rooms write with). */
const WRITES = new Set(["HSET", "HDEL", "DEL", "UNLINK", "ZADD", "ZREM", "SADD", "SREM", "SET", "EVALSHA", "EVAL", "RESTORE"]);

/**
 * A connection that remembers the keys written through it (send, transaction), for one call: the
 * rooms of a durable write run on it, and the WAITAOF then goes to the primaries of those keys.
 */
export class WriteRecorder implements RedisConnection {
  readonly written = new Set<RedisArg>();
  constructor(private readonly inner: RedisConnection) {}

  get mode(): "standalone" | "cluster" {
    return this.inner.mode;
  }

  isAvailable(): boolean {
    return this.inner.isAvailable();
  }

  onAvailabilityChange(listener: (available: boolean) => void): () => void {
    return this.inner.onAvailabilityChange(listener);
  }

  send(command: RedisCommand, route?: Route): Promise<Reply> {
    const name = String(command[0] ?? "").toUpperCase();
    if (WRITES.has(name) && route?.key !== undefined) this.written.add(route.key);
    return this.inner.send(command, route);
  }

  pipeline(commands: readonly KeyedCommand[], signal?: AbortSignal): Promise<Reply[]> {
    for (const { key, command } of commands) {
      if (WRITES.has(String(command[0] ?? "").toUpperCase())) this.written.add(key);
    }
    return this.inner.pipeline(commands, signal);
  }

  transaction(key: RedisArg, commands: readonly RedisCommand[], signal?: AbortSignal): Promise<Reply[]> {
    if (commands.length > 0) this.written.add(key);
    return this.inner.transaction(key, commands, signal);
  }

  sendToNodesOf(keys: readonly RedisArg[], command: RedisCommand, signal?: AbortSignal): Promise<Reply[]> {
    return this.inner.sendToNodesOf(keys, command, signal);
  }

  primaries(): Promise<((command: RedisCommand, signal?: AbortSignal) => Promise<Reply>)[]> {
    return this.inner.primaries();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const AOF_OFF = /appendonly is disabled/i;

/**
 * Waits until the writes to `keys` are fsynced as `durability` asks (nothing for `none` or no keys).
 * @throws FailedPreconditionError when Redis has AOF off; UnavailableError when fewer fsyncs than
 *   asked were confirmed within `timeoutMs`
 */
export async function confirmDurable(
  connection: RedisConnection,
  keys: Iterable<RedisArg>,
  durability: Durability,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const written = [...keys];
  if (durability === "none" || written.length === 0) return;
  const replicas = durability === "replicas" ? 1 : 0;
  let replies: Reply[];
  try {
    replies = await connection.sendToNodesOf(written, ["WAITAOF", "1", String(replicas), String(timeoutMs)], signal);
  } catch (error) {
    if (error instanceof ErrorReply && AOF_OFF.test(error.message)) {
      throw new FailedPreconditionError(
        `durability ${durability.toUpperCase()} needs Redis's append-only file, but Redis has AOF off (appendonly no; ` +
          `"${error.message}"): the write was applied but cannot be confirmed durable. Set appendonly yes on Redis, ` +
          `or send durability NONE (server default: --redis-durability none)`,
        { cause: error },
      );
    }
    throw error;
  }
  for (const reply of replies) {
    const [local, onReplicas] = replyArray(reply).map(replyNumber);
    if ((local ?? 0) < 1 || (onReplicas ?? 0) < replicas) {
      throw new UnavailableError(
        `the write was applied but not confirmed durable: WAITAOF confirmed ${local ?? 0} local and ${onReplicas ?? 0} replica ` +
          `fsyncs of the 1 and ${replicas} asked within ${timeoutMs} ms (durability ${durability.toUpperCase()}); ` +
          `repeating the call is safe`,
      );
    }
  }
}
