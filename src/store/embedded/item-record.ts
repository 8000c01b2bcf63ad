/**
 * How the LMDB persistence stores one item: one binary value per item, the vector as raw float32 bytes
 * (what the arena holds, no encoding cost) and the metadata as compact MessagePack.
 *
 *   byte 0      record version (1)
 *   bytes 1-3   0 (reserved)
 *   bytes 4-7   u32 LE: number of float32 components, 0xFFFFFFFF when the item has no vector
 *   then        the components, float32 little-endian (4 bytes each)
 *   then        MessagePack of [name, code, value, name, code, value, ...]: code 0 text (a string),
 *               1 tag (an array of strings), 2 numeric (a number)
 *
 * The 8-byte header keeps the vector 4-byte aligned within the value.
 */
import { pack, unpack } from "msgpackr";
import type { FieldValue, Item } from "../../domain/item.js";

export const ITEM_RECORD_VERSION = 1;
const HEADER_BYTES = 8;
const NO_VECTOR = 0xffffffff;
const TEXT = 0;
const TAG = 1;
const NUMERIC = 2;

/** The stored bytes of `item`. */
export function encodeItemRecord(item: Item): Uint8Array {
  const flat: unknown[] = [];
  for (const [name, value] of Object.entries(item.fields)) {
    if (value.type === "text") flat.push(name, TEXT, value.value);
    else if (value.type === "tag") flat.push(name, TAG, value.values);
    else flat.push(name, NUMERIC, value.value);
  }
  const fields = pack(flat);
  const vector = item.vector;
  const vectorBytes = vector === undefined ? 0 : vector.byteLength;
  const out = new Uint8Array(HEADER_BYTES + vectorBytes + fields.length);
  const view = new DataView(out.buffer);
  out[0] = ITEM_RECORD_VERSION;
  view.setUint32(4, vector === undefined ? NO_VECTOR : vector.length, true);
  if (vector !== undefined) out.set(new Uint8Array(vector.buffer, vector.byteOffset, vectorBytes), HEADER_BYTES);
  out.set(fields, HEADER_BYTES + vectorBytes);
  return out;
}

/**
 * The item stored as `bytes`. The vector is copied out of them, or with `{ view: true }` is a view of
 * them when they are 4-byte aligned (for bytes the caller owns, such as the copies LMDB's range reads
 * return: saves a copy per item at start).
 * @throws Error when the bytes are not an item record of a known version
 */
export function decodeItemRecord(id: string, bytes: Uint8Array, options: { view?: boolean } = {}): Item {
  if (bytes.length < HEADER_BYTES || bytes[0] !== ITEM_RECORD_VERSION) {
    throw new Error(`item "${id}": not an item record of version ${ITEM_RECORD_VERSION}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(4, true);
  let offset = HEADER_BYTES;
  let vector: Float32Array | undefined;
  if (length !== NO_VECTOR) {
    const end = offset + length * 4;
    if (end > bytes.length) throw new Error(`item "${id}": record shorter than its vector`);
    if (options.view === true && (bytes.byteOffset + offset) % 4 === 0) {
      vector = new Float32Array(bytes.buffer, bytes.byteOffset + offset, length);
    } else {
      vector = new Float32Array(length);
      new Uint8Array(vector.buffer).set(bytes.subarray(offset, end));
    }
    offset = end;
  }
  const flat = unpack(bytes.subarray(offset)) as unknown[];
  const fields: Record<string, FieldValue> = {};
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const name = flat[i] as string;
    const code = flat[i + 1];
    const value = flat[i + 2];
    if (code === TEXT) fields[name] = { type: "text", value: value as string };
    else if (code === TAG) fields[name] = { type: "tag", values: value as string[] };
    else if (code === NUMERIC) fields[name] = { type: "numeric", value: value as number };
    else throw new Error(`item "${id}": unknown field code ${String(code)}`);
  }
  return vector === undefined ? { id, fields: fields } : { id, vector, fields: fields };
}
