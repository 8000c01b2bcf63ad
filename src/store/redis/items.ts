/**
 * Items on Redis: one hash per item, `<prefix><index>:item:<id>`, indexed by the FT index through its
 * key prefix. Every command touches one key, so each is cluster-safe, and every write of one item is
 * atomic on its own (one command, or one MULTI/EXEC on that one key); an Upsert or DeleteItems of many
 * items is not atomic as a whole (their keys lie in many slots, on many shards).
 *
 * Keys updated without a transaction, and what a crash or failover in between leaves:
 * - DeleteItems deletes the items, their own histories and their entries in their users' histories
 *   (round trip 3), and only then each item's set of users (round trip 4). Stopped in between, the
 *   call fails (nothing is acknowledged) with part of it done: an item may be gone while some of its
 *   entries remain, so it can still be recommended from them (Recommend proposes ids from histories,
 *   which need not be stored items). Repeating the call finishes the job, since the sets of users are
 *   deleted last. On a standalone server the old single MULTI/EXEC made this atomic; it cannot be on a
 *   cluster, where these keys live on different shards.
 * - A write whose call is cancelled or passes its deadline sends nothing more (every command checks the
 *   call's signal before it is sent), but what it sent before stays: an Upsert may have written some of
 *   its items (each whole), a DeleteItems stopped between round trips is left as described above.
 *   Repeating the call is safe: both are idempotent.
 * - An Upsert (or UpdateItems) is acknowledged only if its index's definition still existed once its
 *   items were written (index-definitions.ts, confirmWritten; a DropIndex with delete_items running
 *   then deletes them in its second sweep). When the definition was gone and such a drop had marked
 *   it, or Redis lost every definition (restarted empty, failed over to an empty replica, flushed), the
 *   call fails and deletes the items it had just written, so that no hash of an index that no longer
 *   exists is left to resurface if an index of that name is created later; when the index was dropped
 *   without delete_items, the items it wrote are left as that drop leaves the others.
 * - A RecordInteractions for an item running at the same time as its DeleteItems can leave the new
 *   interaction behind (its user added to the item's set before the delete read it, its history entry
 *   written after): the interaction then counts as recorded after the delete, as it would had it come
 *   later. This was so before the cluster work too (no WATCH spans the two calls).
 */
import { RedisRoom, type Written } from "./redis-room.js";
import { vectorField, metadataFields, type IndexSpec } from "../../domain/schema.js";
import type { Item, ItemUpdate, ItemUpdateOutcome } from "../../domain/item.js";
import type { KeyedCommand, RedisArg } from "./connection.js";
import { interactionItemId } from "./interaction-codec.js";
import { encodeFieldValue, hashToItem, itemHashArgs } from "./item-codec.js";
import { UPDATE_ITEM_SCRIPT, UPDATE_ITEM_SHA1, updateItemArgs } from "./scripts/update-item.js";
import { REPLACE_ITEM_SCRIPT, REPLACE_ITEM_SHA1 } from "./scripts/replace-item.js";
import { restoreHashArgs } from "./commands/restore-hash.js";
import { encodeElements } from "../../domain/element-type.js";
import { scanKeys } from "./keyspace-scan.js";
import { ID_FIELD } from "./redis-keys.js";
import { aggregateIdsArgs, cursorDelArgs, cursorReadArgs, parseIdPage } from "./commands/ft-aggregate-ids.js";
import { compareIds } from "../../domain/id-order.js";
import type { ExportOptions } from "../vector-store.js";
import { replyArray, replyMap, replyNumber, replyText, type Reply } from "./reply-parsers.js";

export class ItemOperations extends RedisRoom {

  /**
   * Set once Redis refused a RESTORE that the replace script then wrote (#writeItems): items that leave
   * fields out are written with the script from then on, for the life of this store.
   */
  #restoreRefused = false;

