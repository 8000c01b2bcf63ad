/**
 * Upsert and UpsertStream requests encoded in one buffer (src/wire/message-writer.ts): the same bytes as
 * the generated encoder (a test compares them), written in two passes (sizes first, then the bytes into
 * one allocation) instead of the generated code's fork and join per nested message, each with its own
 * chunks (~2.5 µs per item with a vector and two metadata fields). `vecrec load` sends up to 1,000 items
 * a message: the encoding ran on the CLI's one thread between reads of the server's flow-control
 * updates, and an upload went at 0.4-0.65x of what the server takes from a client that sends
 * pre-encoded messages (bench/upsert-stream.ts).
 *
 * Negative enum values (never sent by the CLI) go through the generated encoder.
 */
import { credentials as grpcCredentials, makeGenericClientConstructor, type ChannelCredentials, type ClientOptions } from "@grpc/grpc-js";
import { UpsertRequest, VectorServiceClient, VectorServiceService, type UpsertStreamRequest } from "../gen/vecrec/v1/vecrec.js";
import { itemSize, MessageWriter, prefixed, stringSize, varintSize } from "../wire/message-writer.js";

/**
 * The generated client with Upsert and UpsertStream requests encoded by encodeUpsertRequest (every other
 * method as generated).
 */
export function createVectorServiceClient(address: string, credentials: ChannelCredentials = grpcCredentials.createInsecure(), options?: Partial<ClientOptions>): VectorServiceClient {
  const Client = makeGenericClientConstructor(
    {
      ...VectorServiceService,
      upsert: { ...VectorServiceService.upsert, requestSerialize: encodeUpsertRequest },
      upsertStream: { ...VectorServiceService.upsertStream, requestSerialize: encodeUpsertRequest },
    },
    "vecrec.v1.VectorService",
  ) as unknown as typeof VectorServiceClient;
  return new Client(address, credentials, options);
}

/** Upsert and UpsertStream requests share their fields (index_name = 1, items = 2, durability = 3). */
export function encodeUpsertRequest(request: UpsertRequest | UpsertStreamRequest): Buffer {
  const durability: number | undefined = request.durability;
  // Negative enum values (never sent by the CLI) are 10-byte varints: left to the generated encoder.
  if (durability !== undefined && (durability < 0 || !Number.isInteger(durability))) return Buffer.from(UpsertRequest.encode(request).finish());
  const sizes: number[] = [];
  let total = 0;
  if (request.indexName !== "") total += 1 + stringSize(request.indexName, sizes);
  for (const item of request.items) total += 1 + prefixed(itemSize(item, sizes));
  if (durability !== undefined) total += 1 + varintSize(durability);
  const writer = new MessageWriter(Buffer.allocUnsafe(total), sizes);
  if (request.indexName !== "") writer.tag(10).string(request.indexName);
  for (const item of request.items) writer.tag(18).item(item);
  if (durability !== undefined) writer.tag(24).varint(durability);
  return writer.buf;
}
