/**
 * The embedded engine: an in-process, in-memory VectorStore (the default when no Redis is configured).
 * Exact KNN over contiguous float32 arenas, with Redis-identical distances; data is lost on exit.
 *
 * Like Redis, dropping an index without deleting items keeps its data (items and interactions), and an
 * index created again under the same name finds it.
 */
import {
  AlreadyExistsError,
  FailedPreconditionError,
  IndexNotFoundError,
  UnavailableError,
} from "../../domain/errors.js";
import type { Interaction, InteractionPage } from "../../domain/interaction.js";
import { interestTagField, specsEqual } from "../../domain/index-spec.js";
import type { FieldValue, FieldValues, Item, ItemUpdate, ItemUpdateOutcome } from "../../domain/item.js";
import type { FieldSpec, IndexInfo, IndexSpec, InterestSpec } from "../../domain/schema.js";
import { vectorField } from "../../domain/schema.js";
import type {
  CreateIndexResult,
  InterestTagUpdate,
  SearchQuery,
  SearchResult,
  VectorStore,
  WriteOptions,
} from "../vector-store.js";
import { EmbeddedIndex } from "./embedded-index.js";
import { InteractionLog } from "./interaction-log.js";

/** What is left of an index dropped without deleting its items. */
interface OrphanedData {
  readonly spec: IndexSpec;
  readonly items: Item[];
  readonly interactions: InteractionLog;
}

export function createEmbeddedStore(): VectorStore {
  const indexes = new Map<string, EmbeddedIndex>();
  const orphans = new Map<string, OrphanedData>();
  let closed = false;

  function open(): void {
    if (closed) throw new UnavailableError("the embedded store is closed");
  }

  function indexOf(name: string): EmbeddedIndex {
    open();
    const index = indexes.get(name);
    if (index === undefined) throw new IndexNotFoundError(name);
    return index;
  }

  /**
   * Runs `fn` on index `name` under its write lock. A write waits for the searches in flight; when the
   * index was dropped meanwhile, writing to it would be acknowledged and then lost (its data was set
   * aside when it was dropped), so the write goes to the index now of that name, or fails with
   * IndexNotFoundError when there is none.
   */
  async function writeTo<T>(name: string, fn: (index: EmbeddedIndex) => T): Promise<T> {
    for (;;) {
      const index = indexOf(name);
      const done = await index.lock.write(() => (indexes.get(name) === index ? { value: fn(index) } : undefined));
      if (done !== undefined) return done.value;
    }
  }

  function infoOf(index: EmbeddedIndex): IndexInfo {
    return {
      spec: index.spec,
      itemCount: index.size,
      indexing: false,
      indexingProgress: 1,
      indexingFailures: index.unindexed.size,
    };
  }

  return {
    backend: "embedded",

    createIndex(spec: IndexSpec): Promise<CreateIndexResult> {
      return run(() => {
        open();
        const existing = indexes.get(spec.name);
        if (existing !== undefined) {
          if (specsEqual(existing.spec, spec)) return { created: false, info: infoOf(existing) };
          throw new AlreadyExistsError(`index "${spec.name}" already exists with another spec`);
        }
        const orphan = orphans.get(spec.name);
        orphans.delete(spec.name);
        const index = new EmbeddedIndex(spec, orphan?.interactions);
        if (orphan !== undefined) {
          const dimension = vectorField(spec).dimension;
          const fitting: Item[] = [];
          for (const item of orphan.items) {
            const adapted: Item = { ...item, fields: adaptFields(item.fields, orphan.spec, spec) };
            if (item.vector?.length === dimension) fitting.push(adapted);
            else index.unindexed.set(item.id, adapted);
          }
          index.upsert(fitting);
        }
        indexes.set(spec.name, index);
        return { created: true, info: infoOf(index) };
      });
    },

    getIndex(name: string): Promise<IndexInfo> {
      return run(() => infoOf(indexOf(name)));
    },

    getIndexSpec(name: string): Promise<IndexSpec> {
      return run(() => indexOf(name).spec);
    },

    listIndexes(): Promise<IndexInfo[]> {
      return run(() => {
        open();
        return [...indexes.values()]
          .sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0))
          .map(infoOf);
      });
    },

    dropIndex(name: string, options: { deleteItems: boolean }): Promise<void> {
      return run(() => {
        const index = indexOf(name);
        indexes.delete(name);
        if (options.deleteItems) return;
        // Searches in flight only read, so the snapshot is consistent without waiting for them.
        orphans.set(name, {
          spec: index.spec,
          items: [...index.allItems(), ...index.unindexed.values()],
          interactions: index.interactions,
        });
      });
    },

    setInterests(name: string, interests: InterestSpec | undefined): Promise<IndexInfo> {
      return run(() => {
        const index = indexOf(name);
        const { spec } = index;
        let fields: readonly FieldSpec[] = spec.fields;
        if (interests !== undefined && !fields.some((f) => f.name === interests.tagField)) {
          fields = [...fields, interestTagField(interests.tagField)];
        }
        index.spec = interests === undefined ? { name: spec.name, fields } : { name: spec.name, fields, interests };
        return infoOf(index);
      });
    },

    async upsert(indexName: string, items: readonly Item[], options?: WriteOptions): Promise<void> {
      refuseDurability(options);
      await writeTo(indexName, (index) => index.upsert(items));
    },

    async updateItems(
      indexName: string,
      updates: readonly ItemUpdate[],
      options: WriteOptions & { readonly createMissing: boolean },
    ): Promise<ItemUpdateOutcome[]> {
      refuseDurability(options);
      return writeTo(indexName, (index) => index.update(updates, options.createMissing));
    },

    getItems(indexName: string, ids: readonly string[], options: { includeVectors: boolean }): Promise<(Item | undefined)[]> {
      return run(() => {
        const index = indexOf(indexName);
        return ids.map((id) => index.get(id, options.includeVectors));
      });
    },

    async deleteItems(indexName: string, ids: readonly string[], options?: WriteOptions): Promise<number> {
      refuseDurability(options);
      return writeTo(indexName, (index) => index.delete(ids));
    },

    setInterestTags(indexName: string, updates: readonly InterestTagUpdate[], tagField: string): Promise<number> {
      // Under the write lock, like upsert and delete: the check and the write of every item happen
      // between two other writes, never across one. Last update of an id wins.
      const latest = [...new Map(updates.map((u) => [u.id, u])).values()];
      return writeTo(indexName, (index) => index.setInterestTags(latest, tagField));
    },

    scanItems(indexName: string, batchSize: number): AsyncIterable<Item[]> {
      return {
        async *[Symbol.asyncIterator]() {
          const index = indexOf(indexName);
          const ids = index.snapshotIds();
          const size = Math.max(1, Math.floor(batchSize));
          for (let start = 0; start < ids.length; start += size) {
            // Items deleted since the scan started are skipped.
            const batch = await index.lock.read(() =>
              ids.slice(start, start + size).flatMap((id) => index.get(id, true) ?? []),
            );
            if (batch.length > 0) yield batch;
          }
        },
      };
    },

    async search(indexName: string, query: SearchQuery): Promise<SearchResult> {
      const index = indexOf(indexName);
      return index.lock.read(() => index.search(query));
    },

    async recordInteractions(indexName: string, interactions: readonly Interaction[], options?: WriteOptions): Promise<number> {
      refuseDurability(options);
      return run(() => {
        indexOf(indexName).interactions.record(interactions);
        return interactions.length;
      });
    },

    getInteractions(indexName: string, userId: string, page: { offset: number; limit: number }): Promise<InteractionPage> {
      return run(() => {
        const all = indexOf(indexName).interactions.ofUser(userId);
        return { interactions: all.slice(page.offset, page.offset + page.limit), totalCount: all.length };
      });
    },

    getInteractionsOfUsers(indexName: string, userIds: readonly string[]): Promise<Map<string, Interaction[]>> {
      return run(() => {
        const log = indexOf(indexName).interactions;
        const out = new Map<string, Interaction[]>();
        for (const userId of userIds) out.set(userId, [...log.ofUser(userId)]);
        return out;
      });
    },

    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}

