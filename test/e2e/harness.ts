/**
 * End-to-end harness: a real vecrec server on 127.0.0.1 port 0 over a real store, and the generated
 * client. Each backend in BACKENDS runs the same suites: the embedded engine, the Redis adapter on the
 * RESP stand-in (a standalone server and a 3-node cluster), and on the real servers named by
 * VECREC_TEST_REDIS_URL / VECREC_TEST_REDIS_CLUSTER_URL (test/support/redis-test-backends.ts).
 */
import { credentials, Metadata, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { pino } from "pino";
import { BadRequest, type BadRequest_FieldViolation } from "../../src/gen/google/rpc/error_details.js";
import { Status } from "../../src/gen/google/rpc/status.js";
import { VectorServiceClient } from "../../src/gen/vecrec/v1/vecrec.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { STATUS_DETAILS_TRAILER } from "../../src/grpc/status-mapping.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { openRedisStore, realServerNotes, redisTestBackends, type RedisTestBackend } from "../support/redis-test-backends.js";
import { referenceDistance } from "../support/reference-distance.js";

export interface Backend {
  readonly name: string;
  /** A fresh, empty store and how to dispose of it. */
  readonly open: () => Promise<{ store: VectorStore; cleanup: () => Promise<void> }>;
}

const embedded: Backend = {
  name: "embedded",
  open() {
    const store = createEmbeddedStore();
    return Promise.resolve({ store, cleanup: () => store.close() });
  },
};

/** A Redis test backend (stand-in standalone or cluster, or a real server) under the Redis store. */
function redisBackend(backend: RedisTestBackend): Backend {
  return {
    name: backend.name,
    open: () => openRedisStore(backend, "e2e"),
  };
}

function availableBackends(): Backend[] {
  for (const note of realServerNotes()) console.log(`e2e: ${note}`);
  return [embedded, ...redisTestBackends().map(redisBackend)];
}

export const BACKENDS: readonly Backend[] = availableBackends();

export interface Harness {
  readonly client: VectorServiceClient;
  readonly server: RunningServer;
  readonly store: VectorStore;
  readonly address: string;
  close(): Promise<void>;
}

/** `wrapStore` lets a test put a spy or a fault in front of the real store. */
export async function startHarness(
  backend: Backend,
  options: { wrapStore?: (store: VectorStore) => VectorStore } = {},
): Promise<Harness> {
  const { store, cleanup } = await backend.open();
  const served = options.wrapStore ? options.wrapStore(store) : store;
  // VECREC_TEST_LOG_LEVEL=debug shows the server's log while debugging a test.
  const logger = pino({ level: process.env.VECREC_TEST_LOG_LEVEL ?? "silent" });
  const server = await startServer({ store: served, listen: "127.0.0.1:0", logger });
  const address = `127.0.0.1:${server.port}`;
  const client = new VectorServiceClient(address, credentials.createInsecure());
  return {
    client,
    server,
    store,
    address,
    async close() {
      client.close();
      await server.close({ graceMs: 1_000 });
      await cleanup();
    },
  };
}

/** A store that behaves like `store` except for the methods in `overrides`. */
export function overrideStore(store: VectorStore, overrides: Partial<VectorStore>): VectorStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property in overrides) return overrides[property as keyof VectorStore];
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Promisifies one unary call: `unary((cb) => client.getIndex(req, cb))`. */
export function unary<Res>(invoke: (callback: (error: ServiceError | null, response: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke((error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** The error of a call that must fail. */
export async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error("the call succeeded but was expected to fail");
}

/** Reads a whole server stream: messages, then trailers, or the error that ended it. */
export function collect<T>(
  call: ClientReadableStream<T>,
): Promise<{ messages: T[]; trailers: Metadata | undefined; error: ServiceError | undefined }> {
  return new Promise((resolve) => {
    const messages: T[] = [];
    let trailers: Metadata | undefined;
    call.on("data", (m: T) => messages.push(m));
    call.on("status", (s: { metadata: Metadata }) => (trailers = s.metadata));
    call.on("error", (error: ServiceError) => resolve({ messages, trailers, error }));
    call.on("end", () => resolve({ messages, trailers, error: undefined }));
  });
}

/** The field violations of the google.rpc.BadRequest in `grpc-status-details-bin`. */
export function fieldViolations(error: ServiceError): BadRequest_FieldViolation[] {
  const [bytes] = error.metadata.get(STATUS_DETAILS_TRAILER);
  if (!Buffer.isBuffer(bytes)) throw new Error(`no ${STATUS_DETAILS_TRAILER} trailer (code ${error.code}: ${error.details})`);
  const status = Status.decode(bytes);
  if (status.code !== Number(error.code)) throw new Error(`google.rpc.Status code ${status.code} != gRPC code ${error.code}`);
  const detail = status.details.find((d) => d.typeUrl === "type.googleapis.com/google.rpc.BadRequest");
  if (!detail) throw new Error("no google.rpc.BadRequest detail");
  return BadRequest.decode(detail.value).fieldViolations;
}

/** The violated field paths of an error, sorted. */
export function violatedFields(error: ServiceError): string[] {
  return fieldViolations(error)
    .map((v) => v.field)
    .sort();
}

/** Little-endian float32 bytes, as `Vector.float32_le` carries them. */
export function f32le(values: readonly number[]): Buffer {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return buffer;
}

export function vectorBytes(values: readonly number[]): { encoding: { $case: "float32Le"; value: Buffer } } {
  return { encoding: { $case: "float32Le", value: f32le(values) } };
}

export function vectorList(values: readonly number[]): { encoding: { $case: "float32Values"; value: { values: number[] } } } {
  return { encoding: { $case: "float32Values", value: { values: [...values] } } };
}

/** Decodes `float32_le` bytes. */
export function fromF32le(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i < bytes.byteLength; i += 4) out.push(view.getFloat32(i, true));
  return out;
}

/** COSINE distance as Redis reports it, computed from the float32-rounded inputs (reference for tests). */
export function cosineDistance(a: readonly number[], b: readonly number[]): number {
  return referenceDistance("COSINE", Float32Array.from(a), Float32Array.from(b));
}

type Builtin = Date | ((...args: never[]) => unknown) | Uint8Array | string | number | boolean | undefined;
/** A request with every field optional, as ts-proto's fromPartial accepts it. */
export type DeepPartial<T> = T extends Builtin
  ? T
  : T extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T extends { $case: string; value: unknown }
      ? { $case: T["$case"]; value?: DeepPartial<T["value"]> }
      : T extends object
        ? { [K in keyof T]?: DeepPartial<T[K]> }
        : Partial<T>;

/** `Message.fromPartial` without ts-proto's Exact<> typing (which rejects variables of a wider type). */
export function fill<T>(message: { fromPartial(object: never): T }, partial: NoInfer<DeepPartial<T>>): T {
  return message.fromPartial(partial as never);
}
