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
 * Vectors sent as float32 bytes become Float32Array views (Float32Slab): of the request's own bytes when
 * they sit at a multiple of 4, else of one slab for the whole batch.
 */
export function decodeItems(items: readonly Item[]): ItemInput[] {
  let misalignedBytes = 0;
  if (LITTLE_ENDIAN_HOST) {
    for (const item of items) {
      const encoding = item.vector?.encoding;
      if (encoding?.$case === "float32Le" && encoding.value.length % 4 === 0) misalignedBytes += Float32Slab.bytesToCopy(encoding.value.byteOffset, encoding.value.length);
    }
  }
  const slab = new Float32Slab(misalignedBytes);
  const inputs = new Array<ItemInput>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const encoding = item.vector?.encoding;
    let vector: Decoded<Float32Array> | undefined;
    if (encoding?.$case === "float32Le" && encoding.value.length % 4 === 0) {
      const bytes = encoding.value;
      // decodeFloat32LE swaps the bytes of each float on a big-endian host.
      vector = LITTLE_ENDIAN_HOST ? slab.floats(bytes.buffer, bytes.byteOffset, bytes.length) : decodeFloat32LE(bytes);
    } else {
      vector = decodeOptionalVector(item.vector, fieldPath("items", i, "vector"));
    }
    inputs[i] = { id: item.id, vector, fields: decodeFieldValues(item.fields, () => fieldPath("items", i, "fields")) };
  }
  return inputs;
}

/**
 * Float32Array views of a batch's little-endian float32 vectors (whole floats, little-endian host): a
 * vector whose bytes sit at a multiple of 4 is viewed in place; the others are copied into one slab for
 * the batch (most of them: protobuf does not align bytes fields). One allocation per batch instead of one
 * per item: each typed array with a buffer of its own is a separate off-heap block that the garbage
 * collector tracks until the batch is written (5 µs of GC per item on the Upsert path, the largest cost
 * in its profile). Count the bytes to copy first (bytesToCopy), then take each vector in turn (floats).
 */
export class Float32Slab {
  readonly #bytes: Uint8Array | undefined;
  #used = 0;

  /** The bytes floats() will copy for a vector of `byteLength` bytes at `byteOffset` of its buffer. */
  static bytesToCopy(byteOffset: number, byteLength: number): number {
    return byteOffset % 4 === 0 ? 0 : byteLength;
  }

  /** A slab of `bytes` (the sum of bytesToCopy over the batch; 0: none is allocated). */
  constructor(bytes: number) {
    this.#bytes = bytes === 0 ? undefined : new Uint8Array(bytes);
  }

  /** The floats of the `byteLength` bytes (a multiple of 4) at `byteOffset` of `buffer`. */
  floats(buffer: ArrayBufferLike, byteOffset: number, byteLength: number): Float32Array {
    if (byteLength === 0) return new Float32Array(0);
    if (byteOffset % 4 === 0) return new Float32Array(buffer, byteOffset, byteLength / 4);
    const slab = this.#bytes!;
    slab.set(new Uint8Array(buffer, byteOffset, byteLength), this.#used);
    const floats = new Float32Array(slab.buffer, this.#used, byteLength / 4);
    this.#used += byteLength;
    return floats;
  }
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
