/**
 * Pages of a server stream: the messages a streaming handler has in memory at once (the hits of a
 * Search, the items of a Recommend, a batch of exported items). Each stays its own gRPC message on the
 * wire (one hit per message is the contract), but the page crosses grpc-js as one pre-framed chunk: one
 * pass through its call chain and one HTTP/2 write instead of one of each per message.
 *
 * grpc-js has no public way to send bytes already framed. Its server call serializes each message
 * with the method's serializer and prefixes the gRPC frame header (`serializeMessage`), then writes the
 * result to the HTTP/2 stream. `pageFraming` wraps that method, once, so that it passes a FramedMessages
 * through as it is and serializes anything else as before; everything else grpc-js does for a message
 * (headers first, the write callback, errors) is unchanged. Where the call does not have that shape
 * (another grpc-js), or the server limits the size of a sent message (grpc-js checks it per message;
 * vecrec sets none), there is no framing and pages are written message by message, as before.
 */
import { baseCallOf } from "./call-chain.js";

/** Encodes messages straight into gRPC frames, all in one buffer (response-frames.ts). */
export type FramesEncoder<T> = (messages: readonly T[]) => Buffer;

/**
 * Messages ready together: `toMessage` of each of `items`, made and sent up to PAGE_CHUNK at a time,
 * fewer when they are large (stream-writer.ts, PageWriter: a client that cancels or reads slowly stops
 * the work between chunks, and a chunk's buffer stays near 64 KiB). A chunk is written as one framed buffer where the call allows (see the module comment),
 * encoded by `encodeFrames` when given, else by the method's serializer message by message.
 */
export class MessagePage<T> {
  private constructor(
    /** How many messages. */
    readonly count: number,
    /** Makes the message at `index` (0 ≤ index < count), once, in order. */
    readonly message: (index: number) => T,
    readonly encodeFrames: FramesEncoder<T> | undefined,
  ) {}

  static of<S, T>(items: readonly S[], toMessage: (item: S, index: number) => T, encodeFrames?: FramesEncoder<T>): MessagePage<T> {
    return new MessagePage(items.length, (index) => toMessage(items[index] as S, index), encodeFrames);
  }
}

/** Messages made and written together, at most: a k=10 Search is one chunk, an export batch a few. */
export const PAGE_CHUNK = 128;

/** A page's messages serialized and framed for the wire: `count` gRPC messages in `bytes`. */
export class FramedMessages {
  constructor(
    readonly bytes: Buffer,
    readonly count: number,
  ) {}
}

/** How many messages a chunk handed to grpc-js holds (a framed page: its count; anything else: one). */
export function messageCount(message: unknown): number {
  return message instanceof FramedMessages ? message.count : 1;
}

/** gRPC's frame header: a compressed flag byte and a 4-byte big-endian length. */
export const FRAME_HEADER_BYTES = 5;

/** The part of grpc-js's server call (BaseServerInterceptingCall) a page is framed for. */
interface FramingCall {
  serializeMessage(value: unknown): Buffer;
  readonly handler: { serialize(value: unknown): Buffer | Uint8Array };
  /** -1: no limit (grpc-js's default, vecrec's server). */
  readonly maxSendMessageSize: number;
}

/** Frames a chunk of a page's messages (at least one) into one buffer for one write. */
export type PageFraming = <T>(messages: readonly T[], encodeFrames: FramesEncoder<T> | undefined) => FramedMessages;

/** Prototypes of grpc-js server calls whose serializeMessage passes framed pages through. */
const hooked = new WeakSet<object>();

/**
 * The page framing for a grpc-js server stream, or undefined when its call chain does not end in a
 * call of the shape this relies on, or when the server limits the size of a sent message (grpc-js
 * then checks each message, which it could not do inside a framed chunk): pages then go message by
 * message.
 */
export function pageFraming(call: object): PageFraming | undefined {
  const base = framingCallOf(call);
  if (base === undefined || base.maxSendMessageSize >= 0) return undefined;
  hookSerializeMessage(base);
  const serialize = (message: unknown): Uint8Array => base.handler.serialize(message);
  return <T>(messages: readonly T[], encodeFrames: FramesEncoder<T> | undefined): FramedMessages =>
    new FramedMessages(encodeFrames !== undefined ? encodeFrames(messages) : frame(messages, serialize), messages.length);
}

/**
 * Lets the server call's `serializeMessage` pass a FramedMessages through as it is (anything else is
 * serialized as before). Done once on the prototype, not per call: an own property would give those
 * calls another hidden class, and every call (unary ones too) would then go through grpc-js's code
 * with polymorphic property lookups.
 */
function hookSerializeMessage(base: FramingCall): void {
  const prototype = Object.getPrototypeOf(base) as FramingCall | null;
  const owner: FramingCall = prototype !== null && typeof prototype.serializeMessage === "function" && !Object.hasOwn(base, "serializeMessage") ? prototype : base;
  if (hooked.has(owner)) return;
  hooked.add(owner);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the call as `this`
  const serializeMessage = owner.serializeMessage;
  owner.serializeMessage = function (this: FramingCall, value: unknown): Buffer {
    return value instanceof FramedMessages ? value.bytes : serializeMessage.call(this, value);
  };
}

/** Writes a gRPC frame header for a message of `length` bytes at `at` (not compressed). */
export function writeFrameHeader(out: Buffer, at: number, length: number): void {
  out[at] = 0;
  out.writeUInt32BE(length, at + 1);
}

/** `messages` serialized by `serialize` and framed in one buffer. */
export function frame(messages: readonly unknown[], serialize: (message: unknown) => Uint8Array): Buffer {
  // The serializers hand over fresh bytes per message (response-encoding.ts: a reused writer, but
  // `finish()` returns a copy), so they can be kept until the buffer is allocated.
  const bodies = messages.map(serialize);
  let bytes = 0;
  for (const body of bodies) bytes += FRAME_HEADER_BYTES + body.byteLength;
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const body of bodies) {
    writeFrameHeader(out, at, body.byteLength);
    out.set(body, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + body.byteLength;
  }
  return out;
}

/** The base call of a grpc-js server stream (call-chain.ts), when it has what framing relies on. */
function framingCallOf(call: object): FramingCall | undefined {
  const candidate = baseCallOf(call) as Partial<FramingCall> | undefined;
  if (
    candidate !== undefined &&
    typeof candidate.serializeMessage === "function" &&
    typeof candidate.handler?.serialize === "function" &&
    typeof candidate.maxSendMessageSize === "number"
  ) {
    return candidate as FramingCall;
  }
  return undefined;
}
