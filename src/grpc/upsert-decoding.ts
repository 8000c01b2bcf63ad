/**
 * UpsertRequest and UpsertStreamRequest (the same fields: `index_name` 1, `items` 2, `durability` 3)
 * decoded from their bytes straight to the Upsert use case's item inputs, in grpc-js's deserializer.
 *
 * Why by hand: an upload is up to 1,000 items a message, and the generated decoder builds four to six
 * objects per item (the Item, its Vector, the oneof, the fields map, each FieldValue and its oneof) that
 * `decodeItems` then turns into an ItemInput and drops: ~1.5 µs and ~1 KB of garbage per item, much of it
 * still alive at the next scavenge while the message is written (scavenges of 4-12 ms were the gaps of an
 * UpsertStream on the embedded engine). Here each item becomes its ItemInput directly, its vector a view
 * of the request's bytes (or of one slab per message for the vectors that do not sit at a multiple of
 * 4), the wire read in place (WireReader below); strings give the text the generated code gives (short
 * ASCII ones read natively, field names and tags from a small cache, anything else through a TextDecoder
 * set up as @bufbuild's).
 *
 * Only the clean shape is read here: the fields above with their own wire types, each item's id, a
 * `float32_le` vector of whole floats, and metadata entries with a key other than `__proto__` and a
 * value whose `kind` is set. Anything else (unknown fields, `float32_values`, a Vector or FieldValue
 * without its oneof, a map entry without a value, malformed or truncated bytes, a big-endian host) is
 * decoded by the generated decoder and `decodeItems`, exactly as before, so that every odd request gets
 * the answer it always had (its INVALID_ARGUMENT names the same field).
 */
import type { ServiceDefinition } from "@grpc/grpc-js";
import type { FieldValue as DomainFieldValue } from "../domain/item.js";
import { LITTLE_ENDIAN_HOST } from "../domain/vector.js";
import type { Decoded } from "../domain/violations.js";
import { UpsertRequest, UpsertStreamRequest, type Durability, type Item } from "../gen/vecrec/v1/vecrec.js";
import type { ItemInput } from "../usecases/items.js";
import { Float32Slab, decodeItems } from "./item-mapping.js";

/** An UpsertRequest or UpsertStreamRequest with its items decoded for the use case. */
export interface DecodedUpsertRequest {
  readonly indexName: string;
  readonly items: ItemInput[];
  readonly durability: Durability | undefined;
}

/** The fields a generated decoder gives (UpsertRequest.decode, UpsertStreamRequest.decode). */
interface GeneratedUpsertRequest {
  readonly indexName: string;
  readonly items: Item[];
  readonly durability?: Durability | undefined;
}

/**
 * A deserializer for grpc-js: `bytes` read the clean way, or by `generated` (whose errors it throws: an
 * undecodable request fails as it did).
 */
export function upsertRequestDeserializer(generated: (bytes: Uint8Array) => GeneratedUpsertRequest): (bytes: Uint8Array) => DecodedUpsertRequest {
  return (bytes) => {
    const clean = decodeClean(bytes);
    if (clean !== undefined) return clean;
    const request = generated(bytes);
    return { indexName: request.indexName, items: decodeItems(request.items), durability: request.durability };
  };
}

/** `definition` (VectorService's) with Upsert and UpsertStream requests decoded as DecodedUpsertRequests. */
export function withUpsertDecoding<D extends ServiceDefinition>(definition: D): D {
  const generated: Record<string, (bytes: Uint8Array) => GeneratedUpsertRequest> = {
    upsert: (bytes) => UpsertRequest.decode(bytes),
    upsertStream: (bytes) => UpsertStreamRequest.decode(bytes),
  };
  const out: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(definition)) {
    const decode = generated[key];
    out[key] = decode === undefined ? method : { ...method, requestDeserialize: upsertRequestDeserializer(decode) };
  }
  return out as D;
}

// Tags: field number << 3 | wire type (0 varint, 1 64-bit, 2 length-delimited).
const FIELD_1_BYTES = 10;
const FIELD_2_BYTES = 18;
const FIELD_3_VARINT = 24;
const FIELD_3_DOUBLE = 25;
const FIELD_3_BYTES = 26;

