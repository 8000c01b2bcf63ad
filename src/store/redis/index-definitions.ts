/**
 * The index definitions: one hash `<prefix>indexes` (field = index name, value = the JSON IndexSpec,
 * interests included, which FT.INFO cannot tell back), shared by every vecrec replica. One key, so
 * every command on it is cluster-safe. A replica reuses a definition it read for `cacheMs`; its own
 * changes refresh its copy at once, another replica's are seen within `cacheMs`. Every outage of the
 * connection (a reconnect, a failover, a frozen or LOADING Redis: whatever made it unavailable) drops
 * every cached definition, since the Redis that answers next may have lost them.
 *
 * Writes never acknowledge into a vanished index: `confirmWritten` reads the definition (one command on
 * this one key, so cluster-safe) once the write's own commands were carried out, and the write fails
 * when it is gone. Why not something stronger: the definition and the items live in different hash
 * slots, so no MULTI or script can hold both (a script on the item key cannot see the definitions hash
 * on a cluster). What it cannot prevent is the write itself landing when the definition vanished at
 * that very moment: the call then fails (nothing is acknowledged), and deletes what it wrote when Redis
 * lost every definition.
 *
 * A DropIndex with delete_items sweeps the items page by page (index-operations.ts), so a write racing
 * it could land behind the sweep and leave items no index owns, which an index created later under the
 * same name would take in. So the writes check their index after their commands were carried out
 * (`confirmWritten`: HMGET of the definition and of the drop's mark, one command on this one key; sent
 * in the same tick behind them on a standalone server, whose one connection makes Redis run it after
 * them, and once they answered on a cluster), and such a drop
 * - first marks the index in this same hash (field `~dropped:<name>`, value the time in ms; `~` starts
 *   no index name), then sweeps, deletes the definition, and sweeps again. A check that finds the
 *   definition ran before it was deleted, so the writes landed before the second sweep, which deletes
 *   them: the write is acknowledged (it came before the drop). A check that finds no definition but
 *   the mark fails the call, which deletes what it wrote (IndexDroppedError); one that finds neither
 *   (a drop without delete_items, which keeps the items) fails and leaves them. A mark beside a
 *   definition (a drop under way, or one that failed half-way) stops nothing.
 * - The mark reads `dropping:<ms>` while the drop runs (refreshed before its second sweep) and
 *   `dropped:<ms>` once it is over. It stays after the drop (a write racing it may check later);
 *   creating the index again clears it in the script that claims the name, which refuses while the
 *   mark says a drop runs (its last sweep would delete the new index's items), unless that mark is
 *   older than DROP_LEASE_MS (a drop that died: repeating the DropIndex finishes it). A drop prunes the
 *   marks older than DROPPED_MARK_KEPT_MS, each only if unchanged since it read them (a script).
 * Behind a proxy that spreads one connection's commands over shards (a single endpoint in front of a
 * sharded database), the check may run before writes on other shards: there a write racing such a drop
 * can still leave its items.
 */
import { IndexNotFoundError, UnavailableError } from "../../domain/errors.js";
import type { IndexSpec } from "../../domain/schema.js";
import type { RedisConnection } from "./connection.js";
import type { RedisKeys } from "./redis-keys.js";
import { ErrorReply } from "redis";
import { CLAIM_INDEX_SCRIPT } from "./scripts/claim-index.js";
import { PRUNE_MARKS_SCRIPT } from "./scripts/prune-marks.js";
import { REPLACE_DEFINITION_SCRIPT } from "./scripts/replace-definition.js";
import { replyArray, replyEntries, replyNumber, replyText } from "./reply-parsers.js";

/**
 * The index does not exist because Redis lost every vecrec index definition: the definitions hash,
 * which this process had read, is gone entirely (Redis restarted without its data, failed over to an
 * empty replica, or was flushed). NOT_FOUND like any unknown index, with the cause in the message.
 */
