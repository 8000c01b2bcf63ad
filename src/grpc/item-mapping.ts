/** Item messages <-> domain values: UpsertRequest items (drafts for the use case) and items in responses. */
import type { FieldValue as DomainFieldValue, FieldValues, Item as DomainItem } from "../domain/item.js";
import { decodeFloat32LE } from "../domain/vector.js";
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
  pathOrLazy: string | (() => string),
): Record<string, Decoded<DomainFieldValue>> {
  const decoded = Object.create(null) as Record<string, Decoded<DomainFieldValue>>;
  const path = (): string => (typeof pathOrLazy === "string" ? pathOrLazy : pathOrLazy());
  if (Object.getPrototypeOf(fields) !== Object.prototype) {
    decoded.__proto__ = new Undecodable({
      field: fieldPath(path(), "__proto__"),
      description: "\"__proto__\" is not a valid field name (field names are letters, digits and '_', starting with a letter)",
    });
  }
  for (const name in fields) {
    if (!Object.hasOwn(fields, name)) continue;
    const kind = fields[name]!.kind;
    if (kind === undefined) {
      const description = "no value set: set one of text, tags, number";
      decoded[name] = new Undecodable({ field: fieldPath(path(), name), description });
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

/**
 * Decodes the items of an UpsertRequest. A missing vector is left to the use case. Paths are built only
 * for what cannot be decoded (a batch holds up to 1,000 items).
 */
export function decodeItems(items: readonly Item[]): ItemInput[] {
  const inputs = new Array<ItemInput>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    inputs[i] = {
      id: item.id,
      vector: decodeItemVector(item.vector, i),
      fields: decodeFieldValues(item.fields, () => fieldPath("items", i, "fields")),
    };
  }
  return inputs;
}

/** An item's vector: little-endian float32 bytes straight to a Float32Array (no path built), else decodeOptionalVector. */
function decodeItemVector(vector: Item["vector"], i: number): Decoded<Float32Array> | undefined {
  const encoding = vector?.encoding;
  if (encoding?.$case === "float32Le" && encoding.value.length % 4 === 0) return decodeFloat32LE(encoding.value);
  return decodeOptionalVector(vector, fieldPath("items", i, "vector"));
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
