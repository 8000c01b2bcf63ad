/**
 * gRPC server reflection, v1 and v1alpha, answering from the descriptor set buf builds (see
 * descriptor-pool.ts). @grpc/reflection is used only for its copies of reflection.proto: its own
 * descriptors are rebuilt by protobufjs with relative type names and made-up file names, which strict
 * clients (Go's protoregistry behind grpcurl and buf curl) reject (grpc-node #2595, #3018).
 */
import { status as GrpcCode, type Server, type ServerDuplexStream, type ServiceDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Logger } from "pino";
import { createDescriptorPool, type DescriptorFile, type DescriptorPool } from "./descriptor-pool.js";

/** Where the descriptor set lives, next to the generated code (src/gen, or dist/src/gen once built). */
export const DESCRIPTOR_SET_URL = new URL("../gen/vecrec.binpb", import.meta.url);

const REFLECTION_VERSIONS = ["v1", "v1alpha"] as const;

/** A ServerReflectionRequest as proto-loader decodes it (keepCase, oneofs). */
interface ReflectionRequest {
  host?: string;
  message_request?: string;
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type?: string; extension_number?: number };
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

type ReflectionResponseBody =
  | { file_descriptor_response: { file_descriptor_proto: Uint8Array[] } }
  | { all_extension_numbers_response: { base_type_name: string; extension_number: number[] } }
  | { list_services_response: { service: { name: string }[] } }
  | { error_response: { error_code: number; error_message: string } };

function loadReflectionServices(): ServiceDefinition[] {
  const require = createRequire(import.meta.url);
  const root = path.join(path.dirname(require.resolve("@grpc/reflection/package.json")), "build", "proto");
  return REFLECTION_VERSIONS.map((version) => {
    const definition = loadSync(`grpc/reflection/${version}/reflection.proto`, {
      includeDirs: [root],
      keepCase: true,
      longs: Number,
      enums: Number,
      oneofs: true,
      defaults: false,
    });
    const service = definition[`grpc.reflection.${version}.ServerReflection`];
    if (!service || !("ServerReflectionInfo" in service)) {
      throw new Error(`grpc.reflection.${version}.ServerReflection not found in @grpc/reflection's protos`);
    }
    return service;
  });
}

/** Answers one reflection request; `sent` holds the files already sent on this stream. */
export function answerReflectionRequest(
  pool: DescriptorPool,
  request: ReflectionRequest,
  sent: Set<string>,
): ReflectionResponseBody {
  const files = (file: DescriptorFile | undefined, what: string): ReflectionResponseBody => {
    if (!file) return { error_response: { error_code: GrpcCode.NOT_FOUND, error_message: `${what} not found` } };
    const list = pool.withDependencies(file, sent);
    for (const f of list) sent.add(f.name);
    return { file_descriptor_response: { file_descriptor_proto: list.map((f) => f.bytes) } };
  };
  switch (request.message_request) {
    case "list_services":
      return { list_services_response: { service: pool.services.map((name) => ({ name })) } };
    case "file_by_filename": {
      const name = request.file_by_filename ?? "";
      return files(pool.fileByName(name), `file ${name}`);
    }
    case "file_containing_symbol": {
      const symbol = request.file_containing_symbol ?? "";
      return files(pool.fileContainingSymbol(symbol), `symbol ${symbol}`);
    }
    case "file_containing_extension": {
      const ext = request.file_containing_extension;
      return {
        error_response: {
          error_code: GrpcCode.NOT_FOUND,
          error_message: `extension ${ext?.extension_number ?? 0} of ${ext?.containing_type ?? ""} not found`,
        },
      };
    }
    case "all_extension_numbers_of_type": {
      const type = request.all_extension_numbers_of_type ?? "";
      // The served files declare no extensions: a known message has none, an unknown one is NOT_FOUND.
      if (pool.hasMessage(type)) {
        return { all_extension_numbers_response: { base_type_name: type, extension_number: [] } };
      }
      return { error_response: { error_code: GrpcCode.NOT_FOUND, error_message: `type ${type} not found` } };
    }
    default:
      return {
        error_response: { error_code: GrpcCode.INVALID_ARGUMENT, error_message: "no message_request set" },
      };
  }
}

/** Reads the descriptor set; throws when the file is missing (run `npm run gen` / `npm run build`). */
export function loadDescriptorPool(url: URL = DESCRIPTOR_SET_URL): DescriptorPool {
  return createDescriptorPool(readFileSync(url));
}

/** Registers grpc.reflection.v1 and v1alpha ServerReflection on `server`, serving `pool`. */
export function addReflectionService(server: Server, pool: DescriptorPool, logger: Logger): void {
  const handler = (call: ServerDuplexStream<ReflectionRequest, object>): void => {
    const sent = new Set<string>();
    call.on("data", (request: ReflectionRequest) => {
      try {
        const body = answerReflectionRequest(pool, request, sent);
        // A client that sends without reading is held: no more requests are read until it has taken
        // the answers (each echoes its request, so they would pile up at twice the rate it sends).
        if (!call.write({ valid_host: request.host ?? "", original_request: request, ...body })) {
          call.pause();
          call.once("drain", () => call.resume());
        }
      } catch (error: unknown) {
        logger.error({ err: error }, "reflection request failed");
        call.emit("error", { code: GrpcCode.INTERNAL, details: "internal error" });
      }
    });
    call.on("end", () => call.end());
  };
  for (const service of loadReflectionServices()) {
    server.addService(service, { ServerReflectionInfo: handler });
  }
}
