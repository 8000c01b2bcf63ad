/**
 * The floor of any gRPC call: an empty unary call (zero-byte request and response, a handler that
 * answers at once) of a trivial grpc-js service on loopback. Its server runs next to the vecrec server
 * (bench/server-child.ts), so both pay the same process and transport costs.
 */
import { Client, Server, ServerCredentials, credentials, type ServiceDefinition } from "@grpc/grpc-js";

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
