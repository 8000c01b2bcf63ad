/**
 * Item use cases: Upsert (validated whole before anything is written), UpdateItems, GetItems, DeleteItems.
 */
import type { Durability } from "../domain/durability.js";
import { throwIfViolations } from "../domain/errors.js";
import type { FilterNode } from "../domain/filter/filter.js";
import { filterViolations } from "../domain/filter/validate.js";
import { deriveInterests } from "../domain/interests.js";
import type { FieldValue, Item, ItemUpdate } from "../domain/item.js";
import {
  batchSizeViolations,
  duplicateViolations,
  finiteViolations,
  idListViolations,
  idViolations,
  indexNameViolations,
} from "../domain/request-limits.js";
import type { FieldSpec, IndexSpec } from "../domain/schema.js";
import { vectorField } from "../domain/schema.js";
import { roundVector, typedVectorViolations } from "../domain/element-type.js";
import { ViolationCollector, type Decoded } from "../domain/violations.js";
import type { VectorStore } from "../store/vector-store.js";
import { lookUpIndexSpec, resolveIndexName, throwIfInvalid } from "./index-spec-lookup.js";
import { runUpsertStream, type UpsertStreamAck, type UpsertStreamMessage } from "./upsert-stream.js";

/**
 * One item of an Upsert as the transport decoded it: `vector` undefined when the request did not set
 * it; a vector or field value it could not decode is Undecodable (reported with the rest).
 */
export interface ItemInput {
  id: string;
  vector: Decoded<Float32Array> | undefined;
  fields: Record<string, Decoded<FieldValue>>;
}

/**
 * One update of UpdateItems as the transport decoded it: `vector` undefined when not set; a value it
 * could not decode is Undecodable.
 */
export interface ItemUpdateInput {
  id: string;
  vector: Decoded<Float32Array> | undefined;
  setFields: Record<string, Decoded<FieldValue>>;
  removeFields: readonly string[];
}

/** What UpdateItems did. */
export interface UpdateItemsResult {
  updatedCount: number;
  createdCount: number;
  /** Ids of updates whose item did not exist and was not created, in request order. */
  missingIds: string[];
}

/** An ExportItems request as the transport decoded it. */
export interface ExportDraft {
  indexName: string;
  /** "" = from the first item. */
  afterId: string;
  /** MATCH_ALL when the request set no filter. */
  filter: Decoded<FilterNode>;
  /** The request field the filter came from, which its violations name. */
  filterField: "filter" | "filter_query";
  signal?: AbortSignal;
}

/** Items per batch of an export (one Redis page of ids and their HMGETs). */
export const EXPORT_BATCH = 1000;

export interface ItemService {
  /**
   * Validates every item against the index spec, derives the interests tag when the index has interests,
   * and writes them all. Returns the number of items written.
   * `signal` (the call's cancel/deadline) stops the writing: items sent before it aborted may be stored.
   * `durability`: how durable before it resolves (undefined = the store's default; domain/durability.ts).
   * @throws InvalidArgumentError with every bad field (nothing written), IndexNotFoundError;
   *   FailedPreconditionError / UnavailableError when the durability asked cannot be given / confirmed
   */
  upsert(indexName: string, items: readonly ItemInput[], signal?: AbortSignal, durability?: Durability): Promise<number>;
  /**
   * ExportItems: validates the request (index name, `after_id`, the filter against the schema), then
   * every matching item with its vector, in id order, in batches.
   * @throws InvalidArgumentError, IndexNotFoundError (before the first batch)
   */
  exportItems(draft: ExportDraft): Promise<AsyncIterable<Item[]>>;
  /**
   * UpsertStream (upsert-stream.ts): one acknowledgement per message once its good items are written, bad
   * items rejected one by one; reads the next message only while writing the current one.
   */
  upsertStream(messages: AsyncIterable<UpsertStreamMessage>, signal: AbortSignal): AsyncGenerator<UpsertStreamAck, void, undefined>;
  /**
   * Validates every update (nothing written when one is bad), derives the interests tag again for a new
   * vector, and changes the items, each atomically. Missing items are reported, or created from an
   * update with a vector when `createMissing`.
   * @throws InvalidArgumentError, IndexNotFoundError; FailedPreconditionError / UnavailableError as upsert
   */
  updateItems(
    indexName: string,
    updates: readonly ItemUpdateInput[],
    options: { createMissing: boolean; signal?: AbortSignal; durability?: Durability },
  ): Promise<UpdateItemsResult>;
  /**
   * Items in the order of `ids` (duplicates allowed); ids that do not exist go to `missingIds`.
   * @throws InvalidArgumentError, IndexNotFoundError
   */
  getItems(indexName: string, ids: readonly string[], includeVectors: boolean, signal?: AbortSignal): Promise<{ items: Item[]; missingIds: string[] }>;
  /**
   * Deletes items (and their interactions); returns how many existed. Unknown ids are not an error.
   * `signal` stops it between round trips (part of it may be done; repeating it finishes it).
   * `durability` as for upsert.
   * @throws InvalidArgumentError, IndexNotFoundError
   */
  deleteItems(indexName: string, ids: readonly string[], signal?: AbortSignal, durability?: Durability): Promise<number>;
}

