/**
 * Command dispatch for the stand-in: looks the command up in the family tables under commands/
 * (connection, server, keys, strings, hashes, sorted sets, sets, scripts, transactions, Query Engine),
 * checks its arity, queues it inside MULTI, and runs it. Every handler is synchronous. Also the
 * per-connection and server-wide state the handlers share.
 */
import type { Call, Command } from "./commands/command.js";
import { wrongArgs } from "./commands/command.js";
import { CONNECTION_COMMANDS } from "./commands/connection.js";
import { HASH_COMMANDS } from "./commands/hashes.js";
import { KEY_COMMANDS } from "./commands/keys.js";
import { QUERY_ENGINE_COMMANDS } from "./commands/query-engine.js";
import { SCRIPT_COMMANDS } from "./commands/scripts.js";
import { SERVER_COMMANDS } from "./commands/server.js";
import { SET_COMMANDS } from "./commands/sets.js";
import { SORTED_SET_COMMANDS } from "./commands/sorted-sets.js";
import { STRING_COMMANDS } from "./commands/strings.js";
import { TRANSACTION_COMMANDS } from "./commands/transactions.js";
import { Keyspace, WrongTypeError } from "./keyspace.js";
import { type Reply, err, simple } from "./resp.js";
import { RedisReplyError, type SearchIndex } from "./search-index.js";
import { ScriptCache } from "./scripts.js";

/** Per-connection state. */
export interface Connection {
  proto: 2 | 3;
  readonly id: number;
  name: string | undefined;
  multi: { queue: Buffer[][]; dirty: boolean } | undefined;
  /**
   * WATCH state: the watched keys, and whether one of them was changed since (by any connection),
   * which makes the next EXEC abort. Undefined when nothing is watched.
   */
  watch: { readonly keys: Set<string>; dirty: boolean } | undefined;
  /** Set by QUIT: the server closes the socket after writing the reply. */
  closing: boolean;
  /**
   * The database chosen with SELECT. The stand-in keeps one keyspace for all of them; it tracks the
   * number only so that FT.CREATE can refuse a database other than 0, as RediSearch does.
   */
  db?: number;
}

/** The server-wide state shared by every connection. */
export class StandInState {
  readonly keyspace = new Keyspace();
  readonly indexes = new Map<string, SearchIndex>();
  readonly aliases = new Map<string, string>();
  /** EVAL/EVALSHA/SCRIPT: the scripts vecrec sends, run natively (scripts.ts). */
  readonly scripts = new ScriptCache();
  /** The connections watching each key (WATCH), like Redis's per-db watched_keys dictionary. */
  private readonly watchers = new Map<string, Set<Connection>>();
  /**
   * Background mode: FT.CREATE and FT.ALTER leave existing keys to a scan that indexes this many keys
   * before each later command (see advanceScans). Undefined: they index every key at once.
   */
  scanKeysPerCommand: number | undefined;
  /**
   * `appendonly` (CONFIG SET appendonly yes|no, or startRedisStandIn's `appendOnly`): with it off, as
   * Redis's default, WAITAOF with numlocal > 0 is refused with Redis's error. There is no file: with it
   * on, WAITAOF confirms the local fsync at once.
   */
  appendOnly = false;
  /**
   * Set by a cluster node (cluster.ts): sees every command `execute` runs (also those EXEC runs) before
   * the standalone dispatch, which `next` performs. Undefined: plain standalone server.
   */
  interceptor: ((conn: Connection, argv: Buffer[], next: () => Reply) => Reply) | undefined;
  /**
   * Commands the connections' user may not run (upper case), refused with Redis's NOPERM reply as an ACL
   * such as `+@all -@dangerous` refuses RESTORE.
   */
  deniedCommands: ReadonlySet<string> = new Set();

  /** Indexes the existing keys of `idx`: at once, or through a background scan in background mode. */
  scanExisting(idx: SearchIndex): void {
    if (this.scanKeysPerCommand === undefined) {
      for (const key of this.keyspace.keys()) idx.reindex(this.keyspace, key);
    } else {
      idx.startScan(this.keyspace.keys());
    }
  }

  /** Moves every background scan on by scanKeysPerCommand keys (called before each command). */
  advanceScans(): void {
    if (this.scanKeysPerCommand === undefined) return;
    for (const idx of this.indexes.values()) idx.advanceScan(this.keyspace, this.scanKeysPerCommand);
  }

  constructor() {
    this.keyspace.onKeyChanged((key) => {
      this.touchWatchers(key);
      for (const idx of this.indexes.values()) idx.reindex(this.keyspace, key);
    });
  }

  /** WATCH: remembers `keys` for `conn`; any later change to one of them makes its EXEC abort. */
  watch(conn: Connection, keys: readonly string[]): void {
    conn.watch ??= { keys: new Set(), dirty: false };
    for (const key of keys) {
      conn.watch.keys.add(key);
      let set = this.watchers.get(key);
      if (set === undefined) this.watchers.set(key, (set = new Set()));
      set.add(conn);
    }
  }

