/**
 * The stand-in's single database: hashes, strings, sorted sets and sets, in memory. Every change to a
 * key is reported to `onKeyChanged` so that search indexes can (re)index the key synchronously.
 */

export type Entry =
  | { readonly type: "hash"; readonly v: Map<string, Buffer> }
  | { readonly type: "string"; v: Buffer }
  | { readonly type: "zset"; readonly v: Map<string, number> }
  | { readonly type: "set"; readonly v: Set<string> };

export type EntryType = Entry["type"];

export class WrongTypeError extends Error {
  constructor() {
    super("WRONGTYPE Operation against a key holding the wrong kind of value");
  }
}

export class Keyspace {
  /** Insertion order is kept (SCAN and FT.CREATE walk keys in it). */
  private readonly data = new Map<string, Entry>();
  private readonly listeners: Array<(key: string) => void> = [];

  onKeyChanged(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  changed(key: string): void {
    for (const l of this.listeners) l(key);
  }

  get size(): number {
    return this.data.size;
  }

  keys(): string[] {
    return [...this.data.keys()];
  }

  get(key: string): Entry | undefined {
    return this.data.get(key);
  }

  has(key: string): boolean {
    return this.data.has(key);
  }

  /** Throws WrongTypeError when the key holds another type. */
  getTyped<T extends EntryType>(key: string, type: T): Extract<Entry, { type: T }> | undefined {
    const e = this.data.get(key);
    if (!e) return undefined;
    if (e.type !== type) throw new WrongTypeError();
    return e as Extract<Entry, { type: T }>;
  }

  /** The hash at `key`, created empty when missing. Throws WrongTypeError. */
  hashForWrite(key: string): Map<string, Buffer> {
    const e = this.getTyped(key, "hash");
    if (e) return e.v;
    const v = new Map<string, Buffer>();
    this.data.set(key, { type: "hash", v });
    return v;
  }

  zsetForWrite(key: string): Map<string, number> {
    const e = this.getTyped(key, "zset");
    if (e) return e.v;
    const v = new Map<string, number>();
    this.data.set(key, { type: "zset", v });
    return v;
  }

  setForWrite(key: string): Set<string> {
    const e = this.getTyped(key, "set");
    if (e) return e.v;
    const v = new Set<string>();
    this.data.set(key, { type: "set", v });
    return v;
  }

  setString(key: string, v: Buffer): void {
    this.data.delete(key);
    this.data.set(key, { type: "string", v });
    this.changed(key);
  }

  /** Drops the key when its container became empty (Redis never keeps empty hashes/zsets/sets). */
  dropIfEmpty(key: string): void {
    const e = this.data.get(key);
    if (!e || e.type === "string") return;
    if (e.v.size === 0) this.data.delete(key);
  }

  delete(key: string): boolean {
    const had = this.data.delete(key);
    if (had) this.changed(key);
    return had;
  }

  /** Removes every key without notifying (the caller drops the indexes too). */
  clear(): void {
    this.data.clear();
  }
}