/** Runs a synchronous step as a promise (errors become rejections, never synchronous throws). */
function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * The metadata of an item kept from a dropped index, read through a new schema the way Redis re-reads a
 * hash: each value goes through its hash text and is parsed by the new field type; fields the new schema
 * lacks are kept as they are (a later index may use them again).
 */
function adaptFields(fields: FieldValues, from: IndexSpec, to: IndexSpec): FieldValues {
  const out: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(fields)) {
    const target = to.fields.find((f) => f.name === name);
    if (target === undefined || target.type === "vector" || target.type === value.type) {
      out[name] = value;
      continue;
    }
    const source = from.fields.find((f) => f.name === name);
    const separator = source?.type === "tag" ? source.separator : ",";
    const text =
      value.type === "text" ? value.value : value.type === "tag" ? value.values.join(separator) : String(value.value);
    if (target.type === "text") out[name] = { type: "text", value: text };
    else if (target.type === "tag") {
      out[name] = {
        type: "tag",
        values: text
          .split(target.separator)
          .map((t) => t.trim())
          .filter((t) => t !== ""),
      };
    } else {
      const number = Number(text);
      if (text.trim() !== "" && !Number.isNaN(number)) out[name] = { type: "numeric", value: number };
    }
  }
  return out;
}

/**
 * The embedded engine keeps its data in memory only: a write cannot be made more durable than that, so
 * asking for durability LOCAL or REPLICAS fails before anything is written.
 * @throws FailedPreconditionError
 */
function refuseDurability(options: WriteOptions | undefined): void {
  const durability = options?.durability;
  if (durability === undefined || durability === "none") return;
  throw new FailedPreconditionError(
    `durability ${durability.toUpperCase()} is not available on the embedded engine, which keeps its data in memory only ` +
      `(nothing was written): send durability NONE or UNSPECIFIED, or run vecrec on Redis with appendonly yes`,
  );
}
