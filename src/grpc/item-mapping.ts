/** Item messages <-> domain values: UpsertRequest items (drafts for the use case) and items in responses. */
import type { FieldValue as DomainFieldValue, FieldValues, Item as DomainItem } from "../domain/item.js";
import { Undecodable, fieldPath, type Decoded } from "../domain/violations.js";
import type { FieldValue, Item, ItemUpdate } from "../gen/vecrec/v1/vecrec.js";
import type { ItemInput, ItemUpdateInput } from "../usecases/items.js";
import { decodeOptionalVector, encodeVector, type VectorOutput } from "./vector-mapping.js";

/**
 * Decodes metadata values; a value with no `kind` set is Undecodable at `<path>.<name>`.
 *
 * The generated decoder stores map entries with `fields[key] = value` on a plain object, so an entry
 * keyed `__proto__` replaces the object's prototype instead of becoming an entry: it would vanish
 * silently (acknowledged, never stored). Such a map is reported as an Undecodable `__proto__` entry
 * (the result has no prototype, so the key is an ordinary one there). Other keys that name
 * Object.prototype members (`constructor`, `toString`) are stored as own entries by the decoder and
 * reach the schema check like any unknown field.
 */
export function decodeFieldValues(
  fields: { [key: string]: FieldValue },
  path: string,
): Record<string, Decoded<DomainFieldValue>> {
  const decoded = Object.create(null) as Record<string, Decoded<DomainFieldValue>>;
  if (Object.getPrototypeOf(fields) !== Object.prototype) {
    decoded.__proto__ = new Undecodable({
      field: fieldPath(path, "__proto__"),
      description: "\"__proto__\" is not a valid field name (field names are letters, digits and '_', starting with a letter)",
    });
  }
  for (const [name, value] of Object.entries(fields)) {
    const kind = value.kind;
    if (kind === undefined) {
      const description = "no value set: set one of text, tags, number";
      decoded[name] = new Undecodable({ field: fieldPath(path, name), description });
    } else if (kind.$case === "text") decoded[name] = { type: "text", value: kind.value };
    else if (kind.$case === "tags") decoded[name] = { type: "tag", values: [...kind.value.values] };
    else decoded[name] = { type: "numeric", value: kind.value };
  }
  return decoded;
}

export function encodeFieldValues(fields: FieldValues): { [key: string]: FieldValue } {
  const encoded: { [key: string]: FieldValue } = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value.type === "text") encoded[name] = { kind: { $case: "text", value: value.value } };
    else if (value.type === "tag") encoded[name] = { kind: { $case: "tags", value: { values: [...value.values] } } };
    else encoded[name] = { kind: { $case: "number", value: value.value } };
  }
  return encoded;
}

/** Decodes the items of an UpsertRequest. A missing vector is left to the use case. */
export function decodeItems(items: readonly Item[]): ItemInput[] {
  return items.map((item, i) => ({
    id: item.id,
    vector: decodeOptionalVector(item.vector, fieldPath("items", i, "vector")),
    fields: decodeFieldValues(item.fields, fieldPath("items", i, "fields")),
  }));
}

/** Decodes the updates of an UpdateItemsRequest. */
export function decodeItemUpdates(updates: readonly ItemUpdate[]): ItemUpdateInput[] {
  return updates.map((update, i) => ({
    id: update.id,
    vector: decodeOptionalVector(update.vector, fieldPath("updates", i, "vector")),
    setFields: decodeFieldValues(update.setFields, fieldPath("updates", i, "set_fields")),
    removeFields: update.removeFields,
  }));
}

export function encodeItem(item: DomainItem, vectorFormat: VectorOutput = "float32_le"): Item {
  return {
    id: item.id,
    vector: item.vector && encodeVector(item.vector, vectorFormat),
    fields: encodeFieldValues(item.fields),
  };
}
