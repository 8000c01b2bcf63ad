/**
 * Command dispatch for the stand-in: connection commands, the keyspace subset vecrec's Redis backend
 * uses, transactions, and the Query Engine commands. Every handler is synchronous.
 */
import { ftAggregate } from "./ft-aggregate.js";
import { ftSearch } from "./ft-search.js";
import { Keyspace, WrongTypeError } from "./keyspace.js";
import {
  NULL,
  NULL_ARRAY,
  OK,
  type Reply,
  arr,
  bulk,
  dbl,
  err,
  formatPlainDouble,
  int,
  map,
  set,
  simple,
  smap,
} from "./resp.js";
import { RedisReplyError, SearchIndex, infoReply, parseCreate, parseSchema } from "./search-index.js";
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
   * Set by a cluster node (cluster.ts): sees every command `execute` runs (also those EXEC runs) before
   * the standalone dispatch, which `next` performs. Undefined: plain standalone server.
   */
  interceptor: ((conn: Connection, argv: Buffer[], next: () => Reply) => Reply) | undefined;

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

const wrongArgs = (name: string): Reply => err(`ERR wrong number of arguments for '${name}' command`);

/** Minimum argument counts (including the command name); negative = at least, positive = exactly. */
const ARITY: Record<string, number> = {
  PING: -1, ECHO: 2, SELECT: 2, QUIT: -1, FLUSHALL: -1, FLUSHDB: -1, DBSIZE: 1,
  HSET: -4, HMSET: -4, HSETNX: 4, HKEYS: 2, HVALS: 2, HGET: 3, HGETALL: 2, HMGET: -3, HDEL: -3, HEXISTS: 3, HLEN: 2, HINCRBYFLOAT: 4,
  DEL: -2, UNLINK: -2, EXISTS: -2, TYPE: 2, SCAN: -2, KEYS: 2, GET: 2, SET: -3,
  ZADD: -4, ZCOUNT: 4, ZREMRANGEBYSCORE: 4, ZRANGE: -4, ZREVRANGE: -4, ZCARD: 2, ZREM: -3, ZSCORE: 3, ZMSCORE: -3, ZINCRBY: 4,
  SADD: -3, SMEMBERS: 2, SISMEMBER: 3, SREM: -3, SCARD: 2,
  MULTI: 1, EXEC: 1, DISCARD: 1, WATCH: -2, UNWATCH: 1,
  EVAL: -3, EVALSHA: -3, SCRIPT: -2,
  AUTH: -2, HELLO: -1, CLIENT: -2, ACL: -2, CONFIG: -2,
  "FT.CREATE": -3, "FT.ALTER": -5, "FT.DROPINDEX": -2, "FT.INFO": 2, "FT._LIST": -1, "FT.SEARCH": -3,
  "FT.AGGREGATE": -3, "FT.ALIASADD": 3, "FT.ALIASUPDATE": 3, "FT.ALIASDEL": 2, "FT.CONFIG": -3,
};

/** The name Redis puts in its arity error (core commands lower-case, module commands as registered). */
function arityName(cmd: string): string {
  if (cmd === "FT.CREATE") return "_FT.CREATE";
  return cmd.startsWith("FT.") ? cmd : cmd.toLowerCase();
}

function arityOk(cmd: string, argc: number): boolean {
  const a = ARITY[cmd];
  if (a === undefined) return true;
  return a < 0 ? argc >= -a : argc === a;
}

function parseScore(text: string): number | undefined {
  const t = text.toLowerCase();
  if (t === "inf" || t === "+inf") return Infinity;
  if (t === "-inf") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  return Number(text);
}

function scoreReply(x: number): Reply {
  return dbl(x);
}

function globToRegExp(glob: string): RegExp {
  let re = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "\\" && i + 1 < glob.length) re += "\\" + glob[++i];
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += "[" + glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\") + "]";
        i = end;
      }
    } else re += c.replace(/[.+^${}()|]/g, "\\$&");
  }
  return new RegExp(re + "$", "s");
}

function helloReply(conn: Connection): Reply {
  const module = (name: string, ver: number): Reply =>
    map([
      [bulk("name"), bulk(name)],
      [bulk("ver"), int(ver)],
      [bulk("path"), bulk("")],
      [bulk("args"), arr([])],
    ]);
  return map([
    [bulk("server"), bulk("redis")],
    [bulk("version"), bulk("8.0.2")],
    [bulk("proto"), int(conn.proto)],
    [bulk("id"), int(conn.id)],
    [bulk("mode"), bulk("standalone")],
    [bulk("role"), bulk("master")],
    [bulk("modules"), arr([module("vectorset", 1), module("search", 80002)])],
  ]);
}

