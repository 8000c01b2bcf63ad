/**
 * The embedded engine at open: memory rebuilt from what its Persistence kept, and the data of dropped
 * indexes (kept, like Redis keeps the hashes of a dropped index, until an index of that name is created
 * again and reads them through its own schema: `adaptFields`).
 */
import type { Interaction } from "../../domain/interaction.js";
import type { FieldValue, FieldValues, Item } from "../../domain/item.js";
import type { IndexSpec } from "../../domain/schema.js";
import { EmbeddedIndex } from "./embedded-index.js";
import { InteractionLog } from "./interaction-log.js";
import type { Persistence } from "./persistence.js";

/** The putMeta key of the alias table: a record alias → index name. */
export const ALIASES_META_KEY = "aliases";
/** The putMeta key of the interest recomputes marked and not finished: a record index name → tag field. */
export const RECOMPUTES_META_KEY = "interest-recomputes";

/** Items upserted at a time while the arenas are rebuilt at open. */
const LOAD_BATCH_ITEMS = 8192;

/** What is left of an index dropped without deleting its items. */
export interface OrphanedData {
  readonly spec: IndexSpec;
  readonly items: Item[];
  readonly interactions: InteractionLog;
}

/**
 * Rebuilds memory from what `persistence` kept: aliases, marked recomputes, index definitions, then items (the arenas filled in
 * batches, in the order stored), then interactions. Items of a dropped index wait as orphans.
 */
export function loadPersisted(
  persistence: Persistence,
  indexes: Map<string, EmbeddedIndex>,
  orphans: Map<string, OrphanedData>,
  aliases: Map<string, string>,
  recomputes: Map<string, string>,
): void {
  const data = persistence.load();
  const aliasTable = data.meta.get(ALIASES_META_KEY) as Record<string, string> | undefined;
  for (const [alias, target] of Object.entries(aliasTable ?? {})) aliases.set(alias, target);
  const recomputeTable = data.meta.get(RECOMPUTES_META_KEY) as Record<string, string> | undefined;
  for (const [name, tagField] of Object.entries(recomputeTable ?? {})) recomputes.set(name, tagField);
  for (const record of data.indexes) {
    const name = record.spec.name;
    if (record.live) indexes.set(name, new EmbeddedIndex(record.spec));
    else orphans.set(name, { spec: record.spec, items: [], interactions: new InteractionLog() });
  }
  let pending: Item[] = [];
  let pendingIndex: EmbeddedIndex | undefined;
  const flush = (): void => {
    if (pendingIndex !== undefined && pending.length > 0) pendingIndex.upsert(pending);
    pending = [];
  };
  for (const [name, item] of data.items()) {
    const index = indexes.get(name);
    if (index === undefined) {
      // Items without a definition are not reachable by any call; they stay on disk untouched.
      orphans.get(name)?.items.push(item);
      continue;
    }
    if (item.vector?.length !== index.dimension) {
      index.unindexed.set(item.id, item);
      continue;
    }
    if (index !== pendingIndex || pending.length >= LOAD_BATCH_ITEMS) {
      flush();
      pendingIndex = index;
    }
    pending.push(item);
  }
  flush();
  const interactions = new Map<string, Interaction[]>();
  for (const [name, interaction] of data.interactions()) {
    let list = interactions.get(name);
    if (list === undefined) interactions.set(name, (list = []));
    list.push(interaction);
  }
  for (const [name, list] of interactions) {
    (indexes.get(name)?.interactions ?? orphans.get(name)?.interactions)?.record(list);
  }
}

/**
 * The metadata of an item kept from a dropped index, read through a new schema the way Redis re-reads a
 * hash: each value goes through its hash text and is parsed by the new field type; fields the new schema
 * lacks are kept as they are (a later index may use them again).
 */
export function adaptFields(fields: FieldValues, from: IndexSpec, to: IndexSpec): FieldValues {
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
