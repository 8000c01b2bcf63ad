/**
 * Typed domain errors. Adapters (stores) turn driver errors into these, keeping the original as
 * `cause`; the gRPC transport maps each class to one status code in one table
 * (src/grpc/status-mapping.ts). Anything that is not a VecrecError becomes INTERNAL there.
 */

/** One bad field of a request: `field` is a path such as `items[2].vector`. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

export abstract class VecrecError extends Error {
  abstract readonly kind:
    | "invalid_argument"
    | "not_found"
    | "already_exists"
    | "failed_precondition"
    | "unavailable"
    | "cancelled"
    | "deadline_exceeded"
    | "resource_exhausted";
}

/** Bad input; carries every violation found (never thrown with an empty list). */
export class InvalidArgumentError extends VecrecError {
  readonly kind = "invalid_argument" as const;
  readonly violations: readonly FieldViolation[];
  constructor(violations: readonly FieldViolation[] | FieldViolation, options?: ErrorOptions) {
    const list: readonly FieldViolation[] = isViolationList(violations) ? violations : [violations];
    super(list.map((v) => `${v.field}: ${v.description}`).join("; "), options);
    this.name = "InvalidArgumentError";
    this.violations = list;
  }
}

function isViolationList(value: readonly FieldViolation[] | FieldViolation): value is readonly FieldViolation[] {
  return Array.isArray(value);
}

/** Throws an InvalidArgumentError when `violations` is not empty. */
export function throwIfViolations(violations: readonly FieldViolation[]): void {
  if (violations.length > 0) throw new InvalidArgumentError(violations);
}

export class NotFoundError extends VecrecError {
  readonly kind = "not_found" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NotFoundError";
  }
}

export class IndexNotFoundError extends NotFoundError {
  constructor(readonly indexName: string, options?: ErrorOptions) {
    super(`index "${indexName}" does not exist`, options);
    this.name = "IndexNotFoundError";
  }
}

export class AliasNotFoundError extends NotFoundError {
  constructor(readonly alias: string, options?: ErrorOptions) {
    super(`alias "${alias}" does not exist`, options);
    this.name = "AliasNotFoundError";
  }
}

export class ItemNotFoundError extends NotFoundError {
  constructor(readonly indexName: string, readonly itemId: string, options?: ErrorOptions) {
    super(`item "${itemId}" does not exist in index "${indexName}"`, options);
    this.name = "ItemNotFoundError";
  }
}

export class AlreadyExistsError extends VecrecError {
  readonly kind = "already_exists" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AlreadyExistsError";
  }
}

/** The request is valid but the system is not in a state to serve it (e.g. an item without a vector). */
export class FailedPreconditionError extends VecrecError {
  readonly kind = "failed_precondition" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FailedPreconditionError";
  }
}

/** The backend cannot be reached now; retrying later may work. */
export class UnavailableError extends VecrecError {
  readonly kind = "unavailable" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnavailableError";
  }
}

/** The caller went away (cancelled the call) before the work finished. */
export class CancelledError extends VecrecError {
  readonly kind = "cancelled" as const;
  constructor(message = "cancelled by the client", options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

export class DeadlineExceededError extends VecrecError {
  readonly kind = "deadline_exceeded" as const;
  constructor(message = "deadline exceeded", options?: ErrorOptions) {
    super(message, options);
    this.name = "DeadlineExceededError";
  }
}

/** Throws CancelledError (or DeadlineExceededError when the abort reason says so) if `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof VecrecError) throw reason;
    throw new CancelledError();
  }
}

/**
 * `work`'s outcome, or the signal's CancelledError/DeadlineExceededError as soon as it aborts (rejected
 * at once when it already has). `work` itself goes on: what it answers later is dropped.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      try {
        throwIfAborted(signal);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