export class IndexVanishedError extends IndexNotFoundError {
  readonly lostEveryDefinition = true;
  constructor(indexName: string, definitionsKey: string, options?: ErrorOptions) {
    super(indexName, options);
    this.name = "IndexVanishedError";
    this.message =
      `index "${indexName}" does not exist: Redis has lost every vecrec index definition (the hash ` +
      `${definitionsKey}, which this vecrec had read, is gone), so it probably restarted without its data, ` +
      `failed over to an empty replica, or was flushed; create the index again (Index) and upsert its items again`;
  }
}

/**
 * The index was dropped with its items (DropIndex delete_items) while a write ran (its definition is
 * gone, the drop's mark is there): NOT_FOUND; the write deletes what it wrote (see the header).
 */
export class IndexDroppedError extends IndexNotFoundError {
  constructor(indexName: string) {
    super(indexName);
    this.name = "IndexDroppedError";
    this.message = `index "${indexName}" does not exist: it was dropped with its items while this write ran (what the write stored was deleted)`;
  }
}

/** The field of the definitions hash marking a drop with delete_items of index `name` (see the header). */
export function droppedMark(name: string): string {
  return `~dropped:${name}`;
}

const DROPPED_MARK_PREFIX = droppedMark("");

/**
 * The field of the definitions hash marking that index `name`'s items wait for their interests to be
 * recomputed (its value: the tag field to rewrite), written with the definition by setInterests and
 * deleted once the recompute finished: one left behind (a crash) tells the next start to finish it.
 */
export function recomputeMark(name: string): string {
  return `~recompute:${name}`;
}

const RECOMPUTE_MARK_PREFIX = recomputeMark("");

/** The field that keeps the definitions hash once its last index is dropped (see delete). */
const KEEP_FIELD = "~keep";

/** Whether a field of the definitions hash is a mark (drop, recompute, keep) rather than a definition (index names start with a letter). */
function isMark(field: string): boolean {
  return field.startsWith("~");
}

/** How long a `dropping:` mark holds off a new index of that name: longer than any sweep between refreshes. */
export const DROP_LEASE_MS = 15 * 60 * 1000;

/** The state a drop mark's value tells (see the header); undefined without a mark. */
export type DropState = "running" | "died" | "over";

function dropStateOf(value: string | undefined, now: number): DropState | undefined {
  if (value === undefined) return undefined;
  if (!value.startsWith("dropping:")) return "over";
  return now - markTime(value) < DROP_LEASE_MS ? "running" : "died";
}

/** The time in a mark's value (`dropping:<ms>`, `dropped:<ms>`). */
function markTime(value: string): number {
  return Number(value.slice(value.indexOf(":") + 1));
}

/** A refused claim: a DropIndex with delete_items of that name is running. UNAVAILABLE: retry later. */
export class IndexBeingDroppedError extends UnavailableError {
  constructor(indexName: string) {
    super(`index "${indexName}" is being dropped (a DropIndex with delete_items is under way); create it again once that drop has answered`);
    this.name = "IndexBeingDroppedError";
  }
}

/** How long a drop's mark is kept at least: a write racing the drop checks well within that. */
export const DROPPED_MARK_KEPT_MS = 60 * 60 * 1000;

interface CachedSpec {
  readonly spec: IndexSpec;
  readonly until: number;
}

export class IndexDefinitions {
  readonly #connection: RedisConnection;
  readonly #key: string;
  readonly #aliasesKey: string;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, CachedSpec>();
  /** Whether this process has seen the definitions hash holding something (see IndexVanishedError). */
  #seen = false;

  constructor(connection: RedisConnection, keys: RedisKeys, cacheMs: number) {
    this.#connection = connection;
    this.#key = keys.definitions;
    this.#aliasesKey = keys.aliases;
    this.#cacheMs = cacheMs;
    connection.onAvailabilityChange((available) => {
      if (!available) this.#cache.clear();
    });
  }

