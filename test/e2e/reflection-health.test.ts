import {
  credentials,
  loadPackageDefinition,
  makeGenericClientConstructor,
  status,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer, loadSync } from "@grpc/proto-loader";
import { service as healthServiceDefinition } from "grpc-health-check";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDescriptorPool } from "../../src/grpc/descriptor-pool.js";
import { DESCRIPTOR_SET_URL } from "../../src/grpc/reflection-service.js";
import { BACKENDS, f32le, startHarness, type Harness } from "./harness.js";
import { VectorServiceService } from "../../src/gen/vecrec/v1/vecrec.js";

const run = promisify(execFile);
const require = createRequire(import.meta.url);

// ---- a reflection client built from @grpc/reflection's copy of reflection.proto ----

interface ReflectionResponse {
  valid_host: string;
  original_request: Record<string, unknown>;
  message_response: string;
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  list_services_response?: { service: { name: string }[] };
  all_extension_numbers_response?: { base_type_name: string; extension_number: number[] };
  error_response?: { error_code: number; error_message: string };
}

type ReflectionStream = ClientDuplexStream<Record<string, unknown>, ReflectionResponse>;

function reflectionClient(address: string, version: "v1" | "v1alpha"): Client & { ServerReflectionInfo(): ReflectionStream } {
  const root = path.join(path.dirname(require.resolve("@grpc/reflection/package.json")), "build", "proto");
  const definition = loadSync(`grpc/reflection/${version}/reflection.proto`, {
    includeDirs: [root],
    keepCase: true,
    oneofs: true,
    longs: Number,
    enums: Number,
    defaults: true,
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: Record<string, { ServerReflection: ServiceClientConstructor }> };
  };
  const ctor = pkg.grpc.reflection[version]?.ServerReflection;
  if (!ctor) throw new Error("no reflection client");
  return new ctor(address, credentials.createInsecure()) as unknown as Client & { ServerReflectionInfo(): ReflectionStream };
}

/** Sends requests one at a time on one stream (as grpcurl does) and returns the answers. */
async function reflect(stream: ReflectionStream, request: Record<string, unknown>): Promise<ReflectionResponse> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    stream.once("error", onError);
    stream.once("data", (response: ReflectionResponse) => {
      stream.removeListener("error", onError);
      resolve(response);
    });
    stream.write(request);
  });
}

/** A serialized FileDescriptorSet holding `files` (field 1, repeated bytes). */
function fileDescriptorSet(files: readonly Uint8Array[]): Buffer {
  const writer = protobuf.Writer.create();
  for (const file of files) writer.uint32((1 << 3) | 2).bytes(file);
  return Buffer.from(writer.finish());
}

interface FileProto {
  name: string;
  dependency?: string[];
  service?: { name: string; method: { name: string; inputType: string; outputType: string; serverStreaming?: boolean }[] }[];
  messageType?: { name: string; field?: { name: string; typeName?: string }[] }[];
  sourceCodeInfo?: { location?: { leadingComments?: string }[] };
}

describe("grpc.health.v1", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(BACKENDS[0] as (typeof BACKENDS)[number]);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("serves SERVING for the server and the VectorService, then NOT_SERVING on shutdown", async () => {
    const Health = makeGenericClientConstructor(healthServiceDefinition, "Health");
    const health = new Health(h.address, credentials.createInsecure()) as unknown as Client & {
      check(req: { service: string }, cb: (e: ServiceError | null, r: { status: string | number }) => void): void;
      watch(req: { service: string }): ClientReadableStream<{ status: string | number }>;
    };
    const check = (service: string) =>
      new Promise<{ status: string | number } | ServiceError>((resolve) =>
        health.check({ service }, (error, response) => resolve(error ?? response)),
      );
    expect(await check("")).toMatchObject({ status: "SERVING" });
    expect(await check("vecrec.v1.VectorService")).toMatchObject({ status: "SERVING" });
    expect(((await check("no.such.Service")) as ServiceError).code).toBe(status.NOT_FOUND);

    // A watcher sees the change; as a long-lived call it is cut once the grace period is over.
    const watch = health.watch({ service: "vecrec.v1.VectorService" });
    const statuses: (string | number)[] = [];
    const seen = new Promise<void>((resolve) => {
      watch.on("data", (m: { status: string | number }) => {
        statuses.push(m.status);
        if (m.status === "NOT_SERVING") resolve();
      });
    });
    watch.on("error", () => undefined);
    await new Promise<void>((resolve) => watch.once("data", () => resolve()));
    const closing = h.server.close({ graceMs: 200 });
    await seen;
    await closing;
    expect(statuses).toEqual(["SERVING", "NOT_SERVING"]);
    health.close();
  });
});

