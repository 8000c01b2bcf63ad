/**
 * Where the keys of a command are, as Redis Cluster reads them to route it (its key specs): the first
 * argument, every argument, every other argument (MSET), or a `numkeys` count (EVAL, ZUNIONSTORE).
 * Covers the commands the stand-in implements and the multi-key commands a client may send to a
 * cluster. Commands that are not listed are keyless (served by any node).
 */

type KeySpec =
  /** argv[1] */
  | "first"
  /** argv[1..] */
  | "all"
  /** argv[1], argv[3], argv[5], ... (MSET key value ...) */
  | "pairs"
  /** argv[1] and argv[2] (RENAME, SMOVE, ...) */
  | "two"
  /** EVAL script numkeys key... : the count at argv[2], keys after it */
  | "numkeys2"
  /** ZUNION numkeys key... : the count at argv[1] */
  | "numkeys1"
  /** ZUNIONSTORE dest numkeys key... : argv[1], then the count at argv[2] */
  | "dest+numkeys2"
  /** OBJECT ENCODING key: argv[2] */
  | "second";

const SPECS: Record<string, KeySpec> = {};
const add = (spec: KeySpec, names: string): void => {
  for (const n of names.split(/\s+/).filter(Boolean)) SPECS[n] = spec;
};

add(
  "first",
  `GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX INCR DECR INCRBY DECRBY INCRBYFLOAT APPEND STRLEN GETRANGE SETRANGE
   TYPE EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL PERSIST DUMP RESTORE
   HSET HMSET HSETNX HGET HGETALL HMGET HDEL HEXISTS HLEN HKEYS HVALS HINCRBY HINCRBYFLOAT HSTRLEN HSCAN HRANDFIELD
   ZADD ZCOUNT ZREMRANGEBYSCORE ZREMRANGEBYRANK ZRANGE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZCARD ZREM ZSCORE ZMSCORE
   ZINCRBY ZRANK ZREVRANK ZPOPMIN ZPOPMAX ZSCAN ZLEXCOUNT ZRANGEBYLEX
   SADD SMEMBERS SISMEMBER SMISMEMBER SREM SCARD SPOP SRANDMEMBER SSCAN
   LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LRANGE LLEN LINDEX LSET LREM LTRIM LINSERT LPOS
   XADD XLEN XRANGE XREVRANGE XDEL XTRIM`,
);
add("all", "DEL UNLINK EXISTS TOUCH MGET WATCH SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE PFCOUNT PFMERGE");
add("pairs", "MSET MSETNX");
add("two", "RENAME RENAMENX SMOVE RPOPLPUSH LMOVE COPY ZRANGESTORE");
add("numkeys2", "EVAL EVALSHA EVAL_RO EVALSHA_RO FCALL FCALL_RO");
add("numkeys1", "ZUNION ZINTER ZDIFF ZINTERCARD SINTERCARD");
add("dest+numkeys2", "ZUNIONSTORE ZINTERSTORE ZDIFFSTORE");
add("second", "OBJECT");

function counted(argv: readonly Buffer[], at: number): Buffer[] | undefined {
  const text = argv[at]?.toString("utf8") ?? "";
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  if (at + 1 + n > argv.length) return undefined;
  return argv.slice(at + 1, at + 1 + n);
}

/**
 * The keys of `argv` (whose upper-cased name is `cmd`), or undefined for a keyless command or one whose
 * arguments are too short to hold its keys (the server then answers its arity or syntax error).
 */
export function commandKeys(cmd: string, argv: readonly Buffer[]): Buffer[] | undefined {
  const spec = SPECS[cmd];
  if (spec === undefined) return undefined;
  switch (spec) {
    case "first":
      return argv.length >= 2 ? [argv[1] as Buffer] : undefined;
    case "all":
      return argv.length >= 2 ? argv.slice(1) : undefined;
    case "pairs":
      return argv.length >= 3 ? argv.filter((_, i) => i % 2 === 1) : undefined;
    case "two":
      return argv.length >= 3 ? [argv[1] as Buffer, argv[2] as Buffer] : undefined;
    case "numkeys2":
      return counted(argv, 2);
    case "numkeys1":
      return counted(argv, 1);
    case "dest+numkeys2": {
      const rest = counted(argv, 2);
      return rest === undefined ? undefined : [argv[1] as Buffer, ...rest];
    }
    case "second":
      return argv.length >= 3 ? [argv[2] as Buffer] : undefined;
  }
}
