/**
 * Issue 11: a property-based fuzz test of every RPC of VectorService (fast-check). The methods and
 * their request types are read from the service descriptor in proto/ (protobufjs reflection), so an RPC
 * added later is fuzzed too. Three kinds of input, sent as raw bytes through a grpc-js client with
 * identity serializers:
 * - structurally valid messages with hostile values (strings with lone surrogates, emoji, `__proto__`
 *   map keys, huge and non-finite numbers, empty and deep filters, random bytes in bytes fields);
 * - mutated encodings of such messages (bit flips, truncations, spliced bytes);
 * - random bytes.
 * Every call must be answered within a short deadline, never with UNKNOWN or INTERNAL, and health must
 * say SERVING afterwards. Bounded for CI; `VECREC_FUZZ_RUNS=<n>` (default 15) sets the runs per method
 * and kind, `VECREC_FUZZ_SEED` replays a seed.
 */
import { Client, credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import fc from "fast-check";
import { createRequire } from "node:module";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IndexRequest, InteractionKind, RecordInteractionsRequest, UpsertRequest } from "../../src/gen/vecrec/v1/vecrec.js";
import { healthChecker } from "./health-client.js";
import { BACKENDS, fill, startHarness, unary, vectorBytes, type Harness } from "./harness.js";

const require = createRequire(import.meta.url);
const protobuf = require("protobufjs") as typeof import("protobufjs");

const RUNS = Number(process.env.VECREC_FUZZ_RUNS ?? "15");
const SEED = process.env.VECREC_FUZZ_SEED === undefined ? undefined : Number(process.env.VECREC_FUZZ_SEED);
const CALL_DEADLINE_MS = 5_000;
const INDEX = "fz";

const root = new protobuf.Root();
root.resolvePath = (_origin, target) =>
  target.startsWith("google/") ? path.join(path.dirname(require.resolve("protobufjs/package.json")), target) : path.join("proto", target);
root.loadSync("vecrec/v1/vecrec.proto");
root.resolveAll();
const service = root.lookupService("vecrec.v1.VectorService");
const METHODS = Object.values(service.methods);

// Hostile values.
const hostileString = fc.oneof(
  fc.constantFrom(INDEX, "", " ", "__proto__", "constructor", "toString", "*", "alph*", "@labels:{a}", "labels", "descr", "time", "vec", "interests", "user:1", "a".repeat(300)),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(`a${"😀".repeat(300)}`, "😀".repeat(300), "\ud800", "x\udfffy", "\u0000\u0001", "é".repeat(600)),
  fc.string({ maxLength: 8 }).map((s) => `@labels:{${s}} | @time:[-inf +inf] -(${s})`),
);
const hostileNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_VALUE, Number.MIN_VALUE, 1e308, -1e308, 3.4e38, 1e-45),
  fc.double(),
  fc.integer(),
);
const hostileUint = fc.oneof(fc.constantFrom(0, 1, 2, 3, 10, 100, 1000, 10_000, 10_001, 32_768, 2 ** 31, 2 ** 32 - 1), fc.nat());
const hostileBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.constantFrom(Buffer.alloc(12), Buffer.from(new Float32Array([1, 0, 0]).buffer), Buffer.from(new Float32Array([0, 0, 0]).buffer), Buffer.from(new Float32Array([Number.NaN, 1, 1]).buffer), Buffer.alloc(11)),
);

/** An arbitrary of plain objects protobufjs can encode as `type`, depth-limited (recursive types). */
function messageArbitrary(type: import("protobufjs").Type, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  const oneofMembers = new Set<string>();
  for (const oneof of type.oneofsArray) for (const f of oneof.fieldsArray) oneofMembers.add(f.name);
  for (const field of type.fieldsArray) {
    const value = fieldArbitrary(field, depth);
    if (value === undefined) continue;
    if (field.map) {
      fields[field.name] = fc
        .array(fc.tuple(fc.oneof(hostileString, fc.constantFrom("__proto__", "descr", "labels", "time")), value), { maxLength: 3 })
        .map((entries) => {
          const map: Record<string, unknown> = {};
          // defineProperty: "__proto__" becomes an own key, which protobufjs encodes as a map entry.
          for (const [k, v] of entries) Object.defineProperty(map, k, { value: v, enumerable: true, writable: true, configurable: true });
          return map;
        });
    } else if (field.repeated) {
      fields[field.name] = fc.array(value, { maxLength: depth > 2 ? 3 : 40 });
    } else {
      fields[field.name] = value;
    }
  }
  const keys = Object.keys(fields);
  return fc.record(fields, { requiredKeys: [] }).chain((record) => {
    // At most one member of each oneof, as a sender of valid messages would.
    const out: Record<string, unknown> = {};
    let oneofTaken = new Set<string>();
    for (const key of keys) {
      if (!(key in record)) continue;
      const oneof = type.fields[key]?.partOf;
      if (oneof !== null && oneof !== undefined) {
        if (oneofTaken.has(oneof.name)) continue;
        oneofTaken = new Set([...oneofTaken, oneof.name]);
      }
      out[key] = record[key];
    }
    return fc.constant(out);
  });
}

function fieldArbitrary(field: import("protobufjs").Field, depth: number): fc.Arbitrary<unknown> | undefined {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    if (depth <= 0) return undefined;
    if (resolved.fullName === ".google.protobuf.Timestamp") {
      return fc.record({ seconds: fc.oneof(fc.integer(), fc.constantFrom(253402300800, -62135596801)), nanos: fc.oneof(fc.nat(), fc.constant(-1)) });
    }
    return messageArbitrary(resolved, depth - 1);
  }
  if (resolved instanceof protobuf.Enum) return fc.oneof(fc.constantFrom(...Object.values(resolved.values)), fc.integer({ min: -5, max: 100 }));
  switch (field.type) {
    case "string":
      return hostileString;
    case "bytes":
      return hostileBytes;
    case "bool":
      return fc.boolean();
    case "double":
    case "float":
      return hostileNumber;
    case "int32":
    case "sint32":
    case "sfixed32":
      return fc.integer();
    case "uint32":
    case "fixed32":
      return hostileUint;
    default:
      return fc.oneof(hostileUint, fc.constantFrom(-1, 2 ** 53));
  }
}

