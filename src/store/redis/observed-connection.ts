/**
 * A RedisConnection that tells a StoreObserver about every round trip (its command name, when it ends,
 * whether it failed), in front of the real one: one place covers single commands, transactions, the
 * per-node commands of durable writes and SCANs on every primary, on standalone servers and clusters.
 */
import type { StoreObserver } from "../store-observer.js";
import type { KeyedCommand, RedisArg, RedisCommand, RedisConnection } from "./connection.js";
import type { Reply } from "./reply-parsers.js";

/** Command names as a bounded label: upper-cased letters, digits, dots and underscores; else OTHER. */
export function commandName(command: RedisCommand): string {
  const first = command[0];
  const name = (Buffer.isBuffer(first) ? first.toString("latin1") : (first ?? "")).toUpperCase();
  return /^[A-Z][A-Z0-9._]{0,31}$/.test(name) ? name : "OTHER";
}

function observed<T>(observer: StoreObserver, name: string, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  const end = observer.redisCommand(name, signal);
  let pending: Promise<T>;
  try {
    pending = run();
  } catch (error) {
    end(error);
    throw error;
  }
  return pending.then(
    (reply) => {
      end();
      return reply;
    },
    (error: unknown) => {
      end(error);
      throw error;
    },
  );
}

export function observeConnection(connection: RedisConnection, observer: StoreObserver): RedisConnection {
  return {
    get mode() {
      return connection.mode;
    },
    send: (command, route) => observed(observer, commandName(command), route?.signal, () => connection.send(command, route)),
    pipeline: (commands, signal) =>
      observed(observer, commands.length === 0 ? "OTHER" : commandName((commands[0] as KeyedCommand).command), signal, () =>
        connection.pipeline(commands, signal),
      ),
    transaction: (key: RedisArg, commands: readonly RedisCommand[], signal?: AbortSignal) =>
      observed(observer, "MULTI", signal, () => connection.transaction(key, commands, signal)),
    sendToNodesOf: (keys, command, signal) => observed(observer, commandName(command), signal, () => connection.sendToNodesOf(keys, command, signal)),
    primaries: async () =>
      (await connection.primaries()).map(
        (send) =>
          (command: RedisCommand, signal?: AbortSignal): Promise<Reply> =>
            observed(observer, commandName(command), signal, () => send(command, signal)),
      ),
    isAvailable: () => connection.isAvailable(),
    onAvailabilityChange: (listener) => connection.onAvailabilityChange(listener),
    close: () => connection.close(),
  };
}
