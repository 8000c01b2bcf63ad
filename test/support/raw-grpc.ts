/**
 * A gRPC call made over node:http2 directly, for tests that need what no grpc-js client does: a client
 * that never reads its answers (grpc-js reads and buffers them whatever the application does), or a
 * deadline that only the server enforces (a grpc-js client's own timer cancels the call first).
 */
import http2 from "node:http2";

/** A request on a new session to `address` (host:port) for `path`; errors are left to what arrives. */
export function rawGrpcRequest(address: string, path: string, headers: http2.OutgoingHttpHeaders = {}): { session: http2.ClientHttp2Session; stream: http2.ClientHttp2Stream } {
  const session = http2.connect(`http://${address}`);
  session.on("error", () => undefined);
  const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
  stream.on("error", () => undefined);
  return { session, stream };
}

/** `body` as one gRPC message frame (not compressed, its length in 4 bytes big-endian). */
export function grpcFrame(body: Buffer): Buffer {
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}
