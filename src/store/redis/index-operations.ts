/**
 * Index operations on Redis: the definition (index-definitions.ts) and the FT index behind it, kept in
 * step. The definition is claimed first (HSETNX on one key), so two replicas creating the same index
 * agree on one winner; the FT index follows. A definition whose FT index is missing (dropped by hand,
 * or lost with a shard's data) is repaired by recreating the FT index, which then scans the stored
 * items in the background: such an index is remembered in `rebuilding` until FT.INFO says the scan is
 * over, and searches fail with UnavailableError meanwhile rather than answer from part of the items.
 * A new FT index skips Redis's scan of the keyspace unless items are already stored under its prefix
 * (createIndex, #indexStoredItems).
 *
 * Every command is bounded by the call's signal (`signal` of each method): a call that ends stops
 * sending. What was sent stays: a create stopped after its claim leaves a definition whose FT index the
 * next call repairs, a drop stopped part-way can be repeated, an interests change stopped between
 * FT.ALTER and HSET is tolerated as below. Clean-ups of a failed create are sent whatever the signal.
 *
 * Cluster: FT.CREATE/ALTER/DROPINDEX go to any node, whose coordinator applies them on every shard;
 * FT.INFO is the coordinator's sum; a drop's sweep of the items SCANs every primary.
 */
import { RedisRoom } from "./redis-room.js";
import { aliasesOf, dropAliasedIndex, dropThroughAlias, indexNamedLikeAlias } from "../../domain/alias.js";
import { AlreadyExistsError, UnavailableError } from "../../domain/errors.js";
import { interestTagField, specsEqual } from "../../domain/index-spec.js";
import type { IndexInfo, IndexSpec, InterestSpec } from "../../domain/schema.js";
import type { CreateIndexResult } from "../vector-store.js";
import { ftAliasDelArgs } from "./commands/ft-alias.js";
import { alterAddFieldArgs } from "./commands/ft-alter.js";
import { createIndexArgs } from "./commands/ft-create.js";
import { ftDropIndexArgs } from "./commands/ft-dropindex.js";
import { ftInfoArgs, parseInfoReply, type FtInfo } from "./commands/ft-info.js";
import { anyMatching, deleteMatching } from "./keyspace-scan.js";
import { isDuplicateFieldError, isIndexExistsError, isUnknownIndexError } from "./redis-errors.js";
import type { Reply } from "./reply-parsers.js";

/** How long createIndex looks for stored items of a new index before leaving it to Redis's scan, ms. */
export const STORED_ITEMS_LOOK_MS = 1000;

export class IndexOperations extends RedisRoom {
  /** Indexes whose FT index this store recreated over stored items, until their scan is over. */
  readonly #rebuilding = new Set<string>();

  /** Creates the FT index of `spec` unless it exists (repairs a definition left without one). */
  async ensureFtIndex(spec: IndexSpec, signal?: AbortSignal): Promise<void> {
    try {
      await this.send(createIndexArgs(this.keys, spec), undefined, signal);
    } catch (error) {
      if (!isIndexExistsError(error)) throw error;
      return;
    }
    // The definition read before may have been deleted by a drop since: then the FT index just
    // created would outlive it, and no call could drop it (DropIndex answers NOT_FOUND).
    if ((await this.definitions.read(spec.name, signal)) === undefined) {
      await this.#dropFtIndex(spec.name, signal);
      throw await this.definitions.notFound(spec.name, signal);
    }
    this.#rebuilding.add(spec.name);
  }