export function createItemService(store: VectorStore): ItemService {
  return {
    async upsert(indexName, inputs, signal, durability) {
      const spec = await lookUpIndexSpec(store, indexName, signal);
      const items = validateUpsert(indexName, inputs, spec);
      // The index's own name: `indexName` may be an alias, resolved once, by the lookup.
      await store.upsert(spec?.name ?? indexName, items, { signal, durability });
      return items.length;
    },

    async exportItems(draft) {
      const spec = await lookUpIndexSpec(store, draft.indexName, draft.signal);
      const violations = new ViolationCollector();
      violations.addAll(indexNameViolations(draft.indexName));
      if (draft.afterId !== "") violations.addAll(idViolations(draft.afterId, "after_id"));
      const filter = violations.decoded(draft.filter);
      if (filter !== undefined && spec !== undefined) violations.addAll(filterViolations(filter, spec, draft.filterField));
      throwIfInvalid(violations, draft.indexName, spec);
      return store.exportItems(spec.name, {
        filter: filter as FilterNode,
        afterId: draft.afterId === "" ? undefined : draft.afterId,
        batchSize: EXPORT_BATCH,
        signal: draft.signal,
      });
    },

    upsertStream(messages, signal) {
      return runUpsertStream(store, messages, signal);
    },

    async updateItems(indexName, inputs, { createMissing, signal, durability }) {
      const spec = await lookUpIndexSpec(store, indexName, signal);
      const updates = validateUpdates(indexName, inputs, spec);
      const outcomes = await store.updateItems(spec?.name ?? indexName, updates, { createMissing, signal, durability });
      const result: UpdateItemsResult = { updatedCount: 0, createdCount: 0, missingIds: [] };
      outcomes.forEach((outcome, i) => {
        if (outcome === "updated") result.updatedCount++;
        else if (outcome === "created") result.createdCount++;
        else result.missingIds.push(updates[i]?.id ?? "");
      });
      return result;
    },

    async getItems(indexName, ids, includeVectors, signal) {
      throwIfViolations([...indexNameViolations(indexName), ...idListViolations(ids, "ids")]);
      const found = await store.getItems(await resolveIndexName(store, indexName, signal), ids, { includeVectors, signal });
      const items: Item[] = [];
      const missingIds: string[] = [];
      ids.forEach((id, i) => {
        const item = found[i];
        if (item === undefined) missingIds.push(id);
        else items.push(item);
      });
      return { items, missingIds };
    },

    async deleteItems(indexName, ids, signal, durability) {
      throwIfViolations([...indexNameViolations(indexName), ...idListViolations(ids, "ids")]);
      return store.deleteItems(await resolveIndexName(store, indexName, signal), ids, { signal, durability });
    },
  };
}

/**
 * Validates an Upsert against the spec of its index (undefined: not found, then only what needs no
 * spec is checked) and returns the items to store: tag values trimmed, empty tag lists dropped, the
 * interests tag derived from the vector when the index has interests.
 * @throws InvalidArgumentError with every violation (paths such as `items[3].vector`,
 *   `items[0].fields.labels`, `items[2].id`; the transport caps what it sends), else IndexNotFoundError
 *   when `spec` is undefined
 */
export function validateUpsert(indexName: string, inputs: readonly ItemInput[], spec: IndexSpec | undefined): Item[] {
  const violations = new ViolationCollector();
  violations.addAll(indexNameViolations(indexName));
  violations.addAll(batchSizeViolations(inputs.length, "items"));
  const fieldsByName = new Map<string, FieldSpec>(spec?.fields.map((f) => [f.name, f]));
  const items: Item[] = [];
  inputs.forEach((input, i) => {
    const item = validateItem(input, spec, fieldsByName, violations.at("items", i));
    if (item !== undefined) items.push(item);
  });
  violations.addAll(
    duplicateViolations(
      inputs.map((item) => item.id),
      (i) => violations.pathOf("items", i, "id"),
      (id) => (id === "" ? undefined : id),
    ),
  );
  throwIfInvalid(violations, indexName, spec);
  return items;
}

