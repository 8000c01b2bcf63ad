/**
 * The one table from domain errors to gRPC status codes. Every handler sends its failures through
 * `toGrpcStatus`, so no RPC ever answers UNKNOWN and no unexpected error text reaches a client.
 */
import { Metadata, status as GrpcCode, type StatusObject } from "@grpc/grpc-js";
import type { CallLog } from "./call-annotations.js";
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

/**
 * Trailers travel in one HTTP/2 header block, which clients and proxies cap (Node's http2 under grpc-js
 * at 64 KiB by default; proxies often lower):
 * a batch of 10000 bad items must not turn into an unreadable status (grpc-message is percent-encoded,
 * so one non-ASCII character may cost 9 bytes). So at most this many violations
 * are sent, within this many bytes of descriptions, and the message is cut to MAX_DETAILS_CHARS.
 */
export const MAX_SENT_VIOLATIONS = 100;
const MAX_VIOLATION_BYTES = 4 * 1024;
const MAX_DETAILS_CHARS = 512;

/** The violations to send: the first ones that fit, plus one saying how many were left out. */
export function capViolations(violations: readonly FieldViolation[]): FieldViolation[] {
  const kept: FieldViolation[] = [];
  let bytes = 0;
  for (const v of violations) {
    const size = Buffer.byteLength(v.field) + Buffer.byteLength(v.description) + 8;
    if (kept.length >= MAX_SENT_VIOLATIONS || bytes + size > MAX_VIOLATION_BYTES) break;
    kept.push(v);
    bytes += size;
  }
  const left = violations.length - kept.length;
  // The extra entry names the list itself (`items`, `interactions`), not one element of it.
  const list = (kept[0]?.field ?? "").replace(/[[.].*$/, "");
  if (left > 0) kept.push({ field: list, description: `${left} more violation(s) not listed` });
  return kept;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The message, well-formed (a lone surrogate becomes U+FFFD) and cut to MAX_DETAILS_CHARS UTF-16 units
 * at a whole character: grpc-js percent-encodes it with `encodeURI`, which throws on a lone surrogate,
 * and a status that cannot be encoded is never sent (the call would be left unanswered).
 */
export function capDetails(message: string): string {
  const whole = message.replace(LONE_SURROGATE, "\ufffd");
  if (whole.length <= MAX_DETAILS_CHARS) return whole;
  let end = MAX_DETAILS_CHARS;
  const last = whole.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // the first half of a pair: cut before it
  return `${whole.slice(0, end)}…`;
}

/** Sent when the status a call should end with cannot be sent itself (ASCII, no trailers). */
export const UNSENDABLE_STATUS_DETAILS = "internal error: the call's status could not be encoded";

/**
 * The status as grpc-js can send it: grpc-js percent-encodes the message with `encodeURI` and turns
 * the metadata into HTTP/2 headers while sending, and on the streaming path it does so in an event
 * handler, where a throw is lost and the call left unanswered. So both steps are tried here first;
 * when either throws, the error is logged and a plain INTERNAL with an ASCII message is returned instead.
 */
export function sendableStatus(status: GrpcStatus, logger: CallLog, method: string): GrpcStatus {
  try {
    encodeURI(status.details);
    status.metadata.toHttp2Headers();
    return status;
  } catch (error: unknown) {
    logger.error({ err: error, method, code: GrpcCode[status.code] }, "the call's status could not be encoded; answering INTERNAL");
    return { code: GrpcCode.INTERNAL, details: UNSENDABLE_STATUS_DETAILS, metadata: new Metadata() };
  }
}

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
export function toGrpcStatus(error: unknown, logger: CallLog, method: string): GrpcStatus {
  const metadata = new Metadata();
  if (error instanceof VecrecError) {
    const code = CODE_OF_KIND[error.kind];
    const details = capDetails(error.message);
    if (error instanceof InvalidArgumentError) {
      metadata.set(STATUS_DETAILS_TRAILER, encodeBadRequestStatus(details, capViolations(error.violations)));
    }
    // An outage is logged once by the store (and reflected in health); one line per failing call during
    // it would flood the log, so calls that fail with UNAVAILABLE are logged at debug like other refusals.
    logger.debug({ err: error, method, code: GrpcCode[code] }, "request failed");
    return sendableStatus({ code, details, metadata }, logger, method);
  }
  logger.error({ err: error, method }, "internal error");
  return { code: GrpcCode.INTERNAL, details: "internal error", metadata };
}