const identity = (b: Buffer): Buffer => b;
/** Never an answer: UNKNOWN and INTERNAL, and DEADLINE_EXCEEDED (the call was left unanswered). */
const FORBIDDEN: ReadonlySet<number> = new Set<number>([status.UNKNOWN, status.INTERNAL, status.DEADLINE_EXCEEDED]);

/** One raw call: resolves with the status code it ended with (0 = OK). */
function rawCall(client: Client, method: import("protobufjs").Method, bytes: Buffer): Promise<{ code: number; details: string }> {
  const methodPath = `/${service.fullName.slice(1)}/${method.name}`;
  const options = { deadline: Date.now() + CALL_DEADLINE_MS };
  return new Promise((resolve) => {
    const done = (error: ServiceError | null) => resolve({ code: error === null ? status.OK : error.code, details: error?.details ?? "" });
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(methodPath, identity, identity, bytes, new Metadata(), options, (error) => done(error));
      return;
    }
    if (method.requestStream) {
      const call = client.makeBidiStreamRequest(methodPath, identity, identity, new Metadata(), options);
      call.on("data", () => undefined);
      call.on("error", (error: ServiceError) => done(error));
      call.on("end", () => done(null));
      call.write(bytes);
      call.end();
      return;
    }
    const call = client.makeServerStreamRequest(methodPath, identity, identity, bytes, new Metadata(), options);
    call.on("data", () => undefined);
    call.on("error", (error: ServiceError) => done(error));
    call.on("end", () => done(null));
  });
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("splice" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);
function mutate(bytes: Uint8Array, mutations: readonly { kind: string; at: number; bit?: number; bytes?: Uint8Array }[]): Buffer {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.kind === "flip") out[at] = (out[at] as number) ^ (1 << (m.bit ?? 0));
    else if (m.kind === "truncate") out = out.subarray(0, at);
    else out = Buffer.concat([out.subarray(0, at), m.bytes ?? new Uint8Array(), out.subarray(at)]);
  }
  return out;
}

// The embedded engine and the Redis backend on the stand-in (standalone).
const FUZZED = BACKENDS.filter((b) => b.name === "embedded" || b.name === "redis (stand-in)");

describe.each(FUZZED)("fuzzing every RPC of VectorService ($name)", (backend) => {
  let h: Harness;
  let raw: Client;
  beforeAll(async () => {
    h = await startHarness(backend);
    raw = new Client(h.address, credentials.createInsecure());
    await unary((cb) =>
      h.client.index(fill(IndexRequest, { indexName: INDEX, defaultVectorDimension: 3, interests: { categoryNames: ["a", "b", "c"] } }), cb),
    );
    await unary((cb) =>
      h.client.upsert(
        fill(UpsertRequest, {
          indexName: INDEX,
          items: ["user:1", "user:2", "user:3"].map((id, i) => ({
            id,
            vector: vectorBytes([1, i, 0.5]),
            fields: { labels: { kind: { $case: "tags" as const, value: { values: ["a", "b"] } } }, time: { kind: { $case: "number" as const, value: i } } },
          })),
        }),
        cb,
      ),
    );
    await unary((cb) =>
      h.client.recordInteractions(
        fill(RecordInteractionsRequest, {
          indexName: INDEX,
          interactions: [{ userId: "user:2", itemId: "book", kind: InteractionKind.INTERACTION_KIND_PURCHASE }],
        }),
        cb,
      ),
    );
  }, 60_000);
  afterAll(async () => {
    raw?.close();
    await h?.close();
  });

  const unexpected: string[] = [];
  async function check(method: import("protobufjs").Method, bytes: Buffer, what: string): Promise<void> {
    const { code, details } = await rawCall(raw, method, bytes);
    const bad = FORBIDDEN.has(code);
    if (bad) unexpected.push(`${method.name} (${what}, ${bytes.length} bytes ${bytes.subarray(0, 64).toString("hex")}): ${status[code]} ${details}`);
    expect(bad, `${method.name}: ${status[code]} ${details}`).toBe(false);
  }
  const params = { numRuns: RUNS, ...(SEED !== undefined && { seed: SEED }) };

  it.each(METHODS.map((m) => [m.name, m] as const))("%s: hostile values, mutated encodings and random bytes", async (_name, method) => {
    const type = root.lookupType(method.resolvedRequestType?.fullName ?? method.requestType);
    const messages = messageArbitrary(type, 6).map((object) => Buffer.from(type.encode(type.fromObject(object)).finish()));
    await fc.assert(fc.asyncProperty(messages, (bytes) => check(method, bytes, "hostile values")), params);
    await fc.assert(
      fc.asyncProperty(messages, fc.array(mutation, { minLength: 1, maxLength: 4 }), (bytes, mutations) =>
        check(method, mutate(bytes, mutations), "mutated encoding"),
      ),
      params,
    );
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 128 }), (bytes) => check(method, Buffer.from(bytes), "random bytes")), {
      ...params,
      numRuns: Math.max(1, Math.floor(RUNS / 2)),
    });
    expect(unexpected).toEqual([]);
  }, 120_000);

  it("is still SERVING afterwards", async () => {
    const health = healthChecker(h.address);
    try {
      expect(await health.check("")).toBe("SERVING");
    } finally {
      health.close();
    }
  });
});
