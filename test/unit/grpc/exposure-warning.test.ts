// The warning when the port is reachable from other machines without TLS or tokens.
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { isLoopback } from "../../../src/grpc/server.js";
import { startServer } from "../../../src/main.js";
import { createEmbeddedStore } from "../../../src/store/embedded/embedded-store.js";

describe("exposure warning", () => {
  it("tells loopback addresses from the others", () => {
    for (const host of ["127.0.0.1:1", "127.1.2.3:1", "localhost:1", "[::1]:1"]) expect(isLoopback(host), host).toBe(true);
    for (const host of ["0.0.0.0:1", "[::]:1", "10.0.0.1:1", "vecrec.example:1"]) expect(isLoopback(host), host).toBe(false);
  });

  it("is logged when listening on all interfaces without TLS nor tokens, and not on loopback", async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: "warn" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString("utf8"));
          done();
        },
      }),
    );
    const store = createEmbeddedStore();
    for (const listen of ["127.0.0.1:0", "0.0.0.0:0"]) {
      const server = await startServer({ store, listen, logger });
      await server.close({ graceMs: 100 });
    }
    await store.close();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("listening on a non-loopback address without TLS (--tls-cert, --tls-key) and tokens (--auth-tokens-file)");
    expect(lines[0]).toContain('"listen":"0.0.0.0:0"');
  });
});