  /**
   * @throws UnavailableError while the FT index that ensureFtIndex recreated for `name` is still
   *   scanning the stored items: a search would answer from part of them, with nothing to tell.
   */
  async throwIfRebuilding(name: string, signal?: AbortSignal): Promise<void> {
    if (!this.#rebuilding.has(name)) return;
    let info: FtInfo;
    try {
      info = parseInfoReply(await this.send(ftInfoArgs(this.keys, name), undefined, signal));
    } catch (error) {
      if (isUnknownIndexError(error)) return; // dropped again: the search repairs or reports it
      throw error;
    }
    if (!info.indexing) {
      this.#rebuilding.delete(name);
      return;
    }
    throw new UnavailableError(
      `the Redis search index of "${name}" was missing and is being rebuilt from its stored items ` +
        `(${Math.floor(info.percentIndexed * 100)}% done); retry shortly`,
    );
  }

  async createIndex(spec: IndexSpec, signal?: AbortSignal): Promise<CreateIndexResult> {
    // Indexes and aliases share one namespace (domain/alias.ts). Two hashes, so not atomic with the
    // claim: an alias created on another replica in between would be refused by its own check of the
    // definitions hash only if it comes after this claim (alias-operations.ts).
    const aliased = await this.definitions.aliasTarget(spec.name, signal);
    if (aliased !== undefined) throw indexNamedLikeAlias(spec.name, aliased);
    if (!(await this.definitions.claim(spec, signal))) {
      const existing = await this.definitions.read(spec.name, signal);
      if (existing === undefined) return await this.createIndex(spec, signal); // dropped in between
      if (!specsEqual(existing, spec)) {
        throw new AlreadyExistsError(`index "${spec.name}" already exists with another definition`);
      }
      await this.ensureFtIndex(existing, signal);
      return { created: false, info: await this.getIndex(spec.name, signal) };
    }
    try {
      await this.send(createIndexArgs(this.keys, spec, { skipInitialScan: true }), undefined, signal);
      await this.#indexStoredItems(spec, signal);
    } catch (error) {
      if (!isIndexExistsError(error)) {
        await this.definitions.delete(spec.name).catch(() => undefined);
        throw error;
      }
      // An FT index without a definition: left by a create that died half-way. Rebuild it from this
      // spec (the hashes are kept).
      await this.#recreateWithScan(spec, signal);
    }
    this.definitions.remember(spec);
    return { created: true, info: await this.getIndex(spec.name, signal) };
  }

  /**
   * A new FT index is created with SKIPINITIALSCAN, then this looks for items already stored under its
   * prefix (kept by a DropIndex without delete_items, or written by an Upsert on another replica between
   * the claim and FT.CREATE) and, only when there are some, creates the FT index again without it, so
   * that Redis's scan indexes them.
   *
   * Why not let Redis scan every time: its scan visits every key of the database at about 20 µs a key
   * (50,000 unrelated keys: 1 s standalone, 0.6 s on three shards), holding Redis's lock in turns, and
   * indexes again every item it meets that an Upsert wrote meanwhile. Loading an HNSW index right after
   * creating it in a database holding 50,000 other items indexed 45,000 of the 50,000 new items twice
   * (max_doc_id 95,184 for num_docs 50,000), and every other query on that server ran about 10x slower
   * for the ~20 s the scan lasted (a 50k FLAT KNN: 15.6 ms against 1.5). SCAN with MATCH walks the same
   * keys at about 0.1-0.2 µs each.
   *
   * The look stops after STORED_ITEMS_LOOK_MS (a keyspace of several million keys); the FT index is then
   * created again without the option, as when items are found.
   *
   * When the look cannot finish (the call ends, Redis fails) the create fails as a failed FT.CREATE does:
   * the FT index is dropped here and the definition deleted by createIndex, both best effort, so that
   * nothing is left that would hide stored items (an FT index left without a definition is created again
   * with the scan by the next createIndex; only if both clean-ups fail does an index that skipped the
   * scan stay behind).
   */
  async #indexStoredItems(spec: IndexSpec, signal?: AbortSignal): Promise<void> {
    let stored: boolean | undefined;
    try {
      stored = await anyMatching(this.connection, this.keys.itemPattern(spec.name), { signal, giveUpAfterMs: STORED_ITEMS_LOOK_MS });
    } catch (error) {
      await this.send(ftDropIndexArgs(this.keys, spec.name, { deleteDocuments: false })).catch(() => undefined);
      throw error;
    }
    // Unknown (a keyspace too large to walk within the look's time): Redis's scan, as before.
    if (stored === false) return;
    await this.#recreateWithScan(spec, signal);
  }

