/** Set commands: SADD, SMEMBERS, SISMEMBER, SCARD, SREM. */
import { bulk, int, set } from "../resp.js";
import { type Command, removeMembers } from "./command.js";

export const SET_COMMANDS: readonly Command[] = [
  {
    name: "SADD",
    arity: -3,
    run: ({ ks, argv, s }) => {
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
    },
  },
  { name: "SMEMBERS", arity: 2, run: ({ ks, s }) => set([...(ks.getTyped(s(1), "set")?.v ?? [])].map((m) => bulk(m))) },
  { name: "SISMEMBER", arity: 3, run: ({ ks, s }) => int(ks.getTyped(s(1), "set")?.v.has(s(2)) ? 1 : 0) },
  { name: "SCARD", arity: 2, run: ({ ks, s }) => int(ks.getTyped(s(1), "set")?.v.size ?? 0) },
  { name: "SREM", arity: -3, run: (call) => int(removeMembers(call, call.ks.getTyped(call.s(1), "set")?.v)) },
];