/** Sorted members of a zset: by score, then member bytes. */
function zsorted(z: Map<string, number>): Array<[string, number]> {
  return [...z.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function zrangeReply(items: Array<[string, number]>, withScores: boolean, proto: 2 | 3): Reply {
  if (!withScores) return arr(items.map(([m]) => bulk(m)));
  if (proto === 3) return arr(items.map(([m, s]) => arr([bulk(m), scoreReply(s)])));
  return arr(items.flatMap(([m, s]) => [bulk(m), bulk(formatPlainDouble(s))]));
}

function parseScoreBound(text: string): { v: number; excl: boolean } | undefined {
  const excl = text.startsWith("(");
  const v = parseScore(excl ? text.slice(1) : text);
  return v === undefined ? undefined : { v, excl };
}

/** Executes one command for `conn` (through the state's interceptor, if any). Never throws. */
export function execute(state: StandInState, conn: Connection, argv: Buffer[]): Reply {
  const intercept = state.interceptor;
  if (intercept === undefined) return executeLocal(state, conn, argv);
  return intercept(conn, argv, () => executeLocal(state, conn, argv));
}

/** Executes one command for `conn` as a standalone server does, bypassing any interceptor. */
export function executeLocal(state: StandInState, conn: Connection, argv: Buffer[]): Reply {
  const cmd = (argv[0]?.toString("utf8") ?? "").toUpperCase();
  if (!arityOk(cmd, argv.length)) {
    if (conn.multi) conn.multi.dirty = true;
    return wrongArgs(arityName(cmd));
  }
  if (conn.multi && !["EXEC", "DISCARD", "MULTI", "WATCH", "QUIT"].includes(cmd)) {
    if (!KNOWN.has(cmd)) {
      conn.multi.dirty = true;
      return unknownCommand(argv);
    }
    conn.multi.queue.push(argv);
    return simple("QUEUED");
  }
  try {
    return run(state, conn, cmd, argv);
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

const KNOWN = new Set(Object.keys(ARITY));

function run(state: StandInState, conn: Connection, cmd: string, argv: Buffer[]): Reply {
  const ks = state.keyspace;
  const s = (i: number): string => argv[i]?.toString("utf8") ?? "";
  /** HDEL / SREM: removes argv[2..] from the hash fields or set members at argv[1]; returns how many existed. */
  const removeMembers = (members: { delete(member: string): boolean } | undefined): number => {
    if (!members) return 0;
    let n = 0;
    for (let i = 2; i < argv.length; i++) if (members.delete(s(i))) n += 1;
    ks.dropIfEmpty(s(1));
    if (n > 0) ks.changed(s(1));
    return n;
  };
  const proto = conn.proto;
  switch (cmd) {
    // --- connection ---
    case "PING":
      return argv.length > 1 ? bulk(argv[1] as Buffer) : simple("PONG");
    case "ECHO":
      return bulk(argv[1] as Buffer);
    case "SELECT":
      if (!/^\d+$/.test(s(1)) || Number(s(1)) >= 16) return err("ERR DB index is out of range");
      conn.db = Number(s(1));
      return OK;
    case "QUIT":
      conn.closing = true;
      return OK;
    case "AUTH": {
      if (argv.length === 2) {
        return err(
          "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        );
      }
      return s(1) === "default" ? OK : err("WRONGPASS invalid username-password pair or user is disabled.");
    }
    case "HELLO": {
      let i = 1;
      let proto2 = conn.proto;
      if (argv.length > 1) {
        const v = s(1);
        if (!/^\d+$/.test(v)) return err("ERR Protocol version is not an integer or out of range");
        if (v !== "2" && v !== "3") return err("NOPROTO unsupported protocol version");
        proto2 = Number(v) as 2 | 3;
        i = 2;
      }
      let name: string | undefined;
      while (i < argv.length) {
        const opt = s(i).toUpperCase();
        if (opt === "AUTH" && i + 2 < argv.length) {
          if (s(i + 1) !== "default") return err("WRONGPASS invalid username-password pair or user is disabled.");
          i += 3;
        } else if (opt === "SETNAME" && i + 1 < argv.length) {
          name = s(i + 1);
          i += 2;
        } else {
          return err(`ERR Syntax error in HELLO option '${s(i)}'`);
        }
      }
      conn.proto = proto2;
      if (name !== undefined) conn.name = name;
      return helloReply(conn);
    }
    case "CLIENT": {
      const sub = s(1).toUpperCase();
      if (sub === "SETINFO") {
        const attr = s(2).toUpperCase();
        if (/[\s]/.test(s(3))) return err(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
        return OK;
      }
      if (sub === "SETNAME") {
        if (/[\s]/.test(s(2))) return err("ERR Client names cannot contain spaces, newlines or special characters.");
        conn.name = s(2) === "" ? undefined : s(2);
        return OK;
      }
      if (sub === "GETNAME") return conn.name === undefined ? NULL : bulk(conn.name);
      if (sub === "ID") return int(conn.id);
      return err(`ERR unknown subcommand '${argv[1]?.toString("utf8") ?? ""}'. Try CLIENT HELP.`);
    }
    case "ACL":
      if (s(1).toUpperCase() === "WHOAMI") return bulk("default");
      return err(`ERR unknown subcommand '${s(1)}'. Try ACL HELP.`);
    case "CONFIG": {
      if (s(1).toUpperCase() === "GET" && s(2) === "search-default-dialect") {
        return map([[bulk("search-default-dialect"), bulk("1")]]);
      }
      return proto === 3 ? map([]) : arr([]);
    }
    case "FLUSHALL":
    case "FLUSHDB":
      state.flushAll();
      return OK;
    case "DBSIZE":
      return int(ks.size);

    // --- keys ---
    case "DEL":
    case "UNLINK": {
      let n = 0;
      for (let i = 1; i < argv.length; i++) if (ks.delete(s(i))) n += 1;
      return int(n);
    }
    case "EXISTS": {
      let n = 0;
      for (let i = 1; i < argv.length; i++) if (ks.has(s(i))) n += 1;
      return int(n);
    }
    case "TYPE":
      return simple(ks.get(s(1))?.type ?? "none");
    case "KEYS": {
      const re = globToRegExp(s(1));
      return arr(ks.keys().filter((k) => re.test(k)).map((k) => bulk(k)));
    }
    case "SCAN": {
      let re: RegExp | undefined;
      let type: string | undefined;
      for (let i = 2; i < argv.length; i += 2) {
        const opt = s(i).toUpperCase();
        if (opt === "MATCH") re = globToRegExp(s(i + 1));
        else if (opt === "TYPE") type = s(i + 1).toLowerCase();
        else if (opt !== "COUNT") return err("ERR syntax error");
      }
      const keys = ks.keys().filter((k) => (!re || re.test(k)) && (!type || ks.get(k)?.type === type));
      return arr([bulk("0"), arr(keys.map((k) => bulk(k)))]);
    }

    // --- strings ---
    case "GET": {
      const e = ks.getTyped(s(1), "string");
      return e ? bulk(e.v) : NULL;
    }
    case "SET": {
      let nx = false;
      let xx = false;
      let get = false;
      for (let i = 3; i < argv.length; i++) {
        const opt = s(i).toUpperCase();
        if (opt === "NX") nx = true;
        else if (opt === "XX") xx = true;
        else if (opt === "GET") get = true;
        else if (opt === "EX" || opt === "PX" || opt === "EXAT" || opt === "PXAT") i += 1;
        else if (opt !== "KEEPTTL") return err("ERR syntax error");
      }
      const exists = ks.has(s(1));
      const old = get ? ks.getTyped(s(1), "string") : undefined;
      if ((nx && exists) || (xx && !exists)) return get ? (old ? bulk(old.v) : NULL) : NULL;
      ks.setString(s(1), Buffer.from(argv[2] as Buffer));
      return get ? (old ? bulk(old.v) : NULL) : OK;
    }

    // --- hashes ---
    case "HSET":
    case "HMSET": {
      if ((argv.length - 2) % 2 !== 0) return wrongArgs(cmd.toLowerCase());
      const h = ks.hashForWrite(s(1));
      let added = 0;
      for (let i = 2; i < argv.length; i += 2) {
        const f = s(i);
        if (!h.has(f)) added += 1;
        h.set(f, Buffer.from(argv[i + 1] as Buffer));
      }
      ks.changed(s(1));
      return cmd === "HMSET" ? OK : int(added);
    }
    case "HSETNX": {
      const h = ks.hashForWrite(s(1));
      if (h.has(s(2))) return int(0);
      h.set(s(2), Buffer.from(argv[3] as Buffer));
      ks.changed(s(1));
      return int(1);
    }
    case "HKEYS":
      return arr([...(ks.getTyped(s(1), "hash")?.v.keys() ?? [])].map((f) => bulk(f)));
    case "HVALS":
      return arr([...(ks.getTyped(s(1), "hash")?.v.values() ?? [])].map((v) => bulk(v)));
    case "HGET": {
      const v = ks.getTyped(s(1), "hash")?.v.get(s(2));
      return v === undefined ? NULL : bulk(v);
    }
    case "HGETALL": {
      const h = ks.getTyped(s(1), "hash")?.v;
      return map(h ? [...h.entries()].map(([f, v]) => [bulk(f), bulk(v)] as const) : []);
    }
    case "HMGET": {
      const h = ks.getTyped(s(1), "hash")?.v;
      return arr(argv.slice(2).map((f) => {
        const v = h?.get(f.toString("utf8"));
        return v === undefined ? NULL : bulk(v);
      }));
    }
    case "HDEL":
      return int(removeMembers(ks.getTyped(s(1), "hash")?.v));
    case "HEXISTS":
      return int(ks.getTyped(s(1), "hash")?.v.has(s(2)) ? 1 : 0);
    case "HLEN":
      return int(ks.getTyped(s(1), "hash")?.v.size ?? 0);
    case "HINCRBYFLOAT": {
      const h = ks.hashForWrite(s(1));
      const cur = Number(h.get(s(2))?.toString("utf8") ?? "0");
      const inc = parseScore(s(3));
      if (inc === undefined || Number.isNaN(cur)) return err("ERR value is not a valid float");
      const next = formatPlainDouble(cur + inc);
      h.set(s(2), Buffer.from(next));
      ks.changed(s(1));
      return bulk(next);
    }

    // --- sorted sets ---
    case "ZADD": {
      let i = 2;
      let nx = false;
      let xx = false;
      let gt = false;
      let lt = false;
      let ch = false;
      let incr = false;
      for (; i < argv.length; i++) {
        const opt = s(i).toUpperCase();
        if (opt === "NX") nx = true;
        else if (opt === "XX") xx = true;
        else if (opt === "GT") gt = true;
        else if (opt === "LT") lt = true;
        else if (opt === "CH") ch = true;
        else if (opt === "INCR") incr = true;
        else break;
      }
      const pairs = argv.length - i;
      if (pairs === 0 || pairs % 2 !== 0) return err("ERR syntax error");
      if (nx && xx) return err("ERR XX and NX options at the same time are not compatible");
      if (incr && pairs !== 2) return err("ERR INCR option supports a single increment-element pair");
      const scores: number[] = [];
      for (let p = i; p < argv.length; p += 2) {
        const sc = parseScore(s(p));
        if (sc === undefined) return err("ERR value is not a valid float");
        scores.push(sc);
      }
      const z = ks.zsetForWrite(s(1));
      let added = 0;
      let changed = 0;
      let incrResult: number | undefined;
      for (let p = i, n = 0; p < argv.length; p += 2, n++) {
        const member = s(p + 1);
        const old = z.get(member);
        let score = scores[n] as number;
        if (incr) score = (old ?? 0) + score;
        if (old === undefined) {
          if (xx) continue;
          z.set(member, score);
          added += 1;
          incrResult = score;
        } else {
          if (nx || (gt && score <= old) || (lt && score >= old)) continue;
          if (score !== old) changed += 1;
          z.set(member, score);
          incrResult = score;
        }
      }
      ks.dropIfEmpty(s(1));
      // Like Redis, only a ZADD that added or moved a member touches the key (and its watchers).
      if (added + changed > 0) ks.changed(s(1));
      if (incr) return incrResult === undefined ? NULL : scoreReply(incrResult);
      return int(ch ? added + changed : added);
    }
    case "ZRANGE":
    case "ZREVRANGE": {
      const z = ks.getTyped(s(1), "zset")?.v ?? new Map<string, number>();
      let byScore = false;
      let rev = cmd === "ZREVRANGE";
      let withScores = false;
      let limit: { off: number; count: number } | undefined;
      for (let i = 4; i < argv.length; i++) {
        const opt = s(i).toUpperCase();
        if (opt === "BYSCORE" && cmd === "ZRANGE") byScore = true;
        else if (opt === "REV" && cmd === "ZRANGE") rev = true;
        else if (opt === "WITHSCORES") withScores = true;
        else if (opt === "LIMIT" && cmd === "ZRANGE") {
          limit = { off: Number(s(i + 1)), count: Number(s(i + 2)) };
          i += 2;
        } else return err("ERR syntax error");
      }
      let items = zsorted(z);
      if (byScore) {
        const a = parseScoreBound(s(2));
        const b = parseScoreBound(s(3));
        if (!a || !b) return err("ERR min or max is not a float");
        const [min, max] = rev ? [b, a] : [a, b];
        items = items.filter(([, sc]) => (min.excl ? sc > min.v : sc >= min.v) && (max.excl ? sc < max.v : sc <= max.v));
        if (rev) items.reverse();
        if (limit) items = limit.count < 0 ? items.slice(limit.off) : items.slice(limit.off, limit.off + limit.count);
      } else {
        if (!/^-?\d+$/.test(s(2)) || !/^-?\d+$/.test(s(3))) return err("ERR value is not an integer or out of range");
        if (limit) return err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        if (rev) items.reverse();
        const n = items.length;
        let start = Number(s(2));
        let stop = Number(s(3));
        if (start < 0) start = Math.max(0, n + start);
        if (stop < 0) stop = n + stop;
        items = start > stop || start >= n ? [] : items.slice(start, Math.min(stop, n - 1) + 1);
      }
      return zrangeReply(items, withScores, proto);
    }
    case "ZCOUNT":
    case "ZREMRANGEBYSCORE": {
      const e = ks.getTyped(s(1), "zset");
      const min = parseScoreBound(s(2));
      const max = parseScoreBound(s(3));
      if (!min || !max) return err("ERR min or max is not a float");
      if (!e) return int(0);
      const hit = [...e.v].filter(([, sc]) => (min.excl ? sc > min.v : sc >= min.v) && (max.excl ? sc < max.v : sc <= max.v));
      if (cmd === "ZCOUNT") return int(hit.length);
      for (const [m] of hit) e.v.delete(m);
      ks.dropIfEmpty(s(1));
      if (hit.length > 0) ks.changed(s(1));
      return int(hit.length);
    }
    case "ZCARD":
      return int(ks.getTyped(s(1), "zset")?.v.size ?? 0);
    case "ZSCORE": {
      const v = ks.getTyped(s(1), "zset")?.v.get(s(2));
      return v === undefined ? NULL : proto === 3 ? scoreReply(v) : bulk(formatPlainDouble(v));
    }
    case "ZMSCORE": {
      const z = ks.getTyped(s(1), "zset")?.v;
      return arr(argv.slice(2).map((m) => {
        const v = z?.get(m.toString("utf8"));
        return v === undefined ? NULL : proto === 3 ? scoreReply(v) : bulk(formatPlainDouble(v));
      }));
    }
    case "ZINCRBY": {
      const inc = parseScore(s(2));
      if (inc === undefined) return err("ERR value is not a valid float");
      const z = ks.zsetForWrite(s(1));
      const v = (z.get(s(3)) ?? 0) + inc;
      z.set(s(3), v);
      ks.changed(s(1));
      return proto === 3 ? scoreReply(v) : bulk(formatPlainDouble(v));
    }
    case "ZREM": {
      const e = ks.getTyped(s(1), "zset");
      if (!e) return int(0);
      let n = 0;
      for (let i = 2; i < argv.length; i++) if (e.v.delete(s(i))) n += 1;
      ks.dropIfEmpty(s(1));
      if (n > 0) ks.changed(s(1));
      return int(n);
    }

    // --- sets ---
    case "SADD": {
      const st = ks.setForWrite(s(1));
      let n = 0;
      for (let i = 2; i < argv.length; i++) {
        if (!st.has(s(i))) {
          st.add(s(i));
          n += 1;
        }
      }
      if (n > 0) ks.changed(s(1));
      return int(n);
    }
    case "SMEMBERS":
      return set([...(ks.getTyped(s(1), "set")?.v ?? [])].map((m) => bulk(m)));
    case "SISMEMBER":
      return int(ks.getTyped(s(1), "set")?.v.has(s(2)) ? 1 : 0);
    case "SCARD":
      return int(ks.getTyped(s(1), "set")?.v.size ?? 0);
    case "SREM":
      return int(removeMembers(ks.getTyped(s(1), "set")?.v));

    // --- scripts ---
    case "EVAL":
    case "EVALSHA":
      return state.scripts.eval(ks, argv, cmd === "EVALSHA");
    case "SCRIPT":
      return state.scripts.script(argv);

    // --- transactions ---
    case "MULTI":
      if (conn.multi) return err("ERR MULTI calls can not be nested");
      conn.multi = { queue: [], dirty: false };
      return OK;
    case "DISCARD":
      if (!conn.multi) return err("ERR DISCARD without MULTI");
      conn.multi = undefined;
      state.unwatch(conn);
      return OK;
    case "EXEC": {
      const m = conn.multi;
      if (!m) return err("ERR EXEC without MULTI");
      conn.multi = undefined;
      const touched = conn.watch?.dirty === true;
      // The watch ends with EXEC whatever happens; the queued commands below do not touch it.
      state.unwatch(conn);
      // A queueing error wins over a touched key (Redis checks EXECABORT first).
      if (m.dirty) return err("EXECABORT Transaction discarded because of previous errors.");
      if (touched) return NULL_ARRAY;
      return arr(m.queue.map((q) => execute(state, conn, q)));
    }
    case "WATCH":
      if (conn.multi) return err("ERR WATCH inside MULTI is not allowed");
      state.watch(conn, argv.slice(1).map((a) => a.toString("utf8")));
      return OK;
    case "UNWATCH":
      state.unwatch(conn);
      return OK;

    // --- Query Engine ---
    case "FT._LIST":
      return set([...state.indexes.keys()].map((n) => simple(n)));
    case "FT.CREATE": {
      // RediSearch's CreateIndexCommand checks the database before anything else.
      if ((conn.db ?? 0) !== 0) return err("Cannot create index on db != 0");
      const name = s(1);
      if (state.indexes.has(name)) return err("Index already exists");
      const def = parseCreate(argv.slice(2).map((a) => a.toString("utf8")));
      const idx = new SearchIndex(name, def.prefixes, def.fields);
      state.indexes.set(name, idx);
      state.scanExisting(idx);
      return OK;
    }
    case "FT.ALTER": {
      const idx = state.resolveIndex(s(1));
      if (!idx) return err("Unknown index name");
      let i = 2;
      if (s(i).toUpperCase() === "SKIPINITIALSCAN") i += 1;
      if (s(i).toUpperCase() !== "SCHEMA" || s(i + 1).toUpperCase() !== "ADD") return err("ERR syntax error");
      const added = parseSchema(argv.slice(i + 2).map((a) => a.toString("utf8")), idx.fields);
      idx.fields = [...idx.fields, ...added];
      state.scanExisting(idx);
      return OK;
    }
    case "FT.DROPINDEX": {
      const idx = state.resolveIndex(s(1));
      if (!idx) return err(`${s(1)}: no such index`);
      state.indexes.delete(idx.name);
      for (const [alias, target] of [...state.aliases]) if (target === idx.name) state.aliases.delete(alias);
      if (s(2).toUpperCase() === "DD") for (const key of [...idx.docs.keys()]) ks.delete(key);
      return OK;
    }
    case "FT.INFO": {
      const idx = state.resolveIndex(s(1));
      if (!idx) return err(`${s(1)}: no such index`);
      return infoReply(idx, proto);
    }
    case "FT.SEARCH": {
      const idx = state.resolveIndex(s(1));
      if (!idx) return err(`No such index ${s(1)}`);
      return ftSearch(ks, idx, argv[2] as Buffer, argv.slice(3), proto);
    }
    case "FT.AGGREGATE": {
      const idx = state.resolveIndex(s(1));
      if (!idx) return err(`No such index ${s(1)}`);
      return ftAggregate(ks, idx, argv[2] as Buffer, argv.slice(3), proto);
    }
    case "FT.ALIASADD":
    case "FT.ALIASUPDATE": {
      const alias = s(1);
      const idx = state.indexes.get(s(2));
      if (!idx) return err(`${s(2)}: no such index`);
      if (cmd === "FT.ALIASADD") {
        if (state.indexes.has(alias)) return err("Alias conflicts with an existing index name");
        if (state.aliases.has(alias)) return err("Alias already exists");
      }
      state.aliases.set(alias, idx.name);
      return OK;
    }
    case "FT.ALIASDEL":
      if (!state.aliases.delete(s(1))) return err("Alias does not exist");
      return OK;
    case "FT.CONFIG": {
      if (s(1).toUpperCase() === "GET" && s(2).toUpperCase() === "DEFAULT_DIALECT") {
        return proto === 3 ? smap([["DEFAULT_DIALECT", bulk("1")]]) : arr([arr([simple("DEFAULT_DIALECT"), bulk("1")])]);
      }
      return proto === 3 ? map([]) : arr([]);
    }
    default:
      return unknownCommand(argv);
  }
}
