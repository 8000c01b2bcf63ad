/**
 * The shape of a stand-in command, and what several families share. Each family file
 * (connection.ts, keys.ts, ...) exports a list of `Command`s; ../commands.ts looks names up in them.
 *
 * To add a command: add an entry `{ name, arity, run }` to its family's list (Redis's arity, from
 * `COMMAND INFO <name>` on a real server). The dispatcher checks the arity, queues the command inside
 * MULTI, and turns a thrown WrongTypeError or RedisReplyError into its error reply.
 */
import type { Connection, StandInState } from "../commands.js";
import type { Keyspace } from "../keyspace.js";
import { type Reply, err } from "../resp.js";

/** One call of a command: the server state, the connection, and the arguments. */
export interface Call {
  readonly state: StandInState;
  /** state.keyspace. */
  readonly ks: Keyspace;
  readonly conn: Connection;
  /** The connection's protocol when the command started (HELLO changes conn.proto). */
  readonly proto: 2 | 3;
  /** The command name, upper-cased (one handler may serve several names). */
  readonly cmd: string;
  /** The whole command: argv[0] is its name. */
  readonly argv: Buffer[];
  /** argv[i] as UTF-8, "" when absent. */
  readonly s: (i: number) => string;
  /** Runs another command as `execute` does, through the cluster interceptor if any (EXEC's queue). */
  readonly execute: (argv: Buffer[]) => Reply;
}

export interface Command {
  /** Upper case, as looked up (`FT.SEARCH`, `HSET`). */
  readonly name: string;
  /** Argument count including the name: exactly `arity` when positive, at least `-arity` when negative. */
  readonly arity: number;
  /** The reply; synchronous. May throw WrongTypeError or RedisReplyError for their error replies. */
  readonly run: (call: Call) => Reply;
}

export const wrongArgs = (name: string): Reply => err(`ERR wrong number of arguments for '${name}' command`);

/** A float argument as Redis parses it (`inf`, `+inf`, `-inf` included), or undefined. */
export function parseScore(text: string): number | undefined {
  const t = text.toLowerCase();
  if (t === "inf" || t === "+inf") return Infinity;
  if (t === "-inf") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  return Number(text);
}

/** HDEL / SREM: removes argv[2..] from the hash fields or set members at argv[1]; returns how many existed. */
export function removeMembers({ ks, argv, s }: Call, members: { delete(member: string): boolean } | undefined): number {
  if (!members) return 0;
  let n = 0;
  for (let i = 2; i < argv.length; i++) if (members.delete(s(i))) n += 1;
  ks.dropIfEmpty(s(1));
  if (n > 0) ks.changed(s(1));
  return n;
}
