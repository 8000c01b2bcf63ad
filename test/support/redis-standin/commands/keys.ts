/** Generic key commands: DEL/UNLINK, EXISTS, TYPE, KEYS, SCAN (one pass: cursor 0 back at once), RESTORE (hashes: dump-payload.ts). */
import { type Reply, arr, bulk, err, int, simple } from "../resp.js";
import type { Call, Command } from "./command.js";
import { readHashPayload } from "./dump-payload.js";

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

/**
 * RESTORE key ttl payload [REPLACE]: as Redis 7.4.1's restoreCommand, the options checked first, then the
 * key (BUSYKEY without REPLACE), then the payload; a REPLACE of an existing key deletes it before the new
 * value is stored (Redis's `del` then `restore` events: the indexes drop the document, then index it).
 * A TTL other than 0, ABSTTL, IDLETIME and FREQ are not modelled.
 */
const restore = ({ ks, argv, s }: Call): Reply => {
  let replace = false;
  for (let i = 4; i < argv.length; i++) {
    if (s(i).toUpperCase() === "REPLACE") replace = true;
    else if (["ABSTTL", "IDLETIME", "FREQ"].includes(s(i).toUpperCase())) return err(`ERR stand-in: RESTORE ${s(i).toUpperCase()} is not modelled`);
    else return err("ERR syntax error");
  }
  if (!/^-?\d+$/.test(s(2))) return err("ERR value is not an integer or out of range");
  if (Number(s(2)) < 0) return err("ERR Invalid TTL value, must be >= 0");
  if (Number(s(2)) !== 0) return err("ERR stand-in: RESTORE with a TTL is not modelled");
  if (!replace && ks.has(s(1))) return err("BUSYKEY Target key name already exists.");
  const hash = readHashPayload(argv[3] as Buffer);
  ks.delete(s(1));
  const h = ks.hashForWrite(s(1));
  for (const [field, value] of hash) h.set(field, value);
  ks.changed(s(1));
  return simple("OK");
};

export const KEY_COMMANDS: readonly Command[] = [
  { name: "DEL", arity: -2, run: del },
  { name: "RESTORE", arity: -4, run: restore },
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
