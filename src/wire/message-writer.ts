/**
 * Protobuf encoding of vecrec messages in one buffer, in two passes: the sizes first (recorded in
 * order), then the bytes into a single allocation. The generated encoders fork and join a chunk per
 * nested message (an item's vector, each field entry and its value), copy the result out with
 * `finish()`, and allocate per entry; for the messages sent in bulk (the items of an UpsertStream
 * request, the hits of a Search, exported items) that was a few µs per item on the thread that also
 * does the rest of the work. The bytes are the generated encoders' own (the tests compare them for
 * random messages): same field order, defaults left out alike, strings as UTF-8 with lone surrogates
 * as U+FFFD (TextEncoder and Buffer agree).
 *
 * Shared by the CLI's client (UpsertStream requests, src/cli/upsert-encoding.ts) and the server
 * (streamed responses, src/grpc/response-frames.ts); it imports the generated types only.
 *
 * How to write a message: `xSize(message, sizes)` returns its size and records, in `sizes`, every
 * length the writer will need, in the order it writes them (a nested message's own length first: a
 * slot reserved and filled once its parts are counted; inline, without a closure per nested message,
 * as these run for every field of every hit). Then a MessageWriter over a buffer of the total
 * size, with the same `sizes`, writes it with the matching method, taking the lengths in that order.
 */
import type { FieldValue, Item, Vector } from "../gen/vecrec/v1/vecrec.js";

/** The size of a length-delimited value of `size` bytes with its length prefix. */
export function prefixed(size: number): number {
  return varintSize(size) + size;
}

export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** A slot for a size known once its parts are (filled by the caller). */
export function reserve(sizes: number[]): number {
  sizes.push(0);
  return sizes.length - 1;
}

/** A string's size with its prefix; its byte length recorded. */
export function stringSize(text: string, sizes: number[]): number {
  const length = utf8Length(text);
  sizes.push(length);
  return prefixed(length);
}

/** UTF-8 bytes of `text` (lone surrogates as U+FFFD, as TextEncoder and Buffer write them). */
function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, "utf8");
  return text.length;
}

/** Size of an Item body. */
export function itemSize(item: Item, sizes: number[]): number {
  const at = reserve(sizes);
  let size = 0;
  if (item.id !== "") size += 1 + stringSize(item.id, sizes);
  if (item.vector !== undefined) size += 1 + prefixed(vectorSize(item.vector, sizes));
  size += fieldsSize(item.fields, sizes);
  sizes[at] = size;
  return size;
}

/** Size of a `map<string, FieldValue>` field: one entry message per key (tag byte included). */
export function fieldsSize(fields: { readonly [key: string]: FieldValue }, sizes: number[]): number {
  let size = 0;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    const at = reserve(sizes);
    let entry = 0;
    if (key !== "") entry += 1 + stringSize(key, sizes);
    if (value !== undefined) entry += 1 + prefixed(fieldValueSize(value, sizes));
    sizes[at] = entry;
    size += 1 + prefixed(entry);
  }
  return size;
}

/** Size of a FieldValue body. */
function fieldValueSize(value: FieldValue, sizes: number[]): number {
  const at = reserve(sizes);
  const kind = value.kind;
  let size = 0;
  if (kind === undefined) size = 0;
  else if (kind.$case === "text") size = 1 + stringSize(kind.value, sizes);
  else if (kind.$case === "number") size = 9;
  else {
    const listAt = reserve(sizes);
    let list = 0;
    for (const tag of kind.value.values) list += 1 + stringSize(tag, sizes);
    sizes[listAt] = list;
    size = 1 + prefixed(list);
  }
  sizes[at] = size;
  return size;
}

/** Size of a Vector body. */
export function vectorSize(vector: Vector, sizes: number[]): number {
  const encoding = vector.encoding;
  let size = 0;
  if (encoding === undefined) size = 0;
  else if (encoding.$case === "float32Le") size = 1 + prefixed(encoding.value.length);
  else {
    // FloatList: packed floats, left out when empty.
    const count = encoding.value.values.length;
    size = 1 + prefixed(count === 0 ? 0 : 1 + prefixed(4 * count));
  }
  sizes.push(size);
  return size;
}

/** Writes the second pass, taking the recorded sizes in order (where the generated code forks and joins). */
export class MessageWriter {
  pos: number;
  #next = 0;

  constructor(
    readonly buf: Buffer,
    private readonly sizes: readonly number[],
    start = 0,
  ) {
    this.pos = start;
  }

  tag(tag: number): this {
    this.buf[this.pos++] = tag;
    return this;
  }

  varint(value: number): this {
    while (value >= 0x80) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.pos++] = value;
    return this;
  }

  double(value: number): this {
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
    return this;
  }

  /** The length prefix of the next nested value or string, as recorded. */
  length(): number {
    const size = this.sizes[this.#next++]!;
    this.varint(size);
    return size;
  }

  /** Skips the next recorded size: a nested message whose length was written elsewhere (a frame header). */
  skipLength(): number {
    return this.sizes[this.#next++]!;
  }

  string(text: string): this {
    const size = this.length();
    if (size === text.length) {
      // ASCII (utf8Length said so): byte by byte.
      for (let i = 0; i < size; i++) this.buf[this.pos + i] = text.charCodeAt(i);
    } else this.buf.write(text, this.pos, size, "utf8");
    this.pos += size;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.varint(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** An Item body (its tag written by the caller). */
  item(item: Item): this {
    this.length();
    if (item.id !== "") this.tag(10).string(item.id);
    if (item.vector !== undefined) this.tag(18).vector(item.vector);
    return this.fields(26, item.fields);
  }

  /** A `map<string, FieldValue>` field with tag byte `tag`. */
  fields(tag: number, fields: { readonly [key: string]: FieldValue }): this {
    for (const key in fields) {
      if (!Object.hasOwn(fields, key)) continue;
      this.tag(tag).length();
      if (key !== "") this.tag(10).string(key);
      const value = fields[key];
      if (value !== undefined) this.tag(18).fieldValue(value);
    }
    return this;
  }

  fieldValue(value: FieldValue): this {
    this.length();
    const kind = value.kind;
    if (kind === undefined) return this;
    if (kind.$case === "text") return this.tag(10).string(kind.value);
    if (kind.$case === "number") return this.tag(25).double(kind.value);
    this.tag(18).length();
    for (const tag of kind.value.values) this.tag(10).string(tag);
    return this;
  }

  /** A Vector body (its tag written by the caller). */
  vector(vector: Vector): this {
    this.length();
    const encoding = vector.encoding;
    if (encoding === undefined) return this;
    if (encoding.$case === "float32Le") return this.tag(10).bytes(encoding.value);
    const values = encoding.value.values;
    this.tag(18).varint(values.length === 0 ? 0 : 1 + prefixed(4 * values.length));
    if (values.length === 0) return this;
    this.tag(10).varint(4 * values.length);
    for (const value of values) {
      this.buf.writeFloatLE(value, this.pos);
      this.pos += 4;
    }
    return this;
  }
}
