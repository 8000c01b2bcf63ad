/**
 * EVAL / EVALSHA / SCRIPT LOAD|EXISTS|FLUSH for the stand-in. It has no Lua interpreter: it knows the
 * scripts vecrec sends (by their exact text, imported from src so they cannot drift) and runs a native
 * equivalent of each, with Redis's replies: `NOSCRIPT No matching script. Please use EVAL.` for an
 * unknown or not yet loaded SHA1, and an error for a script it does not know. What a real server's Lua
 * does with the same script is checked only against a real Redis (VECREC_TEST_REDIS_URL).
 */
import { createHash } from "node:crypto";
import { SET_INTEREST_TAG_SCRIPT } from "../../../src/store/redis/scripts/set-interest-tag.js";
import { UPDATE_ITEM_SCRIPT } from "../../../src/store/redis/scripts/update-item.js";
import { REPLACE_ITEM_SCRIPT } from "../../../src/store/redis/scripts/replace-item.js";
import { CLAIM_INDEX_SCRIPT } from "../../../src/store/redis/scripts/claim-index.js";
import { PRUNE_MARKS_SCRIPT } from "../../../src/store/redis/scripts/prune-marks.js";
import { REPLACE_DEFINITION_SCRIPT } from "../../../src/store/redis/scripts/replace-definition.js";
import type { Keyspace } from "./keyspace.js";
import { type Reply, arr, bulk, err, int, OK } from "./resp.js";

type NativeScript = (ks: Keyspace, keys: readonly Buffer[], args: readonly Buffer[]) => Reply;

/** The compare-and-set of one item's interests tag (src/store/redis/scripts/set-interest-tag.ts). */
const setInterestTag: NativeScript = (ks, keys, args) => {
  const key = keys[0]?.toString("utf8") ?? "";
  const [vectorField, expected, tagField, mode, value] = args.map((a) => a);
  const hash = ks.getTyped(key, "hash")?.v;
  const stored = hash?.get(vectorField?.toString("utf8") ?? "");
  if (stored === undefined || expected === undefined || !stored.equals(expected)) return int(0);
  const field = tagField?.toString("utf8") ?? "";
  if (mode?.toString("utf8") === "set") {
    ks.hashForWrite(key).set(field, Buffer.from(value ?? Buffer.alloc(0)));
    ks.changed(key);
  } else if (hash?.delete(field) === true) {
    ks.dropIfEmpty(key);
    ks.changed(key);
  }
  return int(1);
};

/** UpdateItems on one item (src/store/redis/scripts/update-item.ts): HSET then HDEL, if it exists or may be created. */
const updateItem: NativeScript = (ks, keys, args) => {
  const key = keys[0]?.toString("utf8") ?? "";
  const exists = ks.getTyped(key, "hash") !== undefined;
  if (!exists && args[0]?.toString("utf8") !== "1") return int(0);
  const pairsEnd = 2 + 2 * Number(args[1]?.toString("utf8"));
  const hash = ks.hashForWrite(key);
  for (let i = 2; i < pairsEnd; i += 2) hash.set(args[i]?.toString("utf8") ?? "", Buffer.from(args[i + 1] ?? Buffer.alloc(0)));
  for (let i = pairsEnd; i < args.length; i++) hash.delete(args[i]?.toString("utf8") ?? "");
  ks.dropIfEmpty(key);
  ks.changed(key);
  return int(exists ? 1 : 2);
};

/** Upsert of an item lacking fields (src/store/redis/scripts/replace-item.ts): HDEL of those, then HSET; HSET's reply. */
const replaceItem: NativeScript = (ks, keys, args) => {
  const key = keys[0]?.toString("utf8") ?? "";
  const remove = Number(args[0]?.toString("utf8"));
  const hash = ks.hashForWrite(key);
  for (let i = 1; i <= remove; i++) hash.delete(args[i]?.toString("utf8") ?? "");
  let added = 0;
  for (let i = remove + 1; i + 1 < args.length; i += 2) {
    const field = args[i]?.toString("utf8") ?? "";
    if (!hash.has(field)) added++;
    hash.set(field, Buffer.from(args[i + 1] ?? Buffer.alloc(0)));
  }
  ks.dropIfEmpty(key);
  ks.changed(key);
  return int(added);
};

/**
 * The claim of an index name (src/store/redis/scripts/claim-index.ts): -1 while the drop mark says a drop
 * runs within its lease, else HSETNX, then HDEL of the drop mark (and the recompute mark) if stored.
 */
const claimIndex: NativeScript = (ks, keys, args) => {
  const key = keys[0]?.toString("utf8") ?? "";
  const [name, definition, mark, now, lease, recomputeMark] = args.map((a) => a.toString("utf8"));
  const hash = ks.getTyped(key, "hash")?.v;
  const markValue = hash?.get(mark ?? "")?.toString("utf8");
  if (markValue?.startsWith("dropping:") === true && Number(now) - Number(markValue.slice(9)) < Number(lease)) return int(-1);
  if (hash?.has(name ?? "") === true) return int(0);
  const written = ks.hashForWrite(key);
  written.set(name ?? "", Buffer.from(definition ?? ""));
  written.delete(mark ?? "");
  if (recomputeMark !== undefined) written.delete(recomputeMark);
  ks.changed(key);
  return int(1);
};

