/**
 * The calls anyone may make without a token (health, reflection) cannot make the server hold memory or
 * slots without bound (src/grpc/open-calls.ts): their messages are bounded before they are buffered,
 * health Watch of unknown names keeps nothing, reflection streams neither take slots of
 * --max-concurrent-calls nor exceed their own cap, an idle one is closed, and one whose client does
 * not read is held.
 */
import {
  credentials,
  loadPackageDefinition,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  status,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ServiceClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { service as healthServiceDefinition } from "grpc-health-check";
import http2 from "node:http2";
import { createRequire } from "node:module";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListIndexesResponse, VectorServiceClient } from "../../src/gen/vecrec/v1/vecrec.js";
import { createOpenCallGuard, OPEN_CALL_MAX_MESSAGE_BYTES } from "../../src/grpc/open-calls.js";
import { addReflectionService, loadDescriptorPool } from "../../src/grpc/reflection-service.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { grpcFrame, rawGrpcRequest } from "../support/raw-grpc.js";

const require = createRequire(import.meta.url);
const silent = pino({ level: "silent" });

type ReflectionStream = ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>;
type ReflectionClient = Client & { ServerReflectionInfo(): ReflectionStream };
type HealthClient = Client & {
  check(req: { service: string }, cb: (e: ServiceError | null, r: { status: string | number }) => void): void;
  watch(req: { service: string }): ClientReadableStream<{ status: string | number }>;
};

function reflectionClient(address: string): ReflectionClient {
  const root = path.join(path.dirname(require.resolve("@grpc/reflection/package.json")), "build", "proto");
  const definition = loadSync("grpc/reflection/v1/reflection.proto", { includeDirs: [root], keepCase: true, oneofs: true, longs: Number, enums: Number, defaults: true });
  const pkg = loadPackageDefinition(definition) as unknown as { grpc: { reflection: { v1: { ServerReflection: ServiceClientConstructor } } } };
  return new pkg.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }) as unknown as ReflectionClient;
}

function healthClient(address: string): HealthClient {
  const Health = makeGenericClientConstructor(healthServiceDefinition, "Health");
  return new Health(address, credentials.createInsecure()) as unknown as HealthClient;
}

/** The stream's first answer, or its error. */
function firstAnswer(stream: ReflectionStream, request: Record<string, unknown>): Promise<Record<string, unknown> | ServiceError> {
  return new Promise((resolve) => {
    stream.once("data", resolve);
    stream.once("error", resolve);
    stream.write(request);
  });
}

