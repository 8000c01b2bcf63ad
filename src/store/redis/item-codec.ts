/**
 * Items <-> Redis hashes. Layout of one item hash: `__vecrec_id` (the id), the vector field as
 * little-endian bytes of its element type (float32 unless the schema says FLOAT64/FLOAT16/BFLOAT16), TEXT as the text, TAG values joined with the field's separator, NUMERIC
 * as the JS decimal text (which Redis parses with strtod).
 */
import type { FieldSpec, IndexSpec } from "../../domain/schema.js";
import type { FieldValue, Item } from "../../domain/item.js";
import { decodeElements, encodeElements } from "../../domain/element-type.js";
import { ID_FIELD } from "./redis-keys.js";
import { replyBytes, replyNumber, replyText, type Reply } from "./reply-parsers.js";

/**
 * HSET field/value arguments for `item` (the vector is required), appended to `args` (so that a command
 * is built in one array, without copying the pairs into it).
 */
export function itemHashArgs(spec: IndexSpec, item: Item, args: (string | Buffer)[] = []): (string | Buffer)[] {
  args.push(ID_FIELD, item.id);
  for (const field of spec.fields) {
    if (field.type === "vector") {
      if (item.vector === undefined) throw new TypeError(`item "${item.id}" has no vector`);
      args.push(field.name, encodeElements(field.elementType, item.vector));
      continue;
    }
    const value = item.fields[field.name];
    if (value === undefined) continue;
    args.push(field.name, encodeFieldValue(field, value));
  }
  // Fields the (possibly cached) spec does not list yet, e.g. an interests field another replica
  // just added, are written too.
  for (const name in item.fields) {
    if (!Object.hasOwn(item.fields, name) || inSchema(spec, name)) continue;
    args.push(name, encodeFieldValue(undefined, item.fields[name]!));
  }
  return args;
}

function inSchema(spec: IndexSpec, name: string): boolean {
  for (const field of spec.fields) if (field.name === name) return true;
  return false;
}

export function encodeFieldValue(field: FieldSpec | undefined, value: FieldValue): string {
  switch (value.type) {
    case "text":
      return value.value;
    case "tag":
      return value.values.join(field?.type === "tag" ? field.separator : ",");
    case "numeric":
      return String(value.value);
  }
}

/**
 * Builds an item from hash fields (as returned by HGETALL or FT.SEARCH RETURN). Fields the spec does
 * not know (and the hidden id) are ignored; the vector is decoded only when `includeVector`.
 * `onlyFields` limits the metadata fields (undefined = all).
 */
export function hashToItem(
  spec: IndexSpec,
  id: string,
  hash: ReadonlyMap<string, Reply>,
  options: { includeVector: boolean; onlyFields?: ReadonlySet<string> },
): Item {
  const fields: Record<string, FieldValue> = {};
  let vector: Float32Array | undefined;
  for (const field of spec.fields) {
    const raw = hash.get(field.name);
    if (raw === undefined || raw === null) continue;
    if (field.type === "vector") {
      if (options.includeVector) vector = decodeElements(field.elementType, replyBytes(raw));
      continue;
    }
    if (options.onlyFields !== undefined && !options.onlyFields.has(field.name)) continue;
    switch (field.type) {
      case "text":
        fields[field.name] = { type: "text", value: replyText(raw) };
        break;
      case "tag": {
        const text = replyText(raw);
        fields[field.name] = { type: "tag", values: text === "" ? [] : text.split(field.separator) };
        break;
      }
      case "numeric":
        fields[field.name] = { type: "numeric", value: replyNumber(raw) };
        break;
    }
  }
  return vector === undefined ? { id, fields } : { id, vector, fields };
}
