/**
 * An independent gRPC client for the end-to-end security tests: Connect for Node
 * (@connectrpc/connect-node, its own HTTP/2 gRPC implementation, not grpc-js) with message types
 * read at run time from the committed descriptor set (src/gen/vecrec.binpb) by @bufbuild/protobuf.
 * Test-only: the server and its other tests use ts-proto and grpc-js.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createFileRegistry, fromBinary, fromJson, type JsonValue, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

const DESCRIPTOR_SET = fileURLToPath(new URL("../../src/gen/vecrec.binpb", import.meta.url));

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(DESCRIPTOR_SET)));

function service(name: string): DescService {
  const found = registry.getService(name);
  if (!found) throw new Error(`${name} is not in ${DESCRIPTOR_SET}`);
  return found;
}

export const VECTOR_SERVICE: DescService = service("vecrec.v1.VectorService");

export interface ConnectTarget {
  readonly port: number;
  /** TLS: the CA that signed the server's certificate, and for mTLS the client's certificate and key. */
  readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string };
  /** Sent as `authorization: Bearer <token>`. */
  readonly token?: string;
}

export interface ConnectCaller {
  /** Calls `method` with `request` (its input message in proto JSON, as grpcurl takes it); resolves with the status code and answers. */
  call(method: string, request: JsonValue, timeoutMs?: number): Promise<{ code: Code | "OK"; message: string; answers: unknown[] }>;
  close(): void;
}

/** A caller of VectorService (or `serviceName`) on 127.0.0.1:`port`. */
export function connectCaller(target: ConnectTarget, serviceName = "vecrec.v1.VectorService"): ConnectCaller {
  const desc = service(serviceName);
  const scheme = target.tls ? "https" : "http";
  const baseUrl = `${scheme}://127.0.0.1:${target.port}`;
  const nodeOptions = target.tls
    ? { ca: target.tls.ca, ...(target.tls.cert ? { cert: target.tls.cert, key: target.tls.key } : {}), servername: "localhost" }
    : {};
  // Our own session manager, so that close() ends the HTTP/2 session instead of leaving it idle.
  const sessionManager = new Http2SessionManager(baseUrl, {}, nodeOptions);
  const transport = createGrpcTransport({
    baseUrl,
    sessionManager,
    interceptors: target.token === undefined ? [] : [(next) => (req) => (req.header.set("authorization", `Bearer ${target.token}`), next(req))],
  });
  const client = createClient(desc, transport) as unknown as Record<string, (...args: unknown[]) => unknown>;
  return {
    async call(method, request, timeoutMs = 5_000) {
      const methodDesc = desc.methods.find((m: DescMethod) => m.name === method);
      if (!methodDesc) throw new Error(`no method ${method} in ${desc.typeName}`);
      const input = fromJson(methodDesc.input, request, { registry });
      const fn = client[methodDesc.localName];
      if (!fn) throw new Error(`no client function for ${method}`);
      const options = { timeoutMs };
      try {
        if (methodDesc.methodKind === "server_streaming") {
          const answers: unknown[] = [];
          for await (const answer of fn.call(client, input, options) as AsyncIterable<unknown>) answers.push(answer);
          return { code: "OK", message: "", answers };
        }
        if (methodDesc.methodKind === "unary") return { code: "OK", message: "", answers: [await (fn.call(client, input, options))] };
        if (methodDesc.methodKind === "bidi_streaming" || methodDesc.methodKind === "client_streaming") {
          // An async generator: Connect calls its return()/throw() when the call ends early.
          const one = async function* (): AsyncGenerator<unknown> {
            yield await Promise.resolve(input);
          };
          const result = fn.call(client, one(), options);
          const answers: unknown[] = [];
          if (methodDesc.methodKind === "client_streaming") answers.push(await (result));
          else for await (const answer of result as AsyncIterable<unknown>) answers.push(answer);
          return { code: "OK", message: "", answers };
        }
        throw new Error(`unsupported method kind of ${method}`);
      } catch (error: unknown) {
        const connectError = ConnectError.from(error);
        return { code: connectError.code, message: connectError.rawMessage, answers: [] };
      }
    },
    close() {
      sessionManager.abort();
    },
  };
}

export { Code };
