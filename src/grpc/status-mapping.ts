/**
 * The one table from domain errors to gRPC status codes. Every handler sends its failures through
 * `toGrpcStatus`, so no RPC ever answers UNKNOWN and no unexpected error text reaches a client.
 */
import { Metadata, status as GrpcCode, type StatusObject } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { InvalidArgumentError, VecrecError, type FieldViolation } from "../domain/errors.js";
import { Any } from "../gen/google/protobuf/any.js";
import { BadRequest } from "../gen/google/rpc/error_details.js";
import { Status } from "../gen/google/rpc/status.js";

/** The trailer carrying a serialized google.rpc.Status (the gRPC "rich error model"). */
export const STATUS_DETAILS_TRAILER = "grpc-status-details-bin";
const BAD_REQUEST_TYPE_URL = "type.googleapis.com/google.rpc.BadRequest";

const CODE_OF_KIND: Record<VecrecError["kind"], GrpcCode> = {
  invalid_argument: GrpcCode.INVALID_ARGUMENT,
  not_found: GrpcCode.NOT_FOUND,
  already_exists: GrpcCode.ALREADY_EXISTS,
  failed_precondition: GrpcCode.FAILED_PRECONDITION,
  unavailable: GrpcCode.UNAVAILABLE,
  cancelled: GrpcCode.CANCELLED,
  deadline_exceeded: GrpcCode.DEADLINE_EXCEEDED,
  resource_exhausted: GrpcCode.RESOURCE_EXHAUSTED,
};

/** What a handler hands to grpc-js: always a definite code, never UNKNOWN. */
export type GrpcStatus = StatusObject;

/** Encodes violations as a google.rpc.Status with one google.rpc.BadRequest detail. */
export function encodeBadRequestStatus(message: string, violations: readonly FieldViolation[]): Buffer {
  const badRequest = BadRequest.encode({
    fieldViolations: violations.map((v) => ({ field: v.field, description: v.description })),
  }).finish();
  const status = Status.encode({
    code: GrpcCode.INVALID_ARGUMENT,
    message,
    details: [Any.fromPartial({ typeUrl: BAD_REQUEST_TYPE_URL, value: Buffer.from(badRequest) })],
  }).finish();
  return Buffer.from(status);
}

/**
 * Maps any thrown value to a status. VecrecErrors keep their message; INVALID_ARGUMENT also carries the
 * field violations in the `grpc-status-details-bin` trailer. Anything else becomes INTERNAL with a
 * generic message, and the error itself is logged (never sent).
 */
export function toGrpcStatus(error: unknown, logger: Logger, method: string): GrpcStatus {
  const metadata = new Metadata();
  if (error instanceof VecrecError) {
    const code = CODE_OF_KIND[error.kind];
    if (error instanceof InvalidArgumentError) {
      metadata.set(STATUS_DETAILS_TRAILER, encodeBadRequestStatus(error.message, error.violations));
    }
    if (code === GrpcCode.UNAVAILABLE) logger.warn({ err: error, method }, "backend unavailable");
    else logger.debug({ err: error, method, code: GrpcCode[code] }, "request failed");
    return { code, details: error.message, metadata };
  }
  logger.error({ err: error, method }, "internal error");
  return { code: GrpcCode.INTERNAL, details: "internal error", metadata };
}
