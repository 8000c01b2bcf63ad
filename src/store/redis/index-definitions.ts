/**
 * The index definitions: one hash `<prefix>indexes` (field = index name, value = the JSON IndexSpec,
 * interests included, which FT.INFO cannot tell back), shared by every vecrec replica. One key, so
 * every command on it is cluster-safe. A replica reuses a definition it read for `cacheMs`; its own
 * changes refresh its copy at once, another replica's are seen within `cacheMs`.
 */
import { IndexNotFoundError } from "../../domain/errors.js";
import type { IndexSpec } from "../../domain/schema.js";
import type { RedisConnection } from "./connection.js";
import type { RedisKeys } from "./redis-keys.js";
import { replyEntries, replyNumber, replyText } from "./reply-parsers.js";

interface CachedSpec {
  readonly spec: IndexSpec;
  readonly until: number;
}

export class IndexDefinitions {
  readonly #connection: RedisConnection;
  readonly #key: string;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, CachedSpec>();

  constructor(connection: RedisConnection, keys: RedisKeys, cacheMs: number) {
    this.#connection = connection;
    this.#key = keys.definitions;
    this.#cacheMs = cacheMs;
  }

  #send(command: string[]) {
    return this.#connection.send(command, { key: this.#key });
  }

  /** The stored definition of `name` (read now), undefined when there is none. */
  async read(name: string): Promise<IndexSpec | undefined> {
    const raw = await this.#send(["HGET", this.#key, name]);
    if (raw === null || raw === undefined) {
      this.#cache.delete(name);
      return undefined;
    }
    const spec = JSON.parse(replyText(raw)) as IndexSpec;
    this.remember(spec);
    return spec;
  }

  /** The definition of `name`, possibly cached for cacheMs. @throws IndexNotFoundError */
  async get(name: string): Promise<IndexSpec> {
    const cached = this.#cache.get(name);
    if (cached !== undefined && cached.until > Date.now()) return cached.spec;
    const spec = await this.read(name);
    if (spec === undefined) throw new IndexNotFoundError(name);
    return spec;
  }

  /** Every definition, sorted by name. */
  async all(): Promise<IndexSpec[]> {
    const entries = replyEntries(await this.#send(["HGETALL", this.#key]));
    const specs = entries
      .map(([, json]) => JSON.parse(replyText(json)) as IndexSpec)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    specs.forEach((spec) => this.remember(spec));
    return specs;
  }

  /** Stores `spec` unless a definition of that name exists (HSETNX); true when it was stored. */
  async claim(spec: IndexSpec): Promise<boolean> {
    return replyNumber(await this.#send(["HSETNX", this.#key, spec.name, JSON.stringify(spec)])) === 1;
  }

  /** Stores `spec`, replacing the definition of that name. */
  async write(spec: IndexSpec): Promise<void> {
    await this.#send(["HSET", this.#key, spec.name, JSON.stringify(spec)]);
    this.remember(spec);
  }

  async delete(name: string): Promise<void> {
    await this.#send(["HDEL", this.#key, name]);
    this.#cache.delete(name);
  }

  /** Drops this replica's copy of `name` (found missing by some call): the next get reads Redis. */
  forget(name: string): void {
    this.#cache.delete(name);
  }

  remember(spec: IndexSpec): void {
    this.#cache.set(spec.name, { spec, until: Date.now() + this.#cacheMs });
  }
}
