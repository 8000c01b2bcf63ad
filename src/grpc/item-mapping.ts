/** Item messages <-> domain values: UpsertRequest items (drafts for the use case) and items in responses. */
import type { FieldValue as DomainFieldValue, FieldValues, Item as DomainItem } from "../domain/item.js";
import { LITTLE_ENDIAN_HOST, decodeFloat32LE } from "../domain/vector.js";
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
 * (an own property of the result, defined rather than assigned). Other keys that name
 * Object.prototype members (`constructor`, `toString`) are stored as own entries by the decoder and
 * reach the schema check like any unknown field.
 */
export function decodeFieldValues(
  fields: { [key: string]: FieldValue },
  pathOrLazy: string | (() => string),
): Record<string, Decoded<DomainFieldValue>> {
  // A plain object (fast properties, one shape for items with the same fields); a `__proto__` entry is
  // defined as an own property, never assigned (which would set the prototype).
  const decoded: Record<string, Decoded<DomainFieldValue>> = {};
  if (Object.getPrototypeOf(fields) !== Object.prototype) {
    defineEntry(decoded, "__proto__", new Undecodable({
      field: fieldPath(pathString(pathOrLazy), "__proto__"),
      description: "\"__proto__\" is not a valid field name (field names are letters, digits and '_', starting with a letter)",
    }));
  }
  for (const name in fields) {
    if (!Object.hasOwn(fields, name)) continue;
    const kind = fields[name]!.kind;
    let value: Decoded<DomainFieldValue>;
    if (kind === undefined) {
      const description = "no value set: set one of text, tags, number";
      value = new Undecodable({ field: fieldPath(pathString(pathOrLazy), name), description });
    } else if (kind.$case === "text") value = { type: "text", value: kind.value };
    else if (kind.$case === "tags") value = { type: "tag", values: [...kind.value.values] };
    else value = { type: "numeric", value: kind.value };
    if (name === "__proto__") defineEntry(decoded, name, value);
    else decoded[name] = value;
  }
  return decoded;
}

/** A path given as a string, or as a function building it (called only when a violation needs it). */
function pathString(path: string | (() => string)): string {
  return typeof path === "string" ? path : path();
}

/** An own, enumerable entry `name` of `record`, even for `__proto__` (an assignment would set the prototype). */
function defineEntry<T>(record: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
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
 *
 * Vectors sent as float32 bytes become Float32Array views: of the request's own bytes when they sit at a
 * multiple of 4, else of one slab for the whole batch, into which every misaligned vector is copied (most
 * of them: protobuf does not align bytes fields). One allocation per batch instead of one per item: each
 * typed array with a buffer of its own is a separate off-heap block that the garbage collector tracks
 * until the batch is written (5 µs of GC per item on the Upsert path, the largest cost in its profile).
 */
export function decodeItems(items: readonly Item[]): ItemInput[] {
  const slab = misalignedVectorSlab(items);
  let offset = 0;
  const inputs = new Array<ItemInput>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const encoding = item.vector?.encoding;
    let vector: Decoded<Float32Array> | undefined;
    if (encoding?.$case === "float32Le" && encoding.value.length % 4 === 0) {
      const bytes = encoding.value;
      if (slab !== undefined && !alignedForFloat32(bytes)) {
        const length = bytes.length / 4;
        new Uint8Array(slab.buffer, slab.byteOffset + offset * 4, bytes.length).set(bytes);
        vector = slab.subarray(offset, offset + length);
        offset += length;
      } else {
        vector = decodeFloat32LE(bytes);
      }
    } else {
      vector = decodeOptionalVector(item.vector, fieldPath("items", i, "vector"));
    }
    inputs[i] = { id: item.id, vector, fields: decodeFieldValues(item.fields, () => fieldPath("items", i, "fields")) };
  }
  return inputs;
}

/** Float32 values of the batch's little-endian float32 vectors that cannot be viewed in place (undefined: none). */
function misalignedVectorSlab(items: readonly Item[]): Float32Array | undefined {
  if (!LITTLE_ENDIAN_HOST) return undefined; // decodeFloat32LE copies each vector, swapping bytes
  let floats = 0;
  for (const item of items) {
    const encoding = item.vector?.encoding;
    if (encoding?.$case === "float32Le" && encoding.value.length % 4 === 0 && !alignedForFloat32(encoding.value)) floats += encoding.value.length / 4;
  }
  return floats === 0 ? undefined : new Float32Array(floats);
}

function alignedForFloat32(bytes: Uint8Array): boolean {
  return bytes.byteOffset % 4 === 0;
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
