/**
 * The CLI's connection to a vecrec server: the generated client with plain-text or TLS credentials, a
 * bearer token on every call when one is given, and the errors of a call as one line.
 */
import { credentials, Metadata, status, type CallOptions, type ServiceError } from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import type { VectorServiceClient } from "../gen/vecrec/v1/vecrec.js";
import { createVectorServiceClient } from "./upsert-encoding.js";

export const DEFAULT_ADDRESS = "127.0.0.1:50051";

export interface ConnectionOptions {
  /** host:port */
  readonly address: string;
  /** PEM file of the CA that signed the server's certificate: TLS when set. */
  readonly tlsCa?: string;
  /** Sent as `authorization: Bearer <token>`. */
  readonly token?: string;
}

export interface Connection {
  readonly client: VectorServiceClient;
  /** The metadata every call carries (the token). */
  metadata(): Metadata;
  /** Call options with a deadline `seconds` from now (none when undefined). */
  options(seconds?: number): Partial<CallOptions>;
  close(): void;
}

/** Messages up to 256 MiB: an export of a large vector, or a GetItems answer, may exceed the 4 MiB default. */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export function connect(options: ConnectionOptions): Connection {
  const creds =
    options.tlsCa === undefined ? credentials.createInsecure() : credentials.createSsl(readFileSync(options.tlsCa));
  // Upsert and UpsertStream requests (vecrec load) through the one-buffer encoder: upsert-encoding.ts.
  const client = createVectorServiceClient(options.address, creds, {
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  });
  return {
    client,
    metadata() {
      const metadata = new Metadata();
      if (options.token !== undefined && options.token !== "") metadata.set("authorization", `Bearer ${options.token}`);
      return metadata;
    },
    options(seconds) {
      return seconds === undefined ? {} : { deadline: Date.now() + seconds * 1000 };
    },
    close() {
      client.close();
    },
  };
}

/** Promisifies one unary call: `unary((cb) => client.getIndex(request, metadata, cb))`. */
export function unary<Res>(invoke: (callback: (error: ServiceError | null, response: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke((error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** A failure to report: one line, and the exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number" && "details" in error;
}

/** One line describing `error`: a gRPC status as `NOT_FOUND: index "x" does not exist`. */
export function describeError(error: unknown, address: string): string {
  if (isServiceError(error)) {
    const name = status[error.code] ?? String(error.code);
    if (error.code === status.UNAVAILABLE && /No connection established|ECONNREFUSED|ENOTFOUND|Name resolution/i.test(error.details)) {
      return `UNAVAILABLE: cannot reach a vecrec server at ${address} (${error.details})`;
    }
    return `${name}: ${error.details}`;
  }
  return error instanceof Error ? error.message : String(error);
}