/** The pruning of old drop marks (src/store/redis/scripts/prune-marks.ts): HDEL of each field still holding the value given. */
const pruneMarks: NativeScript = (ks, keys, args) => {
  const key = keys[0]?.toString("utf8") ?? "";
  const hash = ks.getTyped(key, "hash")?.v;
  let deleted = 0;
  for (let i = 0; i + 1 < args.length; i += 2) {
    const field = args[i]?.toString("utf8") ?? "";
    const stored = hash?.get(field);
    if (stored !== undefined && stored.equals(args[i + 1] as Buffer) && hash?.delete(field) === true) deleted++;
  }
  if (deleted > 0) {
    ks.dropIfEmpty(key);
    ks.changed(key);
  }
  return int(deleted);
};

/** The change of a definition (src/store/redis/scripts/replace-definition.ts): HSET only while the field holds the one read. */
const replaceDefinition: NativeScript = (ks, keys, args) => {
  const key = keys[0]?.toString("utf8") ?? "";
  const [name, read, next, markField, markValue] = args;
  const stored = ks.getTyped(key, "hash")?.v.get(name?.toString("utf8") ?? "");
  if (stored === undefined || read === undefined || !stored.equals(read)) return int(0);
  const hash = ks.hashForWrite(key);
  hash.set(name?.toString("utf8") ?? "", Buffer.from(next ?? Buffer.alloc(0)));
  if (markField !== undefined && markValue !== undefined) hash.set(markField.toString("utf8"), Buffer.from(markValue));
  ks.changed(key);
  return int(1);
};

const sha1 = (text: string): string => createHash("sha1").update(text).digest("hex");

const KNOWN = new Map<string, { text: string; run: NativeScript }>([
  [sha1(SET_INTEREST_TAG_SCRIPT), { text: SET_INTEREST_TAG_SCRIPT, run: setInterestTag }],
  [sha1(UPDATE_ITEM_SCRIPT), { text: UPDATE_ITEM_SCRIPT, run: updateItem }],
  [sha1(REPLACE_ITEM_SCRIPT), { text: REPLACE_ITEM_SCRIPT, run: replaceItem }],
  [sha1(CLAIM_INDEX_SCRIPT), { text: CLAIM_INDEX_SCRIPT, run: claimIndex }],
  [sha1(PRUNE_MARKS_SCRIPT), { text: PRUNE_MARKS_SCRIPT, run: pruneMarks }],
  [sha1(REPLACE_DEFINITION_SCRIPT), { text: REPLACE_DEFINITION_SCRIPT, run: replaceDefinition }],
]);

/** The server's script cache: SHA1s loaded by SCRIPT LOAD or EVAL (FLUSHALL does not clear it). */
export class ScriptCache {
  readonly #loaded = new Set<string>();

  /** EVAL script numkeys key... arg... / EVALSHA sha1 numkeys key... arg... */
  eval(ks: Keyspace, argv: readonly Buffer[], bySha: boolean): Reply {
    const body = argv[1]?.toString("utf8") ?? "";
    const numkeys = Number(argv[2]?.toString("utf8"));
    if (!Number.isInteger(numkeys) || numkeys < 0) return err("ERR value is not an integer or out of range");
    if (numkeys > argv.length - 3) return err("ERR Number of keys can't be greater than number of args");
    const sha = bySha ? body.toLowerCase() : sha1(body);
    if (bySha && !this.#loaded.has(sha)) return err("NOSCRIPT No matching script. Please use EVAL.");
    const script = KNOWN.get(sha);
    if (script === undefined) {
      return err("ERR stand-in: this script is not one vecrec sends, and the stand-in runs no Lua");
    }
    this.#loaded.add(sha);
    return script.run(ks, argv.slice(3, 3 + numkeys), argv.slice(3 + numkeys));
  }

  /** SCRIPT LOAD | EXISTS | FLUSH */
  script(argv: readonly Buffer[]): Reply {
    const sub = (argv[1]?.toString("utf8") ?? "").toUpperCase();
    if (sub === "LOAD" && argv.length === 3) {
      const text = argv[2]?.toString("utf8") ?? "";
      const sha = sha1(text);
      if (!KNOWN.has(sha)) return err("ERR stand-in: this script is not one vecrec sends, and the stand-in runs no Lua");
      this.#loaded.add(sha);
      return bulk(sha);
    }
    if (sub === "EXISTS" && argv.length >= 3) {
      return arr(argv.slice(2).map((a) => int(this.#loaded.has(a.toString("utf8").toLowerCase()) ? 1 : 0)));
    }
    if (sub === "FLUSH") {
      this.#loaded.clear();
      return OK;
    }
    return err(`ERR unknown subcommand or wrong number of arguments for '${argv[1]?.toString("utf8") ?? ""}'. Try SCRIPT HELP.`);
  }
}