  /**
   * Drops the FT index of `spec` (its hashes kept) and creates it again with Redis's scan of the stored
   * items. Tolerates a concurrent repair: the FT index already gone when dropped, or created again (by a
   * search's ensureFtIndex, which scans too) before this creates it.
   */
  async #recreateWithScan(spec: IndexSpec, signal?: AbortSignal): Promise<void> {
    await this.#dropFtIndex(spec.name, signal);
    try {
      await this.send(createIndexArgs(this.keys, spec), undefined, signal);
    } catch (error) {
      if (!isIndexExistsError(error)) throw error;
    }
  }

  async getIndex(name: string, signal?: AbortSignal): Promise<IndexInfo> {
    const [specReply, infoReply, aliasReply] = await Promise.allSettled([
      this.definitions.read(name, signal),
      this.send(ftInfoArgs(this.keys, name), undefined, signal),
      this.definitions.aliasTable(signal),
    ]);
    if (specReply.status === "rejected") throw specReply.reason;
    if (aliasReply.status === "rejected") throw aliasReply.reason;
    if (specReply.value === undefined) throw await this.definitions.notFound(name, signal);
    return await this.#indexInfo(specReply.value, infoReply, aliasReply.value, signal);
  }

  async listIndexes(signal?: AbortSignal): Promise<IndexInfo[]> {
    const [specs, aliases] = await Promise.all([this.definitions.all(signal), this.definitions.aliasTable(signal)]);
    // One round trip for every FT.INFO.
    const infos = await Promise.allSettled(specs.map((spec) => this.send(ftInfoArgs(this.keys, spec.name), undefined, signal)));
    return await Promise.all(specs.map((spec, i) => this.#indexInfo(spec, infos[i] as PromiseSettledResult<Reply>, aliases, signal)));
  }

  /** FT.INFO of `spec`, recreating the FT index first when only the definition survived. */
  async #indexInfo(
    spec: IndexSpec,
    infoReply: PromiseSettledResult<Reply>,
    aliases: ReadonlyMap<string, string>,
    signal?: AbortSignal,
  ): Promise<IndexInfo> {
    const aliasNames = aliasesOf(aliases, spec.name);
    if (infoReply.status === "fulfilled") return toIndexInfo(spec, parseInfoReply(infoReply.value), aliasNames);
    if (!isUnknownIndexError(infoReply.reason)) throw infoReply.reason;
    await this.ensureFtIndex(spec, signal);
    return toIndexInfo(spec, parseInfoReply(await this.send(ftInfoArgs(this.keys, spec.name), undefined, signal)), aliasNames);
  }

  async dropIndex(name: string, options: { deleteItems: boolean; readonly signal?: AbortSignal }): Promise<void> {
    const { signal } = options;
    const [spec, aliases] = await Promise.all([this.definitions.read(name, signal), this.definitions.aliasTable(signal)]);
    const target = aliases.get(name);
    if (target !== undefined) throw dropThroughAlias(name, target);
    if (spec === undefined) {
      // A drop with delete_items that stopped after deleting the definition: this one finishes it.
      const state = options.deleteItems ? await this.definitions.dropState(name, signal) : undefined;
      if (state !== "running" && state !== "died") throw await this.definitions.notFound(name, signal);
      await this.#finishDrop(name, signal);
      return;
    }
    const pointing = aliasesOf(aliases, name);
    if (pointing.length > 0) throw dropAliasedIndex(name, pointing);
    // Marked first, swept twice (index-definitions.ts): a write that finds the definition when it checks
    // landed before the second sweep, one that finds only the mark deletes what it wrote. Cut short,
    // the drop can be repeated: from the start while the definition exists, else the repeat finishes it
    // (above); meanwhile its mark holds off a new index of that name for DROP_LEASE_MS at most.
    if (options.deleteItems) {
      await this.definitions.markDropping(name, signal);
      await this.definitions.pruneMarks(name, signal);
    }
    await this.#dropFtIndex(name, signal);
    if (options.deleteItems) await this.#sweep(name, signal);
    await this.definitions.delete(name, signal);
    this.#rebuilding.delete(name);
    // An alias pointed at the index after the check above (a racing CreateAlias or UpdateAlias whose
    // own check ran before the definition was deleted) goes with it: none is left on a dropped index.
    for (const alias of aliasesOf(await this.definitions.aliasTable(signal), name)) {
      await this.definitions.setAliasIf(alias, name, undefined, signal);
      await this.send(ftAliasDelArgs(this.keys, alias), undefined, signal).catch(() => undefined);
    }
    if (options.deleteItems) await this.#finishDrop(name, signal);
    // A call that read the definition before it was deleted may have recreated the FT index
    // meanwhile (ensureFtIndex repairs a definition found without one): dropped again.
    else await this.#dropFtIndex(name, signal);
  }

  /**
   * The end of a drop with delete_items, once the definition is gone: the mark's lease renewed, the
   * second sweep, the FT index dropped again (a search during the sweep found the definition without
   * its FT index and recreated it: nothing of the index outlives its definition), the mark set to over.
   */
  async #finishDrop(name: string, signal?: AbortSignal): Promise<void> {
    await this.definitions.markDropping(name, signal);
    await this.#sweep(name, signal);
    await this.#dropFtIndex(name, signal);
    await this.definitions.markDropped(name, signal);
  }

  /** Deletes every item, history and item-users key of index `name` (SCAN + UNLINK pages on every primary). */
  async #sweep(name: string, signal?: AbortSignal): Promise<void> {
    // The FT index is dropped without DD, and the hashes are swept here (SCAN on every primary,
    // UNLINK page by page): DD deletes every document inside the one command, which held Redis for
    // about 1.3 µs an item (200,000 FLAT items: 268 ms during which every other client waited;
    // 50,000 FLAT or HNSW: 59-65 ms), where the sweep leaves Redis answering between pages (the same
    // 200,000: redis-cli --latency max 18 ms, the drop 1.5 s in all). DD never reached the hashes that
    // failed to index nor those a background scan had not reached, so the sweep ran after it anyway.
    // One walk of the keyspace for the three kinds of keys (their patterns in turn took three: 1.4 s
    // each over a million other keys on Redis 7.4.1).
    await deleteMatching(this.connection, this.keys.indexDataPattern(name), signal, { keep: (key) => this.keys.isIndexData(name, key) });
  }

  /** FT.DROPINDEX without DD (the hashes stay); an index already gone is fine. */
  async #dropFtIndex(name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.send(ftDropIndexArgs(this.keys, name, { deleteDocuments: false }), undefined, signal);
    } catch (error) {
      if (!isUnknownIndexError(error)) throw error;
    }
  }

  /**
   * Replaces the interests of `name`'s definition (see VectorStore.setInterests). The definition is
   * replaced only if it is still the one read (a drop in between stays a drop: NOT_FOUND), read again
   * when another change came first, a few times.
   */
  async setInterests(name: string, interests: InterestSpec | undefined, signal?: AbortSignal, recomputeTagField?: string): Promise<IndexInfo> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.definitions.readStored(name, signal);
      if (stored === undefined) throw await this.definitions.notFound(name, signal);
      const updated = await this.#withInterests(JSON.parse(stored) as IndexSpec, interests, signal);
      if (await this.definitions.replace(stored, updated, signal, recomputeTagField)) return await this.getIndex(name, signal);
    }
    throw new UnavailableError(`the definition of index "${name}" kept changing while its interests were set: retry`);
  }

  /** `spec` with `interests`, its tag field added to the FT index when new. */
  async #withInterests(spec: IndexSpec, interests: InterestSpec | undefined, signal?: AbortSignal): Promise<IndexSpec> {
    const name = spec.name;
    let fields = spec.fields;
    const newField =
      interests !== undefined && !fields.some((f) => f.name === interests.tagField)
        ? interestTagField(interests.tagField)
        : undefined;
    if (newField !== undefined) fields = [...fields, newField];
    const updated: IndexSpec = interests === undefined ? { name: spec.name, fields } : { name: spec.name, fields, interests };
    if (newField !== undefined) {
      try {
        await this.send(alterAddFieldArgs(this.keys, name, newField), undefined, signal);
      } catch (error) {
        // Definition without FT index: the repair below creates it with the new field. The FT index
        // already has the field: a setInterests that died between FT.ALTER and HSET, or one running
        // on another replica, added it (vecrec adds it only as this tag field).
        if (!isUnknownIndexError(error) && !isDuplicateFieldError(error)) throw error;
      }
    }
    return updated;
  }
}

function toIndexInfo(spec: IndexSpec, info: FtInfo, aliases: readonly string[]): IndexInfo {
  const base: IndexInfo = {
    spec,
    itemCount: info.numDocs,
    indexing: info.indexing,
    indexingProgress: info.percentIndexed,
    indexingFailures: info.hashIndexingFailures,
  };
  return aliases.length === 0 ? base : { ...base, aliases };
}