/** Thrown inside decodeClean when the request is not of the clean shape (caught there). */
const NOT_CLEAN = new Error("not of the clean shape");

/** The generated decoder's way to read UTF-8 (@bufbuild's: TextDecoder, replacing bad sequences, BOM kept). */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
/** Strings up to this many bytes are checked for ASCII in JavaScript and read natively (ids, field names, tags). */
const SHORT_STRING = 64;
/** Buffer's own latin1 reader (one string from bytes, no view): the same text as UTF-8 for ASCII bytes. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;
/** Field names and tags seen lately, by a hash of their bytes (a direct-mapped cache: a collision replaces). */
const INTERNED_SLOTS = 256;
const internedStrings: (string | undefined)[] = new Array<string | undefined>(INTERNED_SLOTS).fill(undefined);

/** Whether `text` (ASCII) is the bytes at `start` (as many as its length). */
function sameAscii(text: string, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

/**
 * The wire primitives the clean shape needs, read in place (a position in the request's bytes; every
 * read checked against their end): one-byte tags, lengths (varints up to 4 bytes: 256 MiB, more than a
 * message may hold), strings, doubles. Anything else throws NOT_CLEAN.
 */
class WireReader {
  pos = 0;
  readonly len: number;
  readonly #view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.len = bytes.length;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** A varint of one byte: a tag (field numbers 1-15) or a small enum value; else NOT_CLEAN. */
  tag(): number {
    if (this.pos >= this.len) throw NOT_CLEAN;
    const byte = this.bytes[this.pos++]!;
    if (byte >= 0x80) throw NOT_CLEAN;
    return byte;
  }

  /** A length prefix (or a small varint), checked to fit what is left. */
  length(): number {
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= this.len) throw NOT_CLEAN;
      const byte = this.bytes[this.pos++]!;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        if (value > this.len - this.pos) throw NOT_CLEAN;
        return value;
      }
    }
    throw NOT_CLEAN;
  }

  /** The end of the length-delimited value the reader is at. */
  end(): number {
    const length = this.length();
    return this.pos + length;
  }

  /**
   * A string field: a short ASCII one in one native call without a view (the same text TextDecoder gives
   * for ASCII), anything else through TextDecoder as the generated decoder does. `interned`: a string
   * repeated from item to item (a field name, a tag) is taken from a small cache when its bytes match one
   * seen before: no new string per item.
   */
  string(interned = false): string {
    const length = this.length();
    const start = this.pos;
    const end = start + length;
    this.pos = end;
    const bytes = this.bytes;
    if (length > SHORT_STRING) return utf8.decode(bytes.subarray(start, end));
    let hash = length;
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      if (byte >= 0x80) return utf8.decode(bytes.subarray(start, end));
      hash = (Math.imul(hash, 31) + byte) | 0;
    }
    if (!interned) return latin1Slice.call(bytes, start, end);
    const slot = hash & (INTERNED_SLOTS - 1);
    const cached = internedStrings[slot];
    if (cached !== undefined && cached.length === length && sameAscii(cached, bytes, start)) return cached;
    const text = latin1Slice.call(bytes, start, end);
    internedStrings[slot] = text;
    return text;
  }

  double(): number {
    if (this.len - this.pos < 8) throw NOT_CLEAN;
    const value = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }
}

/** An item read, its vector still a place in the request's bytes (start -1: none). */
interface ItemParts {
  readonly items: ItemInput[];
  readonly vectorStarts: number[];
  readonly vectorLengths: number[];
}

/** The request decoded, or undefined when it is not of the clean shape (see the module comment). */
export function decodeClean(bytes: Uint8Array): DecodedUpsertRequest | undefined {
  if (!LITTLE_ENDIAN_HOST) return undefined;
  const reader = new WireReader(bytes);
  const parts: ItemParts = { items: [], vectorStarts: [], vectorLengths: [] };
  let indexName = "";
  let durability: Durability | undefined;
  try {
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      if (tag === FIELD_1_BYTES) indexName = reader.string();
      else if (tag === FIELD_2_BYTES) readItem(reader, reader.end(), parts);
      else if (tag === FIELD_3_VARINT) {
        // An enum value of one byte (0-127); anything longer (a negative value) goes the generated way.
        durability = reader.tag();
      } else return undefined;
    }
  } catch {
    return undefined;
  }
  attachVectors(bytes, parts);
  return { indexName, items: parts.items, durability };
}