  /** Forgets what `conn` watches, and whether it changed (UNWATCH, EXEC, DISCARD, a closed connection). */
  unwatch(conn: Connection): void {
    if (conn.watch === undefined) return;
    for (const key of conn.watch.keys) {
      const set = this.watchers.get(key);
      set?.delete(conn);
      if (set?.size === 0) this.watchers.delete(key);
    }
    conn.watch = undefined;
  }

  private touchWatchers(key: string): void {
    for (const conn of this.watchers.get(key) ?? []) if (conn.watch !== undefined) conn.watch.dirty = true;
  }

  resolveIndex(name: string): SearchIndex | undefined {
    return this.indexes.get(name) ?? this.indexes.get(this.aliases.get(name) ?? "");
  }

  flushAll(): void {
    // Like Redis, a flush touches the watched keys that existed (a watched key that was absent stays
    // absent: no change).
    for (const key of this.keyspace.keys()) this.touchWatchers(key);
    this.keyspace.clear();
    this.indexes.clear();
    this.aliases.clear();
  }
}

/** Every command the stand-in implements, by upper-case name. */
const COMMANDS: ReadonlyMap<string, Command> = (() => {
  const table = new Map<string, Command>();
  for (const family of [
    CONNECTION_COMMANDS,
    SERVER_COMMANDS,
    KEY_COMMANDS,
    STRING_COMMANDS,
    HASH_COMMANDS,
    SORTED_SET_COMMANDS,
    SET_COMMANDS,
    SCRIPT_COMMANDS,
    TRANSACTION_COMMANDS,
    QUERY_ENGINE_COMMANDS,
  ]) {
    for (const command of family) {
      if (table.has(command.name)) throw new Error(`stand-in command ${command.name} is defined twice`);
      table.set(command.name, command);
    }
  }
  return table;
})();

/** Commands that run at once inside MULTI instead of being queued. */
const TRANSACTION_CONTROL = new Set(["EXEC", "DISCARD", "MULTI", "WATCH", "QUIT"]);

/** The name Redis puts in its arity error (core commands lower-case, module commands as registered). */
function arityName(cmd: string): string {
  if (cmd === "FT.CREATE") return "_FT.CREATE";
  return cmd.startsWith("FT.") ? cmd : cmd.toLowerCase();
}

function arityOk(arity: number, argc: number): boolean {
  return arity < 0 ? argc >= -arity : argc === arity;
}

/** Executes one command for `conn` (through the state's interceptor, if any). Never throws. */
export function execute(state: StandInState, conn: Connection, argv: Buffer[]): Reply {
  if (state.deniedCommands.size > 0) {
    const cmd = (argv[0]?.toString("utf8") ?? "").toUpperCase();
    if (state.deniedCommands.has(cmd)) {
      // Redis checks the ACL after the arity, before queueing inside MULTI (the arity check left out here).
      if (conn.multi) conn.multi.dirty = true;
      return err(`NOPERM User default has no permissions to run the '${cmd.toLowerCase()}' command`);
    }
  }
  const intercept = state.interceptor;
  if (intercept === undefined) return executeLocal(state, conn, argv);
  return intercept(conn, argv, () => executeLocal(state, conn, argv));
}

/** Executes one command for `conn` as a standalone server does, bypassing any interceptor. */
export function executeLocal(state: StandInState, conn: Connection, argv: Buffer[]): Reply {
  const cmd = (argv[0]?.toString("utf8") ?? "").toUpperCase();
  const command = COMMANDS.get(cmd);
  if (command !== undefined && !arityOk(command.arity, argv.length)) {
    if (conn.multi) conn.multi.dirty = true;
    return wrongArgs(arityName(cmd));
  }
  if (conn.multi && !TRANSACTION_CONTROL.has(cmd)) {
    if (command === undefined) {
      conn.multi.dirty = true;
      return unknownCommand(argv);
    }
    conn.multi.queue.push(argv);
    return simple("QUEUED");
  }
  if (command === undefined) return unknownCommand(argv);
  const call: Call = {
    state,
    ks: state.keyspace,
    conn,
    proto: conn.proto,
    cmd,
    argv,
    s: (i) => argv[i]?.toString("utf8") ?? "",
    execute: (queued) => execute(state, conn, queued),
  };
  try {
    return command.run(call);
  } catch (e) {
    if (e instanceof WrongTypeError || e instanceof RedisReplyError) return err(e.message);
    return err(`ERR stand-in failure: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function unknownCommand(argv: Buffer[]): Reply {
  const name = argv[0]?.toString("utf8") ?? "";
  const rest = argv
    .slice(1)
    .map((a) => `'${a.toString("utf8")}' `)
    .join("");
  return err(`ERR unknown command '${name}', with args beginning with: ${rest}`);
}
