/**
 * The floor of any gRPC call: an empty unary call (zero-byte request and response, a handler that
 * answers at once) of a trivial grpc-js service on loopback. Its server runs next to the vecrec server
 * (bench/server-child.ts), so both pay the same process and transport costs.
 */
import { Client, Server, ServerCredentials, credentials, type ServerWritableStream, type ServiceDefinition } from "@grpc/grpc-js";
import { frame, FramedMessages, pageFraming } from "../src/grpc/message-page.js";

const PATH = "/bench.Empty/Call";
const bytes = (b: Buffer): Buffer => b;
const EMPTY = Buffer.alloc(0);

const EMPTY_SERVICE: ServiceDefinition = {
  call: {
    path: PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
};

/** Starts the empty service on 127.0.0.1:0; resolves with its port and a close function. */
export async function startEmptyServer(): Promise<{ port: number; close: () => void }> {
  const server = new Server();
  server.addService(EMPTY_SERVICE, {
    call: (_call: unknown, callback: (error: null, value: Buffer) => void) => callback(null, EMPTY),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { port, close: () => server.forceShutdown() };
}

/** A client of the empty service: `call()` resolves when the empty answer arrives. */
export function emptyClient(port: number): { call: () => Promise<void>; close: () => void } {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    call: () =>
      new Promise<void>((resolve, reject) => {
        client.makeUnaryRequest(PATH, bytes, bytes, EMPTY, (error) => (error ? reject(error) : resolve()));
      }),
    close: () => client.close(),
  };
}

/**
 * The floor of a Search as a bare grpc-js server would serve it: a server-streaming call whose request
 * is an FT.SEARCH command (encodeCommand), which the handler sends to Redis as it is (no decoding of a
 * SearchRequest, no validation, no reply parsing) and, once Redis answered, writes `messages` messages
 * of `messageBytes` bytes prepared in advance, all in one write (vecrec's page framing,
 * src/grpc/message-page.ts), then ends the call. What is left is grpc-js, HTTP/2, node-redis and Redis:
 * vecrec's Search over this is vecrec's own work.
 */
const BARE_SEARCH_PATH = "/bench.BareSearch/Call";

const BARE_SEARCH_SERVICE: ServiceDefinition = {
  call: {
    path: BARE_SEARCH_PATH,
    requestStream: false,
    responseStream: true,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
};

/** A command as one buffer: per argument its byte length (uint32 BE) and its bytes. */
export function encodeCommand(command: readonly (string | Buffer)[]): Buffer {
  const parts = command.map((arg) => (typeof arg === "string" ? Buffer.from(arg) : arg));
  const out = Buffer.alloc(parts.reduce((sum, part) => sum + 4 + part.length, 0));
  let at = 0;
  for (const part of parts) {
    at = out.writeUInt32BE(part.length, at);
    at += part.copy(out, at);
  }
  return out;
}

function decodeCommand(bytes: Buffer): Buffer[] {
  const args: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    args.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return args;
}

/** Starts the bare Search service on 127.0.0.1:0 over `send` (a node-redis client's sendCommand). */
export async function startBareSearchServer(
  send: (command: Buffer[]) => Promise<unknown>,
  messages: number,
  messageBytes: number,
): Promise<{ port: number; close: () => void }> {
  const list = Array.from({ length: messages }, () => Buffer.alloc(messageBytes, 1));
  const framed = frame(list, (message) => message as Buffer);
  const server = new Server();
  server.addService(BARE_SEARCH_SERVICE, {
    call: (call: ServerWritableStream<Buffer, Buffer | FramedMessages>) => {
      send(decodeCommand(call.request)).then(
        () => {
          // One write of the frames (grpc-js without the framing hook: one write per message).
          if (pageFraming(call) === undefined) for (const message of list) call.write(message);
          else call.write(new FramedMessages(framed, messages));
          call.end();
        },
        (error: unknown) => call.destroy(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { port, close: () => server.forceShutdown() };
}

/** A client of the bare Search service: `call(command)` resolves with the number of messages read. */
export function bareSearchClient(port: number): { call: (command: Buffer) => Promise<number>; close: () => void } {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    call: (command) =>
      new Promise<number>((resolve, reject) => {
        const stream = client.makeServerStreamRequest(BARE_SEARCH_PATH, bytes, bytes, command);
        let count = 0;
        stream.on("data", () => count++);
        stream.on("error", reject);
        stream.on("end", () => resolve(count));
      }),
    close: () => client.close(),
  };
}
