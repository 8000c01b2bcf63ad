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
  MultiErrorReply,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
} from "redis";
import {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  IndexNotFoundError,
  UnavailableError,
  VecrecError,
} from "../../domain/errors.js";

/** Redis ran out of memory (`OOM command not allowed when used memory > 'maxmemory'`): RESOURCE_EXHAUSTED. */
export class RedisOutOfMemoryError extends VecrecError {
  readonly kind = "resource_exhausted" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RedisOutOfMemoryError";
  }
}

/** True for the Query Engine's text of a query stopped at its TIMEOUT (a warning or, under ON_TIMEOUT FAIL, an error). */
export function isQueryTimeoutText(text: string): boolean {
  return text.toLowerCase().includes("timeout limit was reached");
}

/**
 * Throws queryTimeoutError when a reply's RESP3 `warning` texts say the server stopped the query at its
 * TIMEOUT: under ON_TIMEOUT RETURN (the default) such a reply carries only the results found so far.
 */
export function throwIfTimedOut(warnings: readonly string[] | undefined): void {
  const timedOut = warnings?.find(isQueryTimeoutText);
  if (timedOut !== undefined) throw queryTimeoutError(timedOut);
}

/** The error for a search the server stopped at its own query time limit (the results would be partial). */
export function queryTimeoutError(detail: string, cause?: unknown): DeadlineExceededError {
  return new DeadlineExceededError(
    `Redis stopped the search at its query time limit (search-timeout / FT.CONFIG TIMEOUT, 500 ms by default), ` +
      `so its results would be partial: ${detail}`,
    cause === undefined ? undefined : { cause },
  );
}

/** The first word of an error reply: READONLY, OOM, MOVED, ... */
function replyCode(error: ErrorReply): string {
  return /^\S*/.exec(error.message)?.[0] ?? "";
}

/**
 * Error replies about the server's state rather than the command, mapped to domain errors; undefined
 * for the others.
 */
function serverStateError(error: ErrorReply): VecrecError | undefined {
  const code = replyCode(error);
  const detail = error.message;
  switch (code) {
    case "READONLY":
      return new UnavailableError(
        `Redis refused a write: the server is a read-only replica (after a failover, point vecrec at the primary): ${detail}`,
        { cause: error },
      );
    case "OOM":
      return new RedisOutOfMemoryError(`Redis is out of memory (maxmemory reached): ${detail}`, { cause: error });
    case "TRYAGAIN":
    case "NOAUTH":
    case "WRONGPASS":
    case "NOPERM":
    case "NOREPLICAS":
    case "MISCONF":
      return new UnavailableError(`Redis refused the command: ${detail}`, { cause: error });
    case "CLUSTERDOWN":
      return new UnavailableError(`the Redis Cluster is down (a shard is unreachable or has no primary): ${detail}`, {
        cause: error,
      });
    case "MOVED":
    case "ASK":
      // The cluster client follows these; one reaching here means the server became a cluster node
      // after vecrec connected to it as a standalone server, or redirections kept bouncing.
      return new UnavailableError(
        `Redis redirected the command (${detail}): the server is a Redis Cluster node that vecrec did not connect to as one ` +
          `(restart vecrec to detect the cluster), or the cluster's slots are moving; retry`,
        { cause: error },
      );
    case "CROSSSLOT":
      // vecrec sends nothing that spans two hash slots; a proxy of a sharded database would refuse it.
      return new FailedPreconditionError(
        `Redis refused a command spanning two hash slots, which vecrec never sends (please report this): ${detail}`,
        { cause: error },
      );
  }
  if (isQueryTimeoutText(detail)) return queryTimeoutError(detail, error);
  if (/^ERR unknown command '(FT\.|_FT\.)/i.test(detail)) {
    return new FailedPreconditionError(
      `this Redis has no Query Engine (search module): vecrec needs Redis 8 with the Query Engine (e.g. the redis:8 image) ` +
        `or Redis Stack; the server answered: ${detail}`,
      { cause: error },
    );
  }
  return undefined;
}

/** True when a Redis error reply says the FT index does not exist. */
export function isUnknownIndexError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = error.message.toLowerCase();
  return text.includes("no such index") || text.includes("unknown index name");
}

/** True when FT.ALIASDEL found no such alias: `Alias does not exist`. */
export function isAliasMissingError(error: unknown): boolean {
  return error instanceof Error && error.message.toLowerCase().includes("alias does not exist");
}

/** True when a Redis error reply says FT.CREATE found an index of that name. */
export function isIndexExistsError(error: unknown): boolean {
  return error instanceof Error && error.message.toLowerCase().includes("index already exists");
}

/** True when FT.ALTER (or FT.CREATE) found the field in the schema already: `Duplicate field in schema - f`. */
export function isDuplicateFieldError(error: unknown): boolean {
  return error instanceof Error && error.message.toLowerCase().includes("duplicate field in schema");
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
  // A run-time error inside EXEC: node-redis reports the block; what matters is the reply inside it.
  if (error instanceof MultiErrorReply) {
    const [first] = error.errors();
    if (first instanceof Error) return toDomainError(first, context);
  }
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
  if (error instanceof ErrorReply) {
    const mapped = serverStateError(error);
    if (mapped !== undefined) return mapped;
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