/**
 * One item of an Upsert (or UpsertStream) against the spec (undefined: only what needs no spec), its
 * violations added to `item`; the item to store, or undefined when it has no usable vector.
 */
function validateItem(
  input: ItemInput,
  spec: IndexSpec | undefined,
  fieldsByName: ReadonlyMap<string, FieldSpec>,
  item: ViolationCollector,
): Item | undefined {
  const vectorSpec = spec === undefined ? undefined : vectorField(spec);
  // Checks run with relative paths (""), re-rooted only when they find something (addUnder).
  item.addUnder("id", idViolations(input.id, ""));
  let vector: Float32Array | undefined;
  if (input.vector === undefined) item.at("vector").add("required");
  else vector = item.decoded(input.vector);
  // Rounded to the field's element type once valid: interests and every store see the stored values.
  if (vector !== undefined && !item.addUnder("vector", typedVectorViolations(vector, vectorSpec, "")) && vectorSpec !== undefined) {
    vector = roundVector(vectorSpec.elementType, vector);
  }
  const fields: Record<string, FieldValue> = {};
  for (const name in input.fields) {
    const value = item.decoded(input.fields[name]!);
    if (value === undefined || spec === undefined) continue;
    const normalized = normalizeFieldValue(spec, fieldsByName.get(name), name, value, item.at("fields", name));
    if (normalized !== undefined) fields[name] = normalized;
  }
  if (vector === undefined) return undefined;
  if (spec?.interests !== undefined) {
    const interests = deriveInterests(vector, spec.interests);
    if (interests.length > 0) fields[spec.interests.tagField] = { type: "tag", values: interests };
  }
  return { id: input.id, vector, fields };
}

/** One item of an UpsertStream message that was not written. */
export interface RejectedItem {
  /** Position in the message. */
  readonly index: number;
  readonly id: string;
  /** Every violation, as `field: description` joined by `; `. */
  readonly reason: string;
}

/**
 * The items of one UpsertStream message, each validated on its own against `spec` (which exists): the
 * good ones to write (in order; a repeated id is kept, the later one wins when written) and the bad ones
 * with their reasons. Item paths are `items[i]…` within the message.
 */
export function validateStreamItems(inputs: readonly ItemInput[], spec: IndexSpec): { items: Item[]; rejected: RejectedItem[] } {
  const fieldsByName = new Map<string, FieldSpec>(spec.fields.map((f) => [f.name, f]));
  const items: Item[] = [];
  const rejected: RejectedItem[] = [];
  inputs.forEach((input, i) => {
    const violations = new ViolationCollector();
    const item = validateItem(input, spec, fieldsByName, violations.at("items", i));
    if (violations.count === 0 && item !== undefined) items.push(item);
    else {
      const reason = violations.violations.map((v) => `${v.field}: ${v.description}`).join("; ");
      rejected.push({ index: i, id: input.id, reason });
    }
  });
  return { items, rejected };
}

/**
 * Validates an UpdateItems request against the spec of its index: the batch size, each id (distinct),
 * the new vector, the fields to set (as Upsert's) and to remove (metadata fields of the schema, not the
 * interests tag, not also set), and that each update changes something. A new vector of an index with
 * interests derives the interests tag again (set, or removed when no category passes the threshold).
 * @throws InvalidArgumentError with every violation (paths such as `updates[1].set_fields.labels`,
 *   `updates[0].remove_fields[2]`), else IndexNotFoundError when `spec` is undefined
 */
