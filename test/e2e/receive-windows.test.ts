/**
 * The server's HTTP/2 receive windows (src/grpc/receive-windows.ts), as a client sees them: the initial
 * window its SETTINGS announce for each call, and the window of the connection once the server raised it.
 * A plain node:http2 client reads both from the server's frames.
 */
import { connect, type ClientHttp2Session } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/main.js";
import { CONNECTION_WINDOW_BYTES, STREAM_WINDOW_BYTES } from "../../src/grpc/receive-windows.js";
import type { RunningServer } from "../../src/grpc/server.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { pino } from "pino";

describe("HTTP/2 receive windows", () => {
  let server: RunningServer;
  const store = createEmbeddedStore();

  beforeAll(async () => {
    server = await startServer({ store, listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
  });

  afterAll(async () => {
    await server?.close({ graceMs: 100 });
    await store.close();
  });

  it("announces a 1 MiB window per call and raises the connection's to 4 MiB", async () => {
    const session: ClientHttp2Session = connect(`http://127.0.0.1:${server.port}`);
    try {
      const settings = await new Promise<{ initialWindowSize?: number }>((resolve, reject) => {
        session.once("remoteSettings", resolve);
        session.once("error", reject);
      });
      expect(STREAM_WINDOW_BYTES).toBe(1024 * 1024);
      expect(settings.initialWindowSize).toBe(STREAM_WINDOW_BYTES);
      // The connection's WINDOW_UPDATE follows the SETTINGS: wait until the client has seen it.
      const deadline = Date.now() + 2000;
      while (session.state.remoteWindowSize !== CONNECTION_WINDOW_BYTES && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(session.state.remoteWindowSize).toBe(CONNECTION_WINDOW_BYTES);
    } finally {
      session.destroy();
    }
  });
});
