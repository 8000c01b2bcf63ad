/**
 * UpsertStreamRequest encoded in one buffer: the same bytes as the generated encoder (a test compares
 * them), written in two passes (sizes first, then the bytes into one allocation) instead of the
 * generated code's fork and join per nested message, each with its own chunks (~2.5 µs per item with a
 * vector and two metadata fields). `vecrec load` sends up to 1,000 items a message: the encoding ran on
 * the CLI's one thread between reads of the server's flow-control updates, and an upload went at
 * 0.4-0.65x of what the server takes from a client that sends pre-encoded messages (bench/upsert-stream.ts).
 *
 * Vectors given as float lists and negative enum values (never sent by the CLI) go through the generated
 * encoder.
 */
import { credentials as grpcCredentials, makeGenericClientConstructor, type ChannelCredentials, type ClientOptions } from "@grpc/grpc-js";
import { UpsertStreamRequest, VectorServiceClient, VectorServiceService, type FieldValue, type Item } from "../gen/vecrec/v1/vecrec.js";

/**
 * The generated client with UpsertStream requests encoded by encodeUpsertStreamRequest (every other method
 * as generated).
 */
export function createVectorServiceClient(address: string, credentials: ChannelCredentials = grpcCredentials.createInsecure(), options?: Partial<ClientOptions>): VectorServiceClient {
  const Client = makeGenericClientConstructor(
    { ...VectorServiceService, upsertStream: { ...VectorServiceService.upsertStream, requestSerialize: encodeUpsertStreamRequest } },
    "vecrec.v1.VectorService",
  ) as unknown as typeof VectorServiceClient;
  return new Client(address, credentials, options);
}

export function encodeUpsertStreamRequest(request: UpsertStreamRequest): Buffer {
  if (!encodable(request)) return Buffer.from(UpsertStreamRequest.encode(request).finish());
  const sizes: number[] = [];
  let total = 0;
  if (request.indexName !== "") total += 1 + stringSize(request.indexName, sizes);
  for (const item of request.items) total += 1 + prefixed(itemSize(item, sizes));
  if (request.durability !== undefined) total += 1 + varintSize(request.durability);
  const writer = new Writer(Buffer.allocUnsafe(total), sizes);
  if (request.indexName !== "") writer.tag(10).string(request.indexName);
  for (const item of request.items) writer.tag(18).item(item);
  if (request.durability !== undefined) writer.tag(24).varint(request.durability);
  return writer.buf;
}

/** Whether every part is of the shapes written here (float32_le vectors, non-negative durability). */
function encodable(request: UpsertStreamRequest): boolean {
  const durability: number | undefined = request.durability;
  if (durability !== undefined && (durability < 0 || !Number.isInteger(durability))) return false;
  for (const item of request.items) {
    if (item.vector !== undefined && item.vector.encoding !== undefined && item.vector.encoding.$case !== "float32Le") return false;
  }
  return true;
}

/** The size of a length-delimited value of `size` bytes with its length prefix. */
function prefixed(size: number): number {
  return varintSize(size) + size;
}

// Each size function records, in `sizes`, the lengths the writer will need, in the order it writes them:
// a nested message's own length first (a slot reserved, filled once its parts are counted), then its parts'.

/** A string's size with its prefix; its byte length recorded. */
function stringSize(text: string, sizes: number[]): number {
  const length = utf8Length(text);
  sizes.push(length);
  return prefixed(length);
}

function itemSize(item: Item, sizes: number[]): number {
  const at = reserve(sizes);
  let size = 0;
  if (item.id !== "") size += 1 + stringSize(item.id, sizes);
  if (item.vector !== undefined) {
    const encoding = item.vector.encoding;
    // encodable(): float32_le or none.
    const vectorSize = encoding?.$case === "float32Le" ? 1 + prefixed(encoding.value.length) : 0;
    sizes.push(vectorSize);
    size += 1 + prefixed(vectorSize);
  }
  for (const key in item.fields) {
    if (!Object.hasOwn(item.fields, key)) continue;
    const entryAt = reserve(sizes);
    let entry = 0;
    if (key !== "") entry += 1 + stringSize(key, sizes);
    const value = item.fields[key];
    if (value !== undefined) {
      const valueAt = reserve(sizes);
      const valueSize = fieldValueSize(value, sizes);
      sizes[valueAt] = valueSize;
      entry += 1 + prefixed(valueSize);
    }
    sizes[entryAt] = entry;
    size += 1 + prefixed(entry);
  }
  sizes[at] = size;
  return size;
}

/** A slot for a size known once its parts are (filled by the caller). */
function reserve(sizes: number[]): number {
  sizes.push(0);
  return sizes.length - 1;
}

function fieldValueSize(value: FieldValue, sizes: number[]): number {
  const kind = value.kind;
  if (kind === undefined) return 0;
  if (kind.$case === "text") return 1 + stringSize(kind.value, sizes);
  if (kind.$case === "number") return 9;
  const listAt = reserve(sizes);
  let list = 0;
  for (const tag of kind.value.values) list += 1 + stringSize(tag, sizes);
  sizes[listAt] = list;
  return 1 + prefixed(list);
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** UTF-8 bytes of `text` (lone surrogates as U+FFFD, as TextEncoder and Buffer write them). */
function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, "utf8");
  return text.length;
}

/** Writes the second pass, taking the recorded sizes in order (where the generated code forks and joins). */
class Writer {
  pos = 0;
  #next = 0;

  constructor(
    readonly buf: Buffer,
    private readonly sizes: readonly number[],
  ) {}

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

  /** The length prefix of the next nested value or string, as recorded. */
  #length(): number {
    const size = this.sizes[this.#next++]!;
    this.varint(size);
    return size;
  }

  string(text: string): this {
    const size = this.#length();
    if (size === text.length) {
      // ASCII (utf8Length said so): byte by byte.
      for (let i = 0; i < size; i++) this.buf[this.pos + i] = text.charCodeAt(i);
    } else this.buf.write(text, this.pos, size, "utf8");
    this.pos += size;
    return this;
  }

  item(item: Item): this {
    this.#length();
    if (item.id !== "") this.tag(10).string(item.id);
    if (item.vector !== undefined) {
      this.tag(18).#length();
      const encoding = item.vector.encoding;
      if (encoding !== undefined && encoding.$case === "float32Le") {
        this.tag(10).varint(encoding.value.length);
        this.buf.set(encoding.value, this.pos);
        this.pos += encoding.value.length;
      }
    }
    for (const key in item.fields) {
      if (!Object.hasOwn(item.fields, key)) continue;
      this.tag(26).#length();
      if (key !== "") this.tag(10).string(key);
      const value = item.fields[key];
      if (value !== undefined) {
        this.tag(18).#length();
        this.fieldValue(value);
      }
    }
    return this;
  }

  fieldValue(value: FieldValue): void {
    const kind = value.kind;
    if (kind === undefined) return;
    if (kind.$case === "text") this.tag(10).string(kind.value);
    else if (kind.$case === "number") {
      this.tag(25);
      this.buf.writeDoubleLE(kind.value, this.pos);
      this.pos += 8;
    } else {
      this.tag(18).#length();
      for (const tag of kind.value.values) this.tag(10).string(tag);
    }
  }
}