  #send(command: string[], signal?: AbortSignal) {
    return this.#connection.send(command, { key: this.#key, signal });
  }

  /** The stored definition of `name` (read now), undefined when there is none. */
  async read(name: string, signal?: AbortSignal): Promise<IndexSpec | undefined> {
    const raw = await this.#send(["HGET", this.#key, name], signal);
    if (raw === null || raw === undefined) {
      this.#cache.delete(name);
      return undefined;
    }
    const spec = JSON.parse(replyText(raw)) as IndexSpec;
    this.remember(spec);
    return spec;
  }

  /**
   * The definition of index `name`, or of the index alias `name` points to (read now: see the header);
   * index definitions possibly cached for cacheMs.
   * @throws IndexNotFoundError (IndexVanishedError)
   */
  async get(name: string, signal?: AbortSignal): Promise<IndexSpec> {
    const cached = this.#cache.get(name);
    if (cached !== undefined && cached.until > Date.now()) return cached.spec;
    const [spec, target] = await Promise.all([this.read(name, signal), this.aliasTarget(name, signal)]);
    if (spec !== undefined) return spec;
    if (target !== undefined) {
      const cachedTarget = this.#cache.get(target);
      if (cachedTarget !== undefined && cachedTarget.until > Date.now()) return cachedTarget.spec;
      const targetSpec = await this.read(target, signal);
      // An alias left pointing to a missing index (its drop raced the alias's creation): not found.
      if (targetSpec !== undefined) return targetSpec;
    }
    throw await this.notFound(name, signal);
  }

  /** The index alias `alias` points to (read now, never cached), undefined when it is no alias. */
  async aliasTarget(alias: string, signal?: AbortSignal): Promise<string | undefined> {
    const raw = await this.#connection.send(["HGET", this.#aliasesKey, alias], { key: this.#aliasesKey, signal });
    return raw === null || raw === undefined ? undefined : replyText(raw);
  }

  /** Every alias → index name (read now). */
  async aliasTable(signal?: AbortSignal): Promise<Map<string, string>> {
    const entries = replyEntries(await this.#connection.send(["HGETALL", this.#aliasesKey], { key: this.#aliasesKey, signal }));
    return new Map(entries.map(([alias, target]) => [replyText(alias), replyText(target)]));
  }

  /**
   * Points `alias` at `next` only while it still points at `expected` (undefined `next`: deletes it),
   * atomically on the aliases hash (scripts/replace-definition.ts and scripts/prune-marks.ts are
   * compare-and-set and compare-and-delete of a hash field); where Redis refuses scripts, read then write.
   */
  async setAliasIf(alias: string, expected: string, next: string | undefined, signal?: AbortSignal): Promise<void> {
    const command =
      next === undefined
        ? ["EVAL", PRUNE_MARKS_SCRIPT, "1", this.#aliasesKey, alias, expected]
        : ["EVAL", REPLACE_DEFINITION_SCRIPT, "1", this.#aliasesKey, alias, expected, next];
    try {
      await this.sendAliases(command, signal);
    } catch (error) {
      if (!(error instanceof ErrorReply)) throw error;
      if ((await this.aliasTarget(alias, signal)) !== expected) return;
      await this.sendAliases(next === undefined ? ["HDEL", this.#aliasesKey, alias] : ["HSET", this.#aliasesKey, alias, next], signal);
    }
  }

  /** Sends a command on the aliases hash (alias-operations.ts writes it through here). */
  sendAliases(command: string[], signal?: AbortSignal) {
    return this.#connection.send(command, { key: this.#aliasesKey, signal });
  }

  get aliasesKey(): string {
    return this.#aliasesKey;
  }

  get definitionsKey(): string {
    return this.#key;
  }

  /**
   * Resolves when the definition of `name` exists; send it after the write's commands were carried out
   * (see the header).
   * @throws IndexDroppedError when it is gone and a drop with delete_items marked it (the caller deletes
   *   what it wrote), else IndexNotFoundError or IndexVanishedError
   */
  async confirmWritten(name: string, signal?: AbortSignal): Promise<void> {
    const [definition, mark] = replyArray(await this.#send(["HMGET", this.#key, name, droppedMark(name)], signal));
    if (definition !== null && definition !== undefined) return;
    this.#cache.delete(name);
    if (mark !== null && mark !== undefined) throw new IndexDroppedError(name);
    throw await this.notFound(name, signal);
  }

  /**
   * Marks `name` as being dropped with its items (`dropping:`, before the sweep and again before the
   * second one, which renews the lease: see the header).
   */
  async markDropping(name: string, signal?: AbortSignal): Promise<void> {
    await this.#send(["HSET", this.#key, droppedMark(name), `dropping:${Date.now()}`], signal);
  }

  /**
   * Removes the drop marks older than DROPPED_MARK_KEPT_MS, but `name`'s (once per drop); each only if
   * it still holds the value read (scripts/prune-marks.ts), so that a mark another drop wrote meanwhile
   * stays. Where Redis refuses scripts, a plain HDEL of those read (that race left open).
   */
  async pruneMarks(name: string, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const stale = replyEntries(await this.#send(["HGETALL", this.#key], signal))
      .map(([field, value]) => [replyText(field), replyText(value)] as const)
      .filter(([field, value]) => field.startsWith(DROPPED_MARK_PREFIX) && field !== droppedMark(name) && now - markTime(value) > DROPPED_MARK_KEPT_MS);
    if (stale.length === 0) return;
    try {
      await this.#send(["EVAL", PRUNE_MARKS_SCRIPT, "1", this.#key, ...stale.flat()], signal);
    } catch (error) {
      if (!(error instanceof ErrorReply)) throw error;
      await this.#send(["HDEL", this.#key, ...stale.map(([field]) => field)], signal);
    }
  }

  /** Marks the drop of `name` with its items as over (`dropped:`): the name may be claimed again. */
  async markDropped(name: string, signal?: AbortSignal): Promise<void> {
    await this.#send(["HSET", this.#key, droppedMark(name), `dropped:${Date.now()}`], signal);
  }

  /** What the drop mark of `name` says (read now), undefined when there is none. */
  async dropState(name: string, signal?: AbortSignal): Promise<DropState | undefined> {
    const raw = await this.#send(["HGET", this.#key, droppedMark(name)], signal);
    return dropStateOf(raw === null || raw === undefined ? undefined : replyText(raw), Date.now());
  }

  /**
   * The error for index `name` found missing: IndexVanishedError when the whole definitions hash is
   * gone although this process had read it, else IndexNotFoundError.
   */
  async notFound(name: string, signal?: AbortSignal): Promise<IndexNotFoundError> {
    if (!this.#seen) return new IndexNotFoundError(name);
    try {
      if (replyNumber(await this.#send(["EXISTS", this.#key], signal)) === 0) return new IndexVanishedError(name, this.#key);
    } catch {
      // the plain answer below
    }
    return new IndexNotFoundError(name);
  }

  /** Whether the definitions hash is gone although this process had seen it (Redis lost its data). */
  async lostEveryDefinition(): Promise<boolean> {
    return this.#seen && replyNumber(await this.#send(["EXISTS", this.#key])) === 0;
  }

  /** Every definition, sorted by name. */
  async all(signal?: AbortSignal): Promise<IndexSpec[]> {
    const entries = replyEntries(await this.#send(["HGETALL", this.#key], signal));
    const specs = entries
      .filter(([field]) => !isMark(replyText(field)))
      .map(([, json]) => JSON.parse(replyText(json)) as IndexSpec)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    specs.forEach((spec) => this.remember(spec));
    return specs;
  }

  /**
   * Stores `spec` unless a definition of that name exists (HSETNX); true when it was stored. Storing it
   * removes the mark of an earlier drop with delete_items in the same script (see the header).
   * @throws IndexBeingDroppedError while the mark says such a drop of that name runs
   */
  async claim(spec: IndexSpec, signal?: AbortSignal): Promise<boolean> {
    const json = JSON.stringify(spec);
    const mark = droppedMark(spec.name);
    const now = Date.now();
    let claimed: number;
    try {
      claimed = replyNumber(
        await this.#send(["EVAL", CLAIM_INDEX_SCRIPT, "1", this.#key, spec.name, json, mark, String(now), String(DROP_LEASE_MS), recomputeMark(spec.name)], signal),
      );
    } catch (error) {
      // Redis refused the script (an ACL without @scripting, scripts disabled): the same commands one
      // after the other (stopped in between, the mark stays beside the definition, where it stops
      // nothing; it matters only once the index is dropped without delete_items, until it is pruned).
      if (!(error instanceof ErrorReply)) throw error;
      if ((await this.dropState(spec.name, signal)) === "running") throw new IndexBeingDroppedError(spec.name);
      claimed = replyNumber(await this.#send(["HSETNX", this.#key, spec.name, json], signal));
      if (claimed === 1) await this.#send(["HDEL", this.#key, mark, recomputeMark(spec.name)]); // not cut short by the call's signal
    }
    if (claimed === -1) throw new IndexBeingDroppedError(spec.name);
    return claimed === 1;
  }

  /**
   * Stores `spec`, replacing the definition of that name; with `recomputeTagField`, marks its items as
   * waiting for their interests to be recomputed into that field, in the same command.
   */
  async write(spec: IndexSpec, signal?: AbortSignal, recomputeTagField?: string): Promise<void> {
    const command = ["HSET", this.#key, spec.name, JSON.stringify(spec)];
    if (recomputeTagField !== undefined) command.push(recomputeMark(spec.name), recomputeTagField);
    await this.#send(command, signal);
    this.remember(spec);
  }

  /** The definition of `name` as stored (JSON), undefined when there is none. */
  async readStored(name: string, signal?: AbortSignal): Promise<string | undefined> {
    const raw = await this.#send(["HGET", this.#key, name], signal);
    return raw === null || raw === undefined ? undefined : replyText(raw);
  }

  /**
   * Stores `spec` in place of the definition `stored` (as readStored gave it), only if that is still
   * the one stored (scripts/replace-definition.ts); with `recomputeTagField`, marks the recompute in the
   * same step. False when it was not (dropped or changed meanwhile). Where Redis refuses scripts, a
   * plain HSET (that race left open).
   */
  async replace(stored: string, spec: IndexSpec, signal?: AbortSignal, recomputeTagField?: string): Promise<boolean> {
    const args = [spec.name, stored, JSON.stringify(spec), ...(recomputeTagField === undefined ? [] : [recomputeMark(spec.name), recomputeTagField])];
    let replaced: boolean;
    try {
      replaced = replyNumber(await this.#send(["EVAL", REPLACE_DEFINITION_SCRIPT, "1", this.#key, ...args], signal)) === 1;
    } catch (error) {
      if (!(error instanceof ErrorReply)) throw error;
      await this.write(spec, signal, recomputeTagField);
      return true;
    }
    if (replaced) this.remember(spec);
    else this.#cache.delete(spec.name);
    return replaced;
  }

  /** Deletes the recompute mark of `name` (its recompute finished). */
  async clearRecompute(name: string, signal?: AbortSignal): Promise<void> {
    await this.#send(["HDEL", this.#key, recomputeMark(name)], signal);
  }

  /** The recompute marks: index name -> tag field. */
  async pendingRecomputes(signal?: AbortSignal): Promise<Map<string, string>> {
    const pending = new Map<string, string>();
    for (const [field, value] of replyEntries(await this.#send(["HGETALL", this.#key], signal))) {
      const name = replyText(field);
      if (name.startsWith(RECOMPUTE_MARK_PREFIX)) pending.set(name.slice(RECOMPUTE_MARK_PREFIX.length), replyText(value));
    }
    return pending;
  }

  /**
   * Deletes the definition of `name`, and the mark of a recompute it left unfinished (see
   * recomputeMark). The hash first gets KEEP_FIELD, so that dropping the last index does not delete it:
   * a definitions hash found gone then means Redis lost its data (notFound, IndexVanishedError), not a
   * drop (whose racing writes would otherwise delete what they wrote, and every NOT_FOUND after it
   * would blame Redis).
   */
  async delete(name: string, signal?: AbortSignal): Promise<void> {
    await this.#send(["HSET", this.#key, KEEP_FIELD, "1"], signal);
    await this.#send(["HDEL", this.#key, name, recomputeMark(name)], signal);
    this.#cache.delete(name);
  }

  /** Drops this replica's copy of `name` (found missing by some call): the next get reads Redis. */
  forget(name: string): void {
    this.#cache.delete(name);
  }

  remember(spec: IndexSpec): void {
    this.#seen = true;
    this.#cache.set(spec.name, { spec, until: Date.now() + this.#cacheMs });
  }
}
