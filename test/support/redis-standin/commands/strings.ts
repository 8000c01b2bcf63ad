/** String commands: GET, SET (NX, XX, GET; expiry options accepted and ignored). */
import { NULL, OK, bulk, err } from "../resp.js";
import type { Command } from "./command.js";

export const STRING_COMMANDS: readonly Command[] = [
  {
    name: "GET",
    arity: 2,
    run: ({ ks, s }) => {
      const e = ks.getTyped(s(1), "string");
      return e ? bulk(e.v) : NULL;
    },
  },
  {
    name: "SET",
    arity: -3,
    run: ({ ks, argv, s }) => {
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
    },
  },
];