describe("server reflection", () => {
  let h: Harness;
  let stream: ReflectionStream;
  let client: Client;
  const served = createDescriptorPool(readFileSync(DESCRIPTOR_SET_URL));

  beforeAll(async () => {
    h = await startHarness(BACKENDS[0] as (typeof BACKENDS)[number]);
    const c = reflectionClient(h.address, "v1");
    client = c;
    stream = c.ServerReflectionInfo();
  });
  afterAll(async () => {
    stream?.end();
    client?.close();
    await h?.close();
  });

  it("lists the services", async () => {
    const response = await reflect(stream, { host: "localhost", list_services: "*" });
    expect(response.valid_host).toBe("localhost");
    // Every service of the descriptor set buf builds, and nothing else (no descriptor-less names).
    expect(served.services).toContain("vecrec.v1.VectorService");
    expect(response.list_services_response?.service.map((s) => s.name)).toEqual(served.services);
  });

  it("also answers on v1alpha", async () => {
    const alpha = reflectionClient(h.address, "v1alpha");
    const s = alpha.ServerReflectionInfo();
    const response = await reflect(s, { list_services: "" });
    expect(response.list_services_response?.service.map((x) => x.name)).toEqual(served.services);
    s.end();
    alpha.close();
  });

  it("finds the file of services, methods, messages, nested messages, enums, enum values and fields", async () => {
    for (const symbol of [
      "vecrec.v1.VectorService",
      "vecrec.v1.VectorService.Search",
      "vecrec.v1.SearchRequest",
      "vecrec.v1.Item.FieldsEntry",
      "vecrec.v1.TagMatch",
      "vecrec.v1.TAG_MATCH_ALL",
      "vecrec.v1.SearchRequest.k",
      "vecrec.v1.SearchRequest.query",
    ]) {
      const response = await reflect(stream, { file_containing_symbol: symbol });
      const files = response.file_descriptor_response?.file_descriptor_proto ?? [];
      expect(files.length, symbol).toBeGreaterThan(0);
      const first = descriptor.FileDescriptorProto.decode(files[0] as Buffer) as unknown as FileProto;
      expect(first.name, symbol).toBe("vecrec/v1/vecrec.proto");
    }
    const timestamp = await reflect(stream, { file_containing_symbol: "google.protobuf.Timestamp" });
    const file = descriptor.FileDescriptorProto.decode(
      timestamp.file_descriptor_response?.file_descriptor_proto[0] as Buffer,
    ) as unknown as FileProto;
    expect(file.name).toBe("google/protobuf/timestamp.proto");
  });

  it("answers NOT_FOUND for unknown symbols, files and extensions", async () => {
    const symbol = await reflect(stream, { file_containing_symbol: "vecrec.v1.Nope" });
    expect(symbol.error_response?.error_code).toBe(status.NOT_FOUND);
    const file = await reflect(stream, { file_by_filename: "nope.proto" });
    expect(file.error_response?.error_code).toBe(status.NOT_FOUND);
    const extension = await reflect(stream, {
      file_containing_extension: { containing_type: "vecrec.v1.Item", extension_number: 100 },
    });
    expect(extension.error_response?.error_code).toBe(status.NOT_FOUND);
    const numbers = await reflect(stream, { all_extension_numbers_of_type: "vecrec.v1.Item" });
    expect(numbers.all_extension_numbers_response).toEqual({ base_type_name: "vecrec.v1.Item", extension_number: [] });
    const unknownType = await reflect(stream, { all_extension_numbers_of_type: "vecrec.v1.Nope" });
    expect(unknownType.error_response?.error_code).toBe(status.NOT_FOUND);
  });

  it("serves buf's bytes: a strict pool built from reflection alone resolves, and every RPC can be called", async () => {
    // Fetch everything through reflection only, on a fresh stream, as a reflection client would.
    const s = (client as Client & { ServerReflectionInfo(): ReflectionStream }).ServerReflectionInfo();
    const files = new Map<string, Buffer>();
    const listed = await reflect(s, { list_services: "*" });
    const services = listed.list_services_response?.service.map((x) => x.name) ?? [];
    for (const name of services) {
      const response = await reflect(s, { file_containing_symbol: name });
      for (const bytes of response.file_descriptor_response?.file_descriptor_proto ?? []) {
        const proto = descriptor.FileDescriptorProto.decode(bytes) as unknown as FileProto;
        files.set(proto.name, bytes);
      }
    }
    // Every dependency must be present (ask by file name for any that was not sent).
    for (let changed = true; changed; ) {
      changed = false;
      for (const bytes of [...files.values()]) {
        const proto = descriptor.FileDescriptorProto.decode(bytes) as unknown as FileProto;
        for (const dep of proto.dependency ?? []) {
          if (files.has(dep)) continue;
          const response = await reflect(s, { file_by_filename: dep });
          const got = response.file_descriptor_response?.file_descriptor_proto[0];
          expect(got, dep).toBeDefined();
          files.set(dep, got as Buffer);
          changed = true;
        }
      }
    }
    s.end();
    expect([...files.keys()]).toEqual(expect.arrayContaining(["google/protobuf/timestamp.proto", "vecrec/v1/vecrec.proto"]));

    // Byte for byte what buf built, absolute type names and comments included.
    for (const [name, bytes] of files) {
      expect(Buffer.from(served.fileByName(name)?.bytes ?? []).equals(bytes), name).toBe(true);
    }
    const vecrecFile = descriptor.FileDescriptorProto.decode(files.get("vecrec/v1/vecrec.proto") as Buffer) as unknown as FileProto;
    const typeNames = (vecrecFile.messageType ?? []).flatMap((m) => (m.field ?? []).map((f) => f.typeName)).filter(Boolean);
    expect(typeNames.length).toBeGreaterThan(0);
    expect(typeNames.every((t) => t?.startsWith("."))).toBe(true);
    expect(vecrecFile.sourceCodeInfo?.location?.some((l) => l.leadingComments?.includes("VectorService stores items"))).toBe(true);

    // Strict: every type reference must resolve.
    const set = fileDescriptorSet([...files.values()]);
    const root = (protobuf.Root as unknown as { fromDescriptor(d: Uint8Array): protobuf.Root }).fromDescriptor(set);
    root.resolveAll();
    const service = root.lookupService("vecrec.v1.VectorService");
    const methods = Object.values(service.methods).map(
      (m) => `${m.name}(${m.resolvedRequestType?.fullName ?? "?"}) -> ${m.responseStream ? "stream " : ""}${m.resolvedResponseType?.fullName ?? "?"}`,
    );
    // Every RPC of the generated service, and (at least) these, with their exact types.
    expect(methods).toHaveLength(Object.keys(VectorServiceService).length);
    expect(methods).toEqual(expect.arrayContaining([
      "Index(.vecrec.v1.IndexRequest) -> .vecrec.v1.IndexResponse",
      "GetIndex(.vecrec.v1.GetIndexRequest) -> .vecrec.v1.GetIndexResponse",
      "ListIndexes(.vecrec.v1.ListIndexesRequest) -> .vecrec.v1.ListIndexesResponse",
      "DropIndex(.vecrec.v1.DropIndexRequest) -> .vecrec.v1.DropIndexResponse",
      "UpdateInterests(.vecrec.v1.UpdateInterestsRequest) -> .vecrec.v1.UpdateInterestsResponse",
      "Upsert(.vecrec.v1.UpsertRequest) -> .vecrec.v1.UpsertResponse",
      "GetItems(.vecrec.v1.GetItemsRequest) -> .vecrec.v1.GetItemsResponse",
      "DeleteItems(.vecrec.v1.DeleteItemsRequest) -> .vecrec.v1.DeleteItemsResponse",
      "Search(.vecrec.v1.SearchRequest) -> stream .vecrec.v1.SearchResponse",
      "Recommend(.vecrec.v1.RecommendRequest) -> stream .vecrec.v1.RecommendResponse",
      "RecordInteractions(.vecrec.v1.RecordInteractionsRequest) -> .vecrec.v1.RecordInteractionsResponse",
      "GetInteractions(.vecrec.v1.GetInteractionsRequest) -> .vecrec.v1.GetInteractionsResponse",
      "UpdateItems(.vecrec.v1.UpdateItemsRequest) -> .vecrec.v1.UpdateItemsResponse",
    ]));

    // A dynamic client built only from the reflected descriptors.
    const definition = loadFileDescriptorSetFromBuffer(set, { keepCase: true, oneofs: true, longs: Number, enums: String, defaults: true });
    const pkg = loadPackageDefinition(definition) as unknown as { vecrec: { v1: GrpcObject } };
    const Ctor = pkg.vecrec.v1.VectorService as ServiceClientConstructor;
    const dyn = new Ctor(h.address, credentials.createInsecure()) as unknown as Record<
      string,
      (request: unknown, callback?: (e: ServiceError | null, r: Record<string, unknown>) => void) => unknown
    >;
    const call = (method: string, request: unknown) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        (dyn[method] as (r: unknown, cb: (e: ServiceError | null, r: Record<string, unknown>) => void) => void).call(
          dyn,
          request,
          (e, r) => (e ? reject(e) : resolve(r)),
        );
      });
    const stream = (method: string, request: unknown) =>
      new Promise<Record<string, unknown>[]>((resolve, reject) => {
        const out: Record<string, unknown>[] = [];
        const st = (dyn[method] as (r: unknown) => ClientReadableStream<Record<string, unknown>>).call(dyn, request);
        st.on("data", (m: Record<string, unknown>) => out.push(m));
        st.on("end", () => resolve(out));
        st.on("error", reject);
      });

    // Descriptors keep the proto's snake_case field names.
    expect(await call("Index", { index_name: "dyn", default_vector_dimension: 2 })).toMatchObject({ created: true });
    expect(await call("GetIndex", { index_name: "dyn" })).toMatchObject({ index: { index_name: "dyn" } });
    expect(((await call("ListIndexes", {})).indexes as unknown[]).length).toBe(1);
    expect(
      await call("Upsert", {
        index_name: "dyn",
        items: [
          // protobufjs sees a map field in a descriptor as its repeated MapEntry messages.
          { id: "a", vector: { float32_values: { values: [1, 0] } }, fields: [{ key: "labels", value: { tags: { values: ["x"] } } }] },
          { id: "b", vector: { float32_le: f32le([0, 1]) } },
        ],
      }),
    ).toMatchObject({ upserted_count: 2 });
    expect(((await call("GetItems", { index_name: "dyn", ids: ["a"] })).items as unknown[]).length).toBe(1);
    const hits = await stream("Search", { index_name: "dyn", vector: { float32_values: { values: [1, 0.1] } }, k: 2 });
    expect(hits.map((x) => x.id)).toEqual(["a", "b"]);
    expect(
      await call("RecordInteractions", {
        index_name: "dyn",
        interactions: [{ user_id: "b", item_id: "thing", kind: "INTERACTION_KIND_PURCHASE" }],
      }),
    ).toMatchObject({ recorded_count: 1 });
    expect(await call("GetInteractions", { index_name: "dyn", user_id: "b" })).toMatchObject({ total_count: 1 });
    const recs = await stream("Recommend", { index_name: "dyn", user_id: "a" });
    expect(recs.map((x) => x.item_id)).toEqual(["thing"]);
    expect(
      await call("UpdateInterests", { index_name: "dyn", interests: { category_names: ["left", "right"] } }),
    ).toMatchObject({ items_updated: 2 });
    expect(await call("DeleteItems", { index_name: "dyn", ids: ["a"] })).toMatchObject({ deleted_count: 1 });
    expect(await call("DropIndex", { index_name: "dyn", delete_items: true })).toEqual({});
    (dyn as unknown as Client).close();
  });

  it("works with buf curl (Go's strict protoregistry) through reflection", async () => {
    const buf = path.resolve("node_modules/.bin/buf");
    const base = `http://127.0.0.1:${h.server.port}`;
    const common = ["curl", "--protocol", "grpc", "--http2-prior-knowledge"];
    // Asynchronous: the server runs in this process and must keep serving while buf talks to it.
    const listed = await run(buf, [...common, "--list-methods", base]);
    const methods = listed.stdout
      .trim()
      .split("\n")
      .filter((m) => m.startsWith("vecrec.v1.VectorService/"));
    expect(methods).toContain("vecrec.v1.VectorService/Search");
    expect(methods).toHaveLength(Object.keys(VectorServiceService).length);
    const created = await run(buf, [
      ...common,
      "-d",
      JSON.stringify({ indexName: "viaBuf", defaultVectorDimension: 4 }),
      `${base}/vecrec.v1.VectorService/Index`,
    ]);
    expect(JSON.parse(created.stdout)).toMatchObject({ index: { indexName: "viaBuf" }, created: true });
    const listedIndexes = await run(buf, [...common, "-d", "{}", `${base}/vecrec.v1.VectorService/ListIndexes`]);
    const names = (JSON.parse(listedIndexes.stdout) as { indexes: { indexName: string }[] }).indexes.map((i) => i.indexName);
    expect(names).toContain("viaBuf");
  });
});
