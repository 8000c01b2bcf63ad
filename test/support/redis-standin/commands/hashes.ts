/** Hash commands: HSET/HMSET, HSETNX, HKEYS, HVALS, HGET, HGETALL, HMGET, HDEL, HEXISTS, HLEN, HINCRBYFLOAT. */
import { NULL, OK, type Reply, arr, bulk, err, formatPlainDouble, int, map } from "../resp.js";
import { type Call, type Command, parseScore, removeMembers, wrongArgs } from "./command.js";

const hset = ({ ks, cmd, argv, s }: Call): Reply => {
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
};

export const HASH_COMMANDS: readonly Command[] = [
  { name: "HSET", arity: -4, run: hset },
  { name: "HMSET", arity: -4, run: hset },
  {
    name: "HSETNX",
    arity: 4,
    run: ({ ks, argv, s }) => {
      const h = ks.hashForWrite(s(1));
      if (h.has(s(2))) return int(0);
      h.set(s(2), Buffer.from(argv[3] as Buffer));
      ks.changed(s(1));
      return int(1);
    },
  },
  { name: "HKEYS", arity: 2, run: ({ ks, s }) => arr([...(ks.getTyped(s(1), "hash")?.v.keys() ?? [])].map((f) => bulk(f))) },
  { name: "HVALS", arity: 2, run: ({ ks, s }) => arr([...(ks.getTyped(s(1), "hash")?.v.values() ?? [])].map((v) => bulk(v))) },
  {
    name: "HGET",
    arity: 3,
    run: ({ ks, s }) => {
      const v = ks.getTyped(s(1), "hash")?.v.get(s(2));
      return v === undefined ? NULL : bulk(v);
    },
  },
  {
    name: "HGETALL",
    arity: 2,
    run: ({ ks, s }) => {
      const h = ks.getTyped(s(1), "hash")?.v;
      return map(h ? [...h.entries()].map(([f, v]) => [bulk(f), bulk(v)] as const) : []);
    },
  },
  {
    name: "HMGET",
    arity: -3,
    run: ({ ks, argv, s }) => {
      const h = ks.getTyped(s(1), "hash")?.v;
      return arr(argv.slice(2).map((f) => {
        const v = h?.get(f.toString("utf8"));
        return v === undefined ? NULL : bulk(v);
      }));
    },
  },
  { name: "HDEL", arity: -3, run: (call) => int(removeMembers(call, call.ks.getTyped(call.s(1), "hash")?.v)) },
  { name: "HEXISTS", arity: 3, run: ({ ks, s }) => int(ks.getTyped(s(1), "hash")?.v.has(s(2)) ? 1 : 0) },
  { name: "HLEN", arity: 2, run: ({ ks, s }) => int(ks.getTyped(s(1), "hash")?.v.size ?? 0) },
  {
    name: "HINCRBYFLOAT",
    arity: 4,
    run: ({ ks, s }) => {
      const h = ks.hashForWrite(s(1));
      const cur = Number(h.get(s(2))?.toString("utf8") ?? "0");
      const inc = parseScore(s(3));
      if (inc === undefined || Number.isNaN(cur)) return err("ERR value is not a valid float");
      const next = formatPlainDouble(cur + inc);
      h.set(s(2), Buffer.from(next));
      ks.changed(s(1));
      return bulk(next);
    },
  },
];
