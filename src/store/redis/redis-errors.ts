/**
 * The one place where Redis and node-redis error texts are matched and turned into domain errors. The
 * Query Engine words the same condition differently between versions (recorded in
 * shared/conformance): `idx: no such index` and `No such index idx` (search 8.0), `Unknown Index name`
 * and `Unknown index name` (2.6).
 */
import {
  AbortError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  ErrorReply,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
} from "redis";
import {
  AlreadyExistsError,
  CancelledError,
  IndexNotFoundError,
  UnavailableError,
  VecrecError,
} from "../../domain/errors.js";

/** True when a Redis error reply says the FT index does not exist. */
export function isUnknownIndexError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = error.message.toLowerCase();
  return text.includes("no such index") || text.includes("unknown index name");
}

/** True when a Redis error reply says FT.CREATE found an index of that name. */
export function isIndexExistsError(error: unknown): boolean {
  return error instanceof Error && error.message.toLowerCase().includes("index already exists");
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** True when `error` means Redis cannot be reached now (not a reply of the server). */
export function isConnectionError(error: unknown): boolean {
  if (
    error instanceof ClientOfflineError ||
    error instanceof ClientClosedError ||
    error instanceof SocketClosedUnexpectedlyError ||
    error instanceof ConnectionTimeoutError ||
    error instanceof SocketTimeoutError ||
    error instanceof ReconnectStrategyError
  ) {
    return true;
  }
  if (error instanceof Error && !(error instanceof ErrorReply)) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_ERROR_CODES.has(code)) return true;
    // Errors of the write path (LOADING, a reset mid-pipeline) can arrive wrapped.
    if (error.cause !== undefined && error.cause !== error) return isConnectionError(error.cause);
  }
  // A server that is still loading its dataset answers every command with LOADING.
  return error instanceof ErrorReply && /^(LOADING|MASTERDOWN|BUSY)\b/.test(error.message);
}

/**
 * Turns any error of a Redis call into a domain error: unknown index -> IndexNotFoundError (when the
 * vecrec index name is known), `Index already exists` -> AlreadyExistsError, connection problems ->
 * UnavailableError, an aborted command -> CancelledError (or the signal's VecrecError reason). Anything
 * else becomes a plain Error with the original as `cause` (the transport reports it as INTERNAL).
 */
export function toDomainError(
  error: unknown,
  context: { indexName?: string; signal?: AbortSignal } = {},
): Error {
  if (error instanceof VecrecError) return error;
  if (error instanceof AbortError || (context.signal?.aborted === true && isAbortLike(error))) {
    const reason: unknown = context.signal?.reason;
    if (reason instanceof VecrecError) return reason;
    return new CancelledError(undefined, { cause: error });
  }
  if (context.indexName !== undefined && isUnknownIndexError(error)) {
    return new IndexNotFoundError(context.indexName, { cause: error });
  }
  if (isIndexExistsError(error)) {
    return new AlreadyExistsError(
      context.indexName === undefined ? "index already exists" : `index "${context.indexName}" already exists`,
      { cause: error },
    );
  }
  if (isConnectionError(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new UnavailableError(`Redis is unavailable: ${detail}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`Redis command failed: ${message}`, { cause: error });
}

function isAbortLike(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error instanceof AbortError);
}
