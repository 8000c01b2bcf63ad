/**
 * What an outer interceptor (observability) attaches to a call for the code that serves it, carried
 * explicitly instead of in an async context: on Node 20, AsyncLocalStorage installs promise hooks that make
 * every promise of the process dearer (about 150 µs of CPU per traced Search, half of tracing's cost).
 * Found by the call's metadata object, which grpc-js hands unchanged from the interceptors to the handler,
 * and by the call's signal (call-signal.ts links the two), which the handler passes to every store method
 * and the stores to every Redis command. A call nobody annotated costs one WeakMap lookup.
 */
import type { Metadata } from "@grpc/grpc-js";
import type { Logger } from "pino";

export interface CallAnnotations {
  /** The fields for every line logged for the call (its trace id and span id), asked for at its first line. */
  logFields?: () => Readonly<Record<string, string>>;
  /** The tracer's record of the call (opaque here: src/observability/call-trace.ts), for its child spans. */
  trace?: unknown;
  /** The tracer's record of the store operation running for the call, the parent of its Redis round trips. */
  operation?: unknown;
}

const byMetadata = new WeakMap<Metadata, CallAnnotations>();
const bySignal = new WeakMap<AbortSignal, CallAnnotations>();

/** The annotations of the call whose metadata this is, created empty at the first ask (interceptors). */
export function annotateCall(metadata: Metadata): CallAnnotations {
  let annotations = byMetadata.get(metadata);
  if (annotations === undefined) {
    annotations = {};
    byMetadata.set(metadata, annotations);
  }
  return annotations;
}

/** The call's annotations, by its metadata; undefined when no interceptor annotated it. */
export function annotationsOfMetadata(metadata: Metadata | undefined): CallAnnotations | undefined {
  return metadata === undefined ? undefined : byMetadata.get(metadata);
}

/** Makes the annotations of the call with `metadata` findable by its signal as well (call-signal.ts). */
export function linkSignal(metadata: Metadata | undefined, signal: AbortSignal): void {
  const annotations = annotationsOfMetadata(metadata);
  if (annotations !== undefined) bySignal.set(signal, annotations);
}

/** The annotations of the call `signal` belongs to; undefined outside a call or when nobody annotated it. */
export function annotationsOfSignal(signal: AbortSignal | undefined): CallAnnotations | undefined {
  return signal === undefined ? undefined : bySignal.get(signal);
}

/** What the serving code logs a call's lines with: a pino logger, or callLogger's stand-in for one. */
export type CallLog = Pick<Logger, "debug" | "info" | "warn" | "error" | "isLevelEnabled">;

type Level = "debug" | "info" | "warn" | "error";

/**
 * A call's logger that builds its pino child (with the call's fields bound) only when a line is
 * written: most calls write none at the levels enabled, and a child costs microseconds per call.
 */
class LazyCallLog implements CallLog {
  #child: Logger | undefined;

  constructor(
    private readonly base: Logger,
    private readonly fields: () => Readonly<Record<string, string>>,
  ) {}

  isLevelEnabled(level: string): boolean {
    return this.base.isLevelEnabled(level);
  }

  debug(object: unknown, message?: string): void {
    this.write("debug", object, message);
  }

  info(object: unknown, message?: string): void {
    this.write("info", object, message);
  }

  warn(object: unknown, message?: string): void {
    this.write("warn", object, message);
  }

  error(object: unknown, message?: string): void {
    this.write("error", object, message);
  }

  private write(level: Level, object: unknown, message: string | undefined): void {
    if (!this.base.isLevelEnabled(level)) return;
    this.#child ??= this.base.child(this.fields());
    if (typeof object === "string") this.#child[level](object);
    else this.#child[level](object as object, message);
  }
}

/**
 * The logger for the lines of one call: `logger` with the call's log fields (its trace id) on every
 * line, or `logger` itself when the call has none.
 */
export function callLogger(logger: Logger, metadata: Metadata | undefined): CallLog {
  const fields = annotationsOfMetadata(metadata)?.logFields;
  return fields === undefined ? logger : new LazyCallLog(logger, fields);
}