  /**
   * Whole-item replace, one key at a time, every item in one pipeline (one write per node, no waiting
   * item by item): an item that sets every field of the schema is one HSET (the hash holds only schema
   * fields, so every old value is overwritten); one that leaves fields out is one RESTORE REPLACE of the
   * whole hash (commands/restore-hash.ts), so the fields it lacks do not survive from an older version,
   * at about an HSET's cost in Redis. Where Redis refuses RESTORE, such an item is one script instead
   * (scripts/replace-item.ts: HDEL of exactly those fields, then HSET, atomically; half again as much
   * work for Redis). The DEL + HSET used before deleted and re-added every document; the MULTI/EXEC
   * block after it cost four commands and a transaction object per item.
   */
  async upsert(index: string, items: readonly Item[], signal?: AbortSignal): Promise<void> {
    const spec = await this.definitions.get(index, signal);
    const optional = metadataFields(spec).map((f) => f.name);
    const restore = !this.#restoreRefused;
    const commands: KeyedCommand[] = items.map((item) => {
      const key = this.keys.item(index, item.id);
      const lacking = optional.filter((name) => item.fields[name] === undefined);
      if (lacking.length === 0) return { key, command: itemHashArgs(spec, item, ["HSET", key]) };
      if (restore) return { key, command: restoreHashArgs(key, itemHashArgs(spec, item)) };
      return { key, command: replaceScriptArgs(spec, item, key, lacking) };
    });
    const replies = await this.checkedAfter(index, commands.map(({ key }) => key), this.#writeItems(spec, items, commands, signal), signal);
    const failed = replies.find((reply): reply is Error => reply instanceof Error);
    if (failed !== undefined) throw failed;
  }

  /**
   * `commands` (upsert's, one per item of `items`) in one pipeline. A RESTORE that failed is sent again
   * as the replace script, in a second pipeline: Redis may refuse RESTORE in ways no list can foresee
   * (NOPERM from an ACL without @dangerous, a renamed or disabled command, a managed service's own
   * wording, a payload it cannot read), and a refused RESTORE wrote nothing. When the script then
   * succeeds where RESTORE failed, this store keeps to the script from then on; when it fails too
   * (Redis out of memory, a node gone), its error is the item's.
   */
  async #writeItems(spec: IndexSpec, items: readonly Item[], commands: readonly KeyedCommand[], signal?: AbortSignal): Promise<Written> {
    const first = await this.#pipelineScripts(commands, signal);
    const { replies } = first;
    const failed: number[] = [];
    replies.forEach((reply, i) => {
      if (reply instanceof Error && commands[i]!.command[0] === "RESTORE") failed.push(i);
    });
    if (failed.length === 0) return first;
    const optional = metadataFields(spec).map((f) => f.name);
    const again = await this.#pipelineScripts(
      failed.map((i) => {
        const { key } = commands[i]!;
        const item = items[i]!;
        return { key, command: replaceScriptArgs(spec, item, key, optional.filter((name) => item.fields[name] === undefined)) };
      }),
      signal,
    );
    if (again.replies.some((reply) => !(reply instanceof Error))) this.#restoreRefused = true;
    failed.forEach((i, j) => (replies[i] = again.replies[j]));
    return { replies, resent: true };
  }

  /**
   * One script per item (scripts/update-item.ts), all in one pipeline (a second only for the nodes that
   * did not know the script yet), with the index confirmed after them as for upsert (RedisRoom.checkedAfter).
   */
  async updateItems(
    index: string,
    updates: readonly ItemUpdate[],
    createMissing: boolean,
    signal?: AbortSignal,
  ): Promise<ItemUpdateOutcome[]> {
    const spec = await this.definitions.get(index, signal);
    const vector = vectorField(spec);
    const commands = updates.map((update): KeyedCommand => {
      const key = this.keys.item(index, update.id);
      const pairs: (string | Buffer)[] = [ID_FIELD, update.id];
      // In the index's element type, as upsert writes it (item-codec.ts).
      if (update.vector !== undefined) pairs.push(vector.name, encodeElements(vector.elementType, update.vector));
      for (const [name, value] of Object.entries(update.set)) {
        pairs.push(name, encodeFieldValue(spec.fields.find((f) => f.name === name), value));
      }
      const args = updateItemArgs(createMissing && update.vector !== undefined, pairs, update.remove);
      return { key, command: ["EVALSHA", UPDATE_ITEM_SHA1, "1", key, ...args] };
    });
    const replies = await this.checkedAfter(index, commands.map(({ key }) => key), this.#pipelineScripts(commands, signal), signal);
    return replies.map((reply) => {
      if (reply instanceof Error) throw reply;
      const code = replyNumber(reply);
      return code === 1 ? "updated" : code === 2 ? "created" : "missing";
    });
  }

  /**
   * `commands` in one pipeline; those that were EVALSHA of a script the node did not know yet (NOSCRIPT:
   * a node that restarted, or was added, since) are sent again as EVAL, in a second pipeline.
   */
  async #pipelineScripts(commands: readonly KeyedCommand[], signal?: AbortSignal): Promise<Written> {
    const replies = await this.connection.pipeline(commands, signal);
    const unknown: number[] = [];
    replies.forEach((reply, i) => {
      if (reply instanceof Error && reply.message.startsWith("NOSCRIPT")) unknown.push(i);
    });
    if (unknown.length === 0) return { replies, resent: false };
    const again = await this.connection.pipeline(
      unknown.map((i) => {
        const { key, command } = commands[i] as KeyedCommand;
        return { key, command: ["EVAL", scriptOf(command[1]), ...command.slice(2)] };
      }),
      signal,
    );
    unknown.forEach((i, j) => (replies[i] = again[j]));
    return { replies, resent: true };
  }

  async getItems(
    index: string,
    ids: readonly string[],
    options: { includeVectors: boolean; readonly signal?: AbortSignal },
  ): Promise<(Item | undefined)[]> {
    const spec = await this.definitions.get(index, options.signal);
    const vector = vectorField(spec);
    const wanted = [ID_FIELD, ...metadataFields(spec).map((f) => f.name)];
    if (options.includeVectors) wanted.push(vector.name);
    // One round trip: every HMGET is issued in the same tick.
    const replies = await Promise.all(
      ids.map((id) => {
        const key = this.keys.item(index, id);
        return this.send(["HMGET", key, ...wanted], key, options.signal);
      }),
    );
    return replies.map((reply, i) => {
      const values = replyArray(reply);
      if (values[0] === null || values[0] === undefined) return undefined;
      const hash = new Map<string, Reply>();
      wanted.forEach((field, j) => {
        const value = values[j];
        if (value !== null && value !== undefined) hash.set(field, value);
      });
      return hashToItem(spec, ids[i] as string, hash, { includeVector: options.includeVectors });
    });
  }

  async deleteItems(index: string, ids: readonly string[], signal?: AbortSignal): Promise<number> {
    await this.definitions.get(index, signal);
    const unique = [...new Set(ids)];
    const keys = this.keys;
    // Round trip 1: who interacted with these items.
    const userSets = await Promise.all(
      unique.map((id) => this.send(["SMEMBERS", keys.itemUsers(index, id)], keys.itemUsers(index, id), signal)),
    );
    const users = new Set<string>();
    userSets.forEach((reply) => replyArray(reply).map(replyText).forEach((u) => users.add(u)));
    // Round trip 2 (only when there are interactions): their histories, to find the items' entries.
    const deleted = new Set(unique);
    const userList = [...users].filter((u) => !deleted.has(u)); // a deleted item's own history goes whole
    const histories = await Promise.all(
      userList.map((u) => this.send(["ZRANGE", keys.interactions(index, u), "0", "-1"], keys.interactions(index, u), signal)),
    );
    // Round trip 3: the items, their own histories (users are items too), their entries elsewhere.
    const itemDeletes = unique.map((id) => this.send(["DEL", keys.item(index, id)], keys.item(index, id), signal));
    const others: Promise<Reply>[] = unique.map((id) =>
      this.send(["DEL", keys.interactions(index, id)], keys.interactions(index, id), signal),
    );
    userList.forEach((u, i) => {
      const stale = replyArray(histories[i] ?? [])
        .map(replyText)
        .filter((member) => deleted.has(interactionItemId(member)));
      const key = keys.interactions(index, u);
      if (stale.length > 0) others.push(this.send(["ZREM", key, ...stale], key, signal));
    });
    const [existed] = await Promise.all([settleAll(itemDeletes), settleAll(others)]);
    // Round trip 4: the sets of users, last, so that a delete stopped earlier can be repeated.
    await settleAll(unique.map((id) => this.send(["DEL", keys.itemUsers(index, id)], keys.itemUsers(index, id), signal)));
    return existed.reduce<number>((sum, reply) => sum + replyNumber(reply), 0);
  }

  /**
   * ExportItems: ids sorted by Redis one page at a time (commands/ft-aggregate-ids.ts), then the page's
   * items read with HMGET (one key each, like getItems). A resumed walk skips the ids up to `afterId`.
   * The cursor is deleted when the walk stops early (a cancelled call, a failed read).
   */
  async *exportItems(index: string, options: ExportOptions): AsyncGenerator<Item[], void, undefined> {
    const { afterId, signal } = options;
    await this.definitions.get(index, signal);
    const first = aggregateIdsArgs(this.keys, index, options.filter, Math.max(1, options.batchSize));
    if (first === undefined) return;
    const route = this.keys.ftIndex(index);
    let cursor = "0";
    let reply = await this.connection.send(first, { key: route, signal });
    try {
      for (;;) {
        const page = parseIdPage(reply);
        cursor = page.cursor;
        const ids = afterId === undefined ? page.ids : page.ids.filter((id) => compareIds(id, afterId) > 0);
        if (ids.length > 0) {
          const items = (await this.getItems(index, ids, { includeVectors: true })).filter((i): i is Item => i !== undefined);
          if (items.length > 0) yield items;
        }
        if (cursor === "0") return;
        reply = await this.connection.send(cursorReadArgs(this.keys, index, cursor), { key: route, signal });
      }
    } finally {
      if (cursor !== "0") {
        await this.connection.send(cursorDelArgs(this.keys, index, cursor), { key: route }).catch(() => undefined);
      }
    }
  }

  /** Every item in batches of `batchSize`, SCANning every primary; an id SCAN returns twice is yielded once. */
  async *scanItems(index: string, batchSize: number, signal?: AbortSignal): AsyncIterable<Item[]> {
    const spec = await this.definitions.read(index, signal);
    if (spec === undefined) throw await this.definitions.notFound(index, signal);
    const seen = new Set<string>();
    let pending: Item[] = [];
    const size = Math.max(1, batchSize);
    for await (const found of scanKeys(this.connection, this.keys.itemPattern(index), Math.max(size, 100), signal)) {
      const hashes = await Promise.all(found.map((key) => this.send(["HGETALL", key], key, signal)));
      for (const raw of hashes) {
        const hash = replyMap(raw);
        const idValue = hash.get(ID_FIELD);
        if (idValue === undefined) continue; // deleted meanwhile
        const id = replyText(idValue);
        if (seen.has(id)) continue;
        seen.add(id);
        pending.push(hashToItem(spec, id, hash, { includeVector: true }));
      }
      while (pending.length >= size) {
        yield pending.slice(0, size);
        pending = pending.slice(size);
      }
    }
    if (pending.length > 0) yield pending;
  }
}

/** The replace script's command for `item`, which lacks the schema fields `lacking` (scripts/replace-item.ts). */
function replaceScriptArgs(spec: IndexSpec, item: Item, key: RedisArg, lacking: readonly string[]): RedisArg[] {
  return itemHashArgs(spec, item, ["EVALSHA", REPLACE_ITEM_SHA1, "1", key, String(lacking.length), ...lacking]);
}

/** The source of the script an EVALSHA names (every script this room sends by its SHA1). */
function scriptOf(sha1: RedisArg | undefined): string {
  if (sha1 === REPLACE_ITEM_SHA1) return REPLACE_ITEM_SCRIPT;
  if (sha1 === UPDATE_ITEM_SHA1) return UPDATE_ITEM_SCRIPT;
  throw new TypeError(`no script is known by the SHA1 ${String(sha1)}`);
}

/**
 * Waits for every promise (so that no command is still in flight when the call answers) and then
 * throws the first failure, or returns the values.
 */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
