/** Generic key commands: DEL/UNLINK, EXISTS, TYPE, KEYS, SCAN (one pass: cursor 0 back at once). */
import { type Reply, arr, bulk, err, int, simple } from "../resp.js";
import type { Call, Command } from "./command.js";

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

const del = ({ ks, argv, s }: Call): Reply => {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (ks.delete(s(i))) n += 1;
  return int(n);
};

export const KEY_COMMANDS: readonly Command[] = [
  { name: "DEL", arity: -2, run: del },
  { name: "UNLINK", arity: -2, run: del },
  {
    name: "EXISTS",
    arity: -2,
    run: ({ ks, argv, s }) => {
      let n = 0;
      for (let i = 1; i < argv.length; i++) if (ks.has(s(i))) n += 1;
      return int(n);
    },
  },
  { name: "TYPE", arity: 2, run: ({ ks, s }) => simple(ks.get(s(1))?.type ?? "none") },
  {
    name: "KEYS",
    arity: 2,
    run: ({ ks, s }) => {
      const re = globToRegExp(s(1));
      return arr(ks.keys().filter((k) => re.test(k)).map((k) => bulk(k)));
    },
  },
  {
    name: "SCAN",
    arity: -2,
    run: ({ ks, argv, s }) => {
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
    },
  },
];