function readItem(reader: WireReader, end: number, parts: ItemParts): void {
  let id = "";
  let vectorStart = -1;
  let vectorLength = 0;
  const fields: Record<string, Decoded<DomainFieldValue>> = {};
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === FIELD_1_BYTES) id = reader.string();
    else if (tag === FIELD_2_BYTES) {
      // Vector { oneof encoding { bytes float32_le = 1; ... } }: only float32_le, whole floats.
      const vectorEnd = reader.end();
      vectorStart = -1;
      while (reader.pos < vectorEnd) {
        if (reader.tag() !== FIELD_1_BYTES) throw NOT_CLEAN;
        vectorLength = reader.length();
        vectorStart = reader.pos;
        reader.pos += vectorLength;
      }
      if (reader.pos !== vectorEnd || vectorStart < 0 || vectorLength % 4 !== 0) throw NOT_CLEAN;
    } else if (tag === FIELD_3_BYTES) {
      // map<string, FieldValue> entry { string key = 1; FieldValue value = 2; }
      const entryEnd = reader.end();
      let key = "";
      let value: Decoded<DomainFieldValue> | undefined;
      while (reader.pos < entryEnd) {
        const entryTag = reader.tag();
        if (entryTag === FIELD_1_BYTES) key = reader.string(true);
        else if (entryTag === FIELD_2_BYTES) value = readFieldValue(reader, reader.end());
        else throw NOT_CLEAN;
      }
      if (reader.pos !== entryEnd || value === undefined || key === "__proto__") throw NOT_CLEAN;
      fields[key] = value;
    } else throw NOT_CLEAN;
  }
  if (reader.pos !== end) throw NOT_CLEAN;
  // The vector is set by attachVectors (the same shape as decodeItems' inputs).
  parts.items.push({ id, vector: undefined, fields });
  parts.vectorStarts.push(vectorStart);
  parts.vectorLengths.push(vectorLength);
}

/** FieldValue { oneof kind { string text = 1; TagList tags = 2; double number = 3; } }, the last one set. */
function readFieldValue(reader: WireReader, end: number): DomainFieldValue {
  let value: DomainFieldValue | undefined;
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === FIELD_1_BYTES) value = { type: "text", value: reader.string() };
    else if (tag === FIELD_2_BYTES) {
      const tagsEnd = reader.end();
      const values: string[] = [];
      while (reader.pos < tagsEnd) {
        if (reader.tag() !== FIELD_1_BYTES) throw NOT_CLEAN;
        values.push(reader.string(true));
      }
      if (reader.pos !== tagsEnd) throw NOT_CLEAN;
      value = { type: "tag", values };
    } else if (tag === FIELD_3_DOUBLE) value = { type: "numeric", value: reader.double() };
    else throw NOT_CLEAN;
  }
  if (reader.pos !== end || value === undefined) throw NOT_CLEAN;
  return value;
}

/** Gives each item its vector, viewed in `bytes` or copied into the message's slab (Float32Slab). */
function attachVectors(bytes: Uint8Array, parts: ItemParts): void {
  const { items, vectorStarts, vectorLengths } = parts;
  const count = items.length;
  let misalignedBytes = 0;
  for (let i = 0; i < count; i++) {
    if (vectorStarts[i]! >= 0) misalignedBytes += Float32Slab.bytesToCopy(bytes.byteOffset + vectorStarts[i]!, vectorLengths[i]!);
  }
  const slab = new Float32Slab(misalignedBytes);
  for (let i = 0; i < count; i++) {
    const start = vectorStarts[i]!;
    if (start >= 0) items[i]!.vector = slab.floats(bytes.buffer, bytes.byteOffset + start, vectorLengths[i]!);
  }
}
