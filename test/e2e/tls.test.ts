/**
 * TLS and mTLS on the gRPC listener, seen from an independent client (Connect for Node, not
 * grpc-js), with certificates made for the test: TLS only, plaintext refused, client certificates
 * required and checked, and certificates rotated without a restart (good files picked up, bad ones
 * refused while the previous certificate keeps serving).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VectorServiceClient } from "../../src/gen/vecrec/v1/vecrec.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { Code, connectCaller, type ConnectTarget } from "../support/connect-client.js";
import { createAuthority, type Authority, type Pem } from "../support/test-certificates.js";
import { healthChecker } from "./health-client.js";

const logger = pino({ level: process.env.VECREC_TEST_LOG_LEVEL ?? "silent" });

async function listIndexes(target: ConnectTarget): Promise<{ code: Code | "OK"; message: string }> {
  const caller = connectCaller(target);
  try {
    return await caller.call("ListIndexes", {}, 3_000);
  } finally {
    caller.close();
  }
}

/**
 * A connection the server refused at the TLS layer, as Connect reports it: it maps transport failures
 * to codes of its own (CANCELED for the stream reset a plaintext HTTP/2 session gets, INTERNAL for a
 * certificate it cannot verify, UNAVAILABLE or ABORTED for a handshake the server cut).
 */
function expectRefusedConnection(result: { code: Code | "OK"; message: string }): void {
  expect([Code.Unavailable, Code.Canceled, Code.Internal, Code.Aborted], `${result.code}: ${result.message}`).toContain(result.code);
  expect(result.message).toMatch(/TLS|certificate|socket|stream closed|ECONNRESET|handshake|alert/i);
}

/** ListIndexes with grpc-js over plaintext: the status code it reports. */
function grpcJsPlaintextCode(port: number): Promise<number> {
  const client = new VectorServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise<number>((resolve) => {
    client.listIndexes({}, new Metadata(), { deadline: Date.now() + 3_000 }, (error: ServiceError | null) => {
      client.close();
      resolve(error?.code ?? GrpcStatus.OK);
    });
  });
}

/** Polls `check` until it holds (file changes are picked up within the poll interval). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("TLS on the gRPC listener (Connect client)", () => {
  let dir: string;
  let ca: Authority;
  let serverPem: Pem;
  let server: RunningServer;
  const store = createEmbeddedStore();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vecrec-tls-"));
    ca = await createAuthority("vecrec test CA");
    serverPem = await ca.issue("vecrec server", "server");
    writeFileSync(join(dir, "server.pem"), serverPem.cert);
    writeFileSync(join(dir, "server.key"), serverPem.key);
    server = await startServer({
      store,
      listen: "127.0.0.1:0",
      logger,
      security: { tls: { certFile: join(dir, "server.pem"), keyFile: join(dir, "server.key"), clientCaFile: undefined } },
      filePollMs: 50,
    });
  });

  afterAll(async () => {
    await server?.close({ graceMs: 1_000 });
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves calls over TLS to a client trusting its CA", async () => {
    expect(server.tls).toBe(true);
    expect(await listIndexes({ port: server.port, tls: { ca: ca.cert } })).toMatchObject({ code: "OK" });
  });

  it("does not serve plaintext: grpc-js gets UNAVAILABLE, Connect its own transport error", async () => {
    expect(await grpcJsPlaintextCode(server.port)).toBe(GrpcStatus.UNAVAILABLE);
    expectRefusedConnection(await listIndexes({ port: server.port }));
  });

  it("is refused by a client that does not trust the certificate", async () => {
    const other = await createAuthority("another CA");
    expectRefusedConnection(await listIndexes({ port: server.port, tls: { ca: other.cert } }));
  });

  it("picks up a rotated certificate without a restart, and keeps the previous one when the new files are bad", async () => {
    const next = await createAuthority("vecrec rotated CA");
    const nextPem = await next.issue("vecrec server", "server");
    // A bad set first: a key that does not belong to the certificate. The old certificate stays.
    writeFileSync(join(dir, "server.pem"), nextPem.cert);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await listIndexes({ port: server.port, tls: { ca: ca.cert } })).toMatchObject({ code: "OK" });
    // Then the key that goes with it: new connections get the new certificate.
    writeFileSync(join(dir, "server.key"), nextPem.key);
    await eventually(async () => (await listIndexes({ port: server.port, tls: { ca: next.cert } })).code === "OK");
    expectRefusedConnection(await listIndexes({ port: server.port, tls: { ca: ca.cert } }));
    // SIGHUP's path: reload() re-reads at once (the files are the same: still the new certificate).
    server.reload();
    expect(await listIndexes({ port: server.port, tls: { ca: next.cert } })).toMatchObject({ code: "OK" });
    // Back to the first certificate so the other tests of this file keep their CA.
    writeFileSync(join(dir, "server.key"), serverPem.key);
    writeFileSync(join(dir, "server.pem"), serverPem.cert);
    await eventually(async () => (await listIndexes({ port: server.port, tls: { ca: ca.cert } })).code === "OK");
  });
});

describe("mutual TLS on the gRPC listener (Connect client)", () => {
  let dir: string;
  let ca: Authority;
  let server: RunningServer;
  const store = createEmbeddedStore();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vecrec-mtls-"));
    ca = await createAuthority("vecrec test CA");
    const serverPem = await ca.issue("vecrec server", "server");
    writeFileSync(join(dir, "server.pem"), serverPem.cert);
    writeFileSync(join(dir, "server.key"), serverPem.key);
    writeFileSync(join(dir, "clients-ca.pem"), ca.cert);
    server = await startServer({
      store,
      listen: "127.0.0.1:0",
      logger,
      security: {
        tls: { certFile: join(dir, "server.pem"), keyFile: join(dir, "server.key"), clientCaFile: join(dir, "clients-ca.pem") },
        healthListen: "127.0.0.1:0",
      },
    });
  });

  afterAll(async () => {
    await server?.close({ graceMs: 1_000 });
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves a client presenting a certificate signed by the client CA", async () => {
    const client = await ca.issue("recommender", "client");
    expect(await listIndexes({ port: server.port, tls: { ca: ca.cert, ...client } })).toMatchObject({ code: "OK" });
  });

  it("--health-listen: answers health in plaintext on its own port, and nothing else there", async () => {
    expect(server.healthPort).toBeGreaterThan(0);
    const health = healthChecker(`127.0.0.1:${server.healthPort}`);
    try {
      expect(await health.check("")).toBe("SERVING");
      expect(await health.check("vecrec.v1.VectorService")).toBe("SERVING");
    } finally {
      health.close();
    }
    expect(await grpcJsPlaintextCode(server.healthPort as number)).toBe(GrpcStatus.UNIMPLEMENTED);
  });

  it("refuses a client without a certificate, or with one from another CA", async () => {
    expectRefusedConnection(await listIndexes({ port: server.port, tls: { ca: ca.cert } }));
    const stranger = await (await createAuthority("stranger CA")).issue("intruder", "client");
    expectRefusedConnection(await listIndexes({ port: server.port, tls: { ca: ca.cert, ...stranger } }));
  });
});
