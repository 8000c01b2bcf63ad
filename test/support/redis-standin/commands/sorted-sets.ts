/** Sorted-set commands: ZADD, ZRANGE/ZREVRANGE, ZCOUNT/ZREMRANGEBYSCORE, ZCARD, ZSCORE, ZMSCORE, ZINCRBY, ZREM. */
import { NULL, type Reply, arr, bulk, dbl, err, formatPlainDouble, int } from "../resp.js";
import { type Call, type Command, parseScore } from "./command.js";

function scoreReply(x: number): Reply {
  return dbl(x);
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

function zadd({ ks, argv, s }: Call): Reply {
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

function zrange({ ks, proto, cmd, argv, s }: Call): Reply {
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

/** ZCOUNT counts the members scored within [min, max]; ZREMRANGEBYSCORE removes them. */
function zByScore({ ks, cmd, s }: Call): Reply {
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

export const SORTED_SET_COMMANDS: readonly Command[] = [
  { name: "ZADD", arity: -4, run: zadd },
  { name: "ZRANGE", arity: -4, run: zrange },
  { name: "ZREVRANGE", arity: -4, run: zrange },
  { name: "ZCOUNT", arity: 4, run: zByScore },
  { name: "ZREMRANGEBYSCORE", arity: 4, run: zByScore },
  { name: "ZCARD", arity: 2, run: ({ ks, s }) => int(ks.getTyped(s(1), "zset")?.v.size ?? 0) },
  {
    name: "ZSCORE",
    arity: 3,
    run: ({ ks, proto, s }) => {
      const v = ks.getTyped(s(1), "zset")?.v.get(s(2));
      return v === undefined ? NULL : proto === 3 ? scoreReply(v) : bulk(formatPlainDouble(v));
    },
  },
  {
    name: "ZMSCORE",
    arity: -3,
    run: ({ ks, proto, argv, s }) => {
      const z = ks.getTyped(s(1), "zset")?.v;
      return arr(argv.slice(2).map((m) => {
        const v = z?.get(m.toString("utf8"));
        return v === undefined ? NULL : proto === 3 ? scoreReply(v) : bulk(formatPlainDouble(v));
      }));
    },
  },
  {
    name: "ZINCRBY",
    arity: 4,
    run: ({ ks, proto, s }) => {
      const inc = parseScore(s(2));
      if (inc === undefined) return err("ERR value is not a valid float");
      const z = ks.zsetForWrite(s(1));
      const v = (z.get(s(3)) ?? 0) + inc;
      z.set(s(3), v);
      ks.changed(s(1));
      return proto === 3 ? scoreReply(v) : bulk(formatPlainDouble(v));
    },
  },
  {
    name: "ZREM",
    arity: -3,
    run: ({ ks, argv, s }) => {
      const e = ks.getTyped(s(1), "zset");
      if (!e) return int(0);
      let n = 0;
      for (let i = 2; i < argv.length; i++) if (e.v.delete(s(i))) n += 1;
      ks.dropIfEmpty(s(1));
      if (n > 0) ks.changed(s(1));
      return int(n);
    },
  },
];
