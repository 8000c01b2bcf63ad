/**
 * The streamed responses sent in bulk, encoded straight into gRPC frames: a page of Search hits or of
 * exported items becomes one buffer holding every message with its 5-byte frame header
 * (message-page.ts sends it in one write). Written in two passes with the shared message writer
 * (src/wire/message-writer.ts), the same bytes as the generated encoders (tests compare them); the
 * generated SearchResponse encoder took ~3 µs a hit (Object.entries and an entry object per field,
 * a fork and join per nested message, a copy out of its writer), ~30 µs of a k=10 Search's server CPU.
 */
import type { ExportItemsResponse, SearchResponse } from "../gen/vecrec/v1/vecrec.js";
import { FRAME_HEADER_BYTES, writeFrameHeader } from "./message-page.js";
import { fieldsSize, itemSize, MessageWriter, prefixed, reserve, stringSize, varintSize, vectorSize } from "../wire/message-writer.js";

/**
 * `messages` framed in one buffer: `size` records each message's body size (first, in a slot of its
 * own) and its parts' lengths; `write` writes the body's parts.
 */
function frames<T>(messages: readonly T[], size: (message: T, sizes: number[]) => number, write: (writer: MessageWriter, message: T) => void): Buffer {
  const sizes: number[] = [];
  let total = 0;
  for (const message of messages) total += FRAME_HEADER_BYTES + size(message, sizes);
  const writer = new MessageWriter(Buffer.allocUnsafe(total), sizes);
  for (const message of messages) {
    writeFrameHeader(writer.buf, writer.pos, writer.skipLength());
    writer.pos += FRAME_HEADER_BYTES;
    write(writer, message);
  }
  return writer.buf;
}

function searchResponseSize(message: SearchResponse, sizes: number[]): number {
  const at = reserve(sizes);
  let size = 0;
  if (message.id !== "") size += 1 + stringSize(message.id, sizes);
  if (message.distance !== 0) size += 9;
  if (message.rank !== 0) size += 1 + varintSize(message.rank);
  size += fieldsSize(message.fields, sizes);
  if (message.vector !== undefined) size += 1 + prefixed(vectorSize(message.vector, sizes));
  if (message.mmrScore !== undefined) size += 9;
  sizes[at] = size;
  return size;
}

function writeSearchResponse(writer: MessageWriter, message: SearchResponse): void {
  if (message.id !== "") writer.tag(10).string(message.id);
  if (message.distance !== 0) writer.tag(17).double(message.distance);
  if (message.rank !== 0) writer.tag(24).varint(message.rank);
  writer.fields(34, message.fields);
  if (message.vector !== undefined) writer.tag(42).vector(message.vector);
  if (message.mmrScore !== undefined) writer.tag(49).double(message.mmrScore);
}

/** Search hits, each its own SearchResponse message, framed in one buffer. */
export function searchResponseFrames(messages: readonly SearchResponse[]): Buffer {
  return frames(messages, searchResponseSize, writeSearchResponse);
}

function exportItemsResponseSize(message: ExportItemsResponse, sizes: number[]): number {
  const at = reserve(sizes);
  const size = message.item === undefined ? 0 : 1 + prefixed(itemSize(message.item, sizes));
  sizes[at] = size;
  return size;
}

function writeExportItemsResponse(writer: MessageWriter, message: ExportItemsResponse): void {
  if (message.item !== undefined) writer.tag(10).item(message.item);
}

/** Exported items, each its own ExportItemsResponse message, framed in one buffer. */
export function exportItemsResponseFrames(messages: readonly ExportItemsResponse[]): Buffer {
  return frames(messages, exportItemsResponseSize, writeExportItemsResponse);
}