export function validateUpdates(indexName: string, inputs: readonly ItemUpdateInput[], spec: IndexSpec | undefined): ItemUpdate[] {
  const violations = new ViolationCollector();
  violations.addAll(indexNameViolations(indexName));
  violations.addAll(batchSizeViolations(inputs.length, "updates"));
  const vectorSpec = spec === undefined ? undefined : vectorField(spec);
  const fieldsByName = new Map<string, FieldSpec>(spec?.fields.map((f) => [f.name, f]));
  const updates: ItemUpdate[] = [];
  inputs.forEach((input, i) => {
    const at = violations.at("updates", i);
    at.addAll(idViolations(input.id, at.pathOf("id")));
    let vector = input.vector === undefined ? undefined : at.decoded(input.vector);
    // Rounded to the field's element type once valid, as on Upsert.
    if (vector !== undefined && !at.addAll(typedVectorViolations(vector, vectorSpec, at.pathOf("vector"))) && vectorSpec !== undefined) {
      vector = roundVector(vectorSpec.elementType, vector);
    }
    const set: Record<string, FieldValue> = {};
    const remove: string[] = [];
    for (const [name, draft] of Object.entries(input.setFields)) {
      const value = at.decoded(draft);
      if (value === undefined || spec === undefined) continue;
      const field = fieldsByName.get(name);
      if (value.type === "tag" && value.values.length === 0 && field?.type === "tag" && name !== spec.interests?.tagField) {
        remove.push(name); // an empty tag list means no tags, as on Upsert
        continue;
      }
      const normalized = normalizeFieldValue(spec, field, name, value, at.at("set_fields", name));
      if (normalized !== undefined) set[name] = normalized;
    }
    input.removeFields.forEach((name, j) => {
      const path = at.at("remove_fields", j);
      if (spec === undefined) return;
      const field = fieldsByName.get(name);
      if (field === undefined) path.add(`unknown field "${name}": not in the schema of index ${spec.name}`);
      else if (field.type === "vector") path.add(`"${name}" is the vector field: an item always has a vector`);
      else if (spec.interests !== undefined && name === spec.interests.tagField) {
        path.add(`"${name}" holds the interests, derived from the vector; it cannot be removed`);
      } else if (name in input.setFields) path.add(`"${name}" is also in set_fields: set it or remove it, not both`);
      else if (!remove.includes(name)) remove.push(name);
    });
    if (input.vector === undefined && Object.keys(input.setFields).length === 0 && input.removeFields.length === 0) {
      at.add("changes nothing: set vector, set_fields or remove_fields");
    }
    if (vector !== undefined && spec?.interests !== undefined) {
      const interests = deriveInterests(vector, spec.interests);
      if (interests.length > 0) set[spec.interests.tagField] = { type: "tag", values: interests };
      else remove.push(spec.interests.tagField);
    }
    updates.push(vector === undefined ? { id: input.id, set, remove } : { id: input.id, vector, set, remove });
  });
  violations.addAll(
    duplicateViolations(
      inputs.map((u) => u.id),
      (i) => violations.pathOf("updates", i, "id"),
      (id) => (id === "" ? undefined : id),
    ),
  );
  throwIfInvalid(violations, indexName, spec);
  return updates;
}

const TYPE_NAMES: Record<FieldSpec["type"], string> = {
  text: "TEXT",
  tag: "TAG",
  numeric: "NUMERIC",
  vector: "VECTOR",
};
const VALUE_KINDS: Record<FieldValue["type"], string> = { text: "text", tag: "tags", numeric: "number" };

function normalizeFieldValue(
  spec: IndexSpec,
  fieldSpec: FieldSpec | undefined,
  name: string,
  value: FieldValue,
  violations: ViolationCollector,
): FieldValue | undefined {
  if (fieldSpec === undefined) {
    violations.add(`unknown field "${name}": not in the schema of index ${spec.name}`);
    return undefined;
  }
  if (fieldSpec.type === "vector") {
    violations.add(`"${name}" is the vector field; send the vector in vector`);
    return undefined;
  }
  if (spec.interests !== undefined && name === spec.interests.tagField) {
    violations.add(`"${name}" holds the interests, derived from the vector; it cannot be written`);
    return undefined;
  }
  if (value.type !== fieldSpec.type) {
    violations.add(
      `"${name}" is a ${TYPE_NAMES[fieldSpec.type]} field: send ${VALUE_KINDS[fieldSpec.type]}, not ${VALUE_KINDS[value.type]}`,
    );
    return undefined;
  }
  switch (value.type) {
    case "text":
      return value;
    case "numeric":
      if (!Number.isFinite(value.value)) {
        violations.addAll(finiteViolations(value.value, violations.path));
        return undefined;
      }
      return value;
    case "tag": {
      const separator = fieldSpec.type === "tag" ? fieldSpec.separator : ",";
      const values: string[] = [];
      let bad = false;
      value.values.forEach((raw, j) => {
        // Redis trims tags; trimming here makes what GetItems returns match what filters see.
        const tag = raw.trim();
        if (tag === "") {
          violations.add(`tag ${j} is empty`);
          bad = true;
        } else if (tag.includes(separator)) {
          violations.add(`tag ${j} (${JSON.stringify(raw)}) contains the separator ${JSON.stringify(separator)}`);
          bad = true;
        } else {
          values.push(tag);
        }
      });
      // An empty list means "no tags": the field is left out, as Redis would index nothing for it.
      return bad || values.length === 0 ? undefined : { type: "tag", values };
    }
  }
}
