/**
 * The server's HTTP/2 receive windows: how many bytes a client may send ahead of what the server has read.
 * grpc-js leaves both at HTTP/2's 64 KiB and grows neither (gRPC's C core probes the bandwidth-delay
 * product and grows them). With a 64 KiB window, a message of 1,000 upserted items (about 600 KiB) crosses
 * in ten window updates, each one waiting for the server's event loop: while the server validates and
 * writes one message the client can send almost nothing of the next, and the call's throughput is the
 * sum of the two instead of the larger (the server sat idle 45% of an embedded UpsertStream, bench
 * profile). vecrec raises them to:
 * - STREAM_WINDOW_BYTES per call (HTTP/2 SETTINGS_INITIAL_WINDOW_SIZE), the most a call's client can have
 *   sent beyond what its handler read: the bound on a call's buffered bytes (README "Limits");
 * - CONNECTION_WINDOW_BYTES per connection, shared by its calls.
 *
 * Neither is a grpc-js option: the settings go into the options grpc-js creates its HTTP/2 servers with,
 * and the connection window is set on each session as it opens. A grpc-js without those internals keeps
 * its defaults (slower uploads, nothing else changes); test/e2e/receive-windows.test.ts checks them.
 */
import type { Server } from "@grpc/grpc-js";
import type { Http2Server, Http2Session, Settings } from "node:http2";

/** Receive window of one call (stream), bytes. */
export const STREAM_WINDOW_BYTES = 1024 * 1024;
/** Receive window of one connection, shared by its calls, bytes. */
export const CONNECTION_WINDOW_BYTES = 4 * 1024 * 1024;

interface GrpcServerInternals {
  commonServerOptions?: { settings?: Settings };
  http2Servers?: Map<Http2Server, unknown>;
}

/** Before binding: every HTTP/2 server `server` creates announces STREAM_WINDOW_BYTES as its initial window. */
export function raiseStreamWindow(server: Server): boolean {
  const internals = server as unknown as GrpcServerInternals;
  if (typeof internals.commonServerOptions !== "object") return false;
  internals.commonServerOptions.settings = { ...internals.commonServerOptions.settings, initialWindowSize: STREAM_WINDOW_BYTES };
  return true;
}

/** After binding: each new connection's window becomes CONNECTION_WINDOW_BYTES. */
export function raiseConnectionWindow(server: Server): boolean {
  const servers = (server as unknown as GrpcServerInternals).http2Servers;
  if (!(servers instanceof Map)) return false;
  for (const http2Server of servers.keys()) {
    http2Server.on("session", (session: Http2Session) => {
      try {
        session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
      } catch {
        // A session already closing: nothing to raise.
      }
    });
  }
  return true;
}
