/**
 * Response serializers for the streamed responses, one message per hit or item: the generated ones make a
 * new BinaryWriter for every message (its buffer grown from empty) and copy the finished bytes into a
 * Buffer (`Buffer.from(Uint8Array)`). Here each streamed response type keeps one writer, whose buffer has
 * grown once, and the finished bytes (a fresh copy, `finish()` slices) are handed over as a Buffer view,
 * not copied again. Encoding is synchronous, so one writer per type is never used by two messages at
 * once. Unary responses keep the generated serializers (one message per call).
 */
import type { ServiceDefinition } from "@grpc/grpc-js";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { ExportItemsResponse, RecommendResponse, SearchResponse, UpsertStreamResponse } from "../gen/vecrec/v1/vecrec.js";

interface Encoder<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

/** The streamed response type of each streaming method (the service definition's keys). */
const STREAMED: Readonly<Record<string, Encoder<never>>> = {
  search: SearchResponse,
  recommend: RecommendResponse,
  exportItems: ExportItemsResponse,
  upsertStream: UpsertStreamResponse,
};

/** A serializer writing every message of one type through one reused writer. */
export function reusingSerializer<T>(codec: Encoder<T>): (message: T) => Buffer {
  const writer = new BinaryWriter();
  return (message) => {
    const bytes = codec.encode(message, writer).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/** `definition` with the streamed responses' serializers replaced (see the module comment). */
export function withReusedWriters<D extends ServiceDefinition>(definition: D): D {
  const out: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(definition)) {
    const codec = STREAMED[key];
    out[key] = codec === undefined || !method.responseStream ? method : { ...method, responseSerialize: reusingSerializer(codec) };
  }
  return out as D;
}