describe("calls open to anyone", { timeout: 60_000 }, () => {
  const store = createEmbeddedStore();
  let server: RunningServer;
  let address: string;
  let healthAddress: string;
  const clients: Client[] = [];
  beforeAll(async () => {
    server = await startServer({ store, listen: "127.0.0.1:0", logger: silent, security: { maxConcurrentCalls: 2, healthListen: "127.0.0.1:0" } });
    address = `127.0.0.1:${server.port}`;
    healthAddress = `127.0.0.1:${server.healthPort}`;
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.close({ graceMs: 0 });
    await store.close();
  });

  it(`refuses health and reflection messages over ${OPEN_CALL_MAX_MESSAGE_BYTES} bytes before buffering them, on both ports`, async () => {
    for (const at of [address, healthAddress]) {
      const health = healthClient(at);
      clients.push(health);
      const big = await new Promise<ServiceError | null>((resolve) => health.check({ service: "x".repeat(100_000) }, (error) => resolve(error)));
      expect(big?.code, at).toBe(status.RESOURCE_EXHAUSTED);
      const small = await new Promise<string | number>((resolve, reject) => health.check({ service: "" }, (error, r) => (error ? reject(error) : resolve(r.status))));
      expect(small).toBe("SERVING");
    }
    const reflection = reflectionClient(address);
    clients.push(reflection);
    const answer = await firstAnswer(reflection.ServerReflectionInfo(), { host: "h".repeat(100_000), list_services: "" });
    expect((answer as ServiceError).code).toBe(status.RESOURCE_EXHAUSTED);
    const stream = reflection.ServerReflectionInfo();
    expect(await firstAnswer(stream, { host: "", list_services: "" })).toHaveProperty("list_services_response");
    // Ended, so that it holds none of the reflection streams the test below counts.
    const ended = new Promise((resolve) => stream.on("status", resolve));
    stream.end();
    stream.resume();
    await ended;
  });

  it("answers health Watch of an unknown service SERVICE_UNKNOWN once and ends it; known services keep streaming", async () => {
    for (const at of [address, healthAddress]) {
      const health = healthClient(at);
      clients.push(health);
      const unknown = health.watch({ service: "no.such.Service" });
      const got: (string | number)[] = [];
      unknown.on("data", (message: { status: string | number }) => got.push(message.status));
      const ended = await new Promise<ServiceError | "end">((resolve) => {
        unknown.on("error", resolve);
        unknown.on("end", () => resolve("end"));
      });
      expect(ended, at).toBe("end");
      expect(got).toEqual(["SERVICE_UNKNOWN"]);
      const known = health.watch({ service: "vecrec.v1.VectorService" });
      known.on("error", () => undefined); // cancelled below
      const first = await new Promise<string | number>((resolve) => known.once("data", (message: { status: string | number }) => resolve(message.status)));
      expect(first).toBe("SERVING");
      known.cancel();
    }
  });

  it("holds reflection streams apart from --max-concurrent-calls (token holders are not locked out), at most 64 at once", async () => {
    const streams: ReflectionStream[] = [];
    for (let i = 0; i < 64; i++) {
      const client = reflectionClient(address);
      clients.push(client);
      const stream = client.ServerReflectionInfo();
      stream.on("error", () => undefined);
      streams.push(stream);
      expect(await firstAnswer(stream, { list_services: "" })).toHaveProperty("list_services_response");
    }
    // The cap of 2 concurrent calls is untouched by 64 open reflection streams.
    const vector = new VectorServiceClient(address, credentials.createInsecure());
    clients.push(vector);
    const listed = await Promise.all(
      [1, 2].map(() => new Promise<ListIndexesResponse>((resolve, reject) => vector.listIndexes({}, (error, r) => (error ? reject(error) : resolve(r))))),
    );
    expect(listed.map((r) => r.indexes)).toEqual([[], []]);
    const over = reflectionClient(address);
    clients.push(over);
    const refused = await firstAnswer(over.ServerReflectionInfo(), { list_services: "" });
    expect((refused as ServiceError).code).toBe(status.RESOURCE_EXHAUSTED);
    expect((refused as ServiceError).details).toMatch(/maximum of 64 reflection streams/);
    for (const stream of streams) stream.end();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await firstAnswer(over.ServerReflectionInfo(), { list_services: "" })).toHaveProperty("list_services_response");
  });
});

describe("reflection streams on a bare server with the guard", { timeout: 60_000 }, () => {
  let server: Server;
  let address: string;
  const clients: Client[] = [];
  beforeAll(async () => {
    server = new Server({ interceptors: [createOpenCallGuard([""], { reflectionIdleMs: 1_000 }).interceptor] });
    addReflectionService(server, loadDescriptorPool(), silent);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => {
    for (const client of clients) client.close();
    server.forceShutdown();
  });

  it("closes a stream idle past its time, and serves one that keeps asking", async () => {
    const client = reflectionClient(address);
    clients.push(client);
    const idle = client.ServerReflectionInfo();
    expect(await firstAnswer(idle, { list_services: "" })).toHaveProperty("list_services_response");
    const error = await new Promise<ServiceError>((resolve) => idle.on("error", resolve));
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    expect(error.details).toMatch(/idle/);
    const busy = client.ServerReflectionInfo();
    busy.on("error", () => undefined);
    for (let i = 0; i < 5; i++) {
      expect(await firstAnswer(busy, { list_services: "" })).toHaveProperty("list_services_response");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    busy.end();
  });

  it("stops reading a stream whose client sends without reading the answers", async () => {
    // A raw HTTP/2 client that never reads: grpc-js clients read (and buffer) every answer whatever the
    // application does, so the server's answers would always drain.
    const { session, stream } = rawGrpcRequest(address, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo");
    stream.pause();
    // ServerReflectionRequest { host (1): 8,000 bytes, list_services (7): "" }, framed.
    const host = Buffer.alloc(8_000, "h");
    const frame = grpcFrame(Buffer.concat([Buffer.from([0x0a, 0xc0, 0x3e]), host, Buffer.from([0x3a, 0x00])]));
    let sent = 0;
    // Writes until the stream stays blocked for 500 ms, or 64 MiB went out.
    while (sent < 64 * 1024 * 1024) {
      sent += frame.length;
      if (!stream.write(frame)) {
        const drained = await Promise.race([
          new Promise<boolean>((resolve) => stream.once("drain", () => resolve(true))),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500)),
        ]);
        if (!drained) break;
      }
    }
    // Held within what the windows and buffers take (a few MiB), far from 64 MiB.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    stream.close(http2.constants.NGHTTP2_CANCEL);
    session.destroy();
  });
});
