/** An AbortSignal per call, aborted when the client cancels or the call's deadline passes. */
import type { Deadline, Metadata } from "@grpc/grpc-js";
import type { EventEmitter } from "node:events";
import { CancelledError, DeadlineExceededError } from "../domain/errors.js";
import { CallAbortSignal } from "./call-abort-signal.js";
import { linkSignal } from "./call-annotations.js";

/** The part of a grpc-js server call this module needs (unary and streaming calls both have it). */
export interface CancellableCall extends EventEmitter {
  readonly cancelled: boolean;
  getDeadline(): Deadline;
  /** The call's metadata: its annotations (call-annotations.ts) become the signal's. */
  readonly metadata?: Metadata;
}

export interface CallSignal {
  /** Aborted with a CancelledError (client cancel) or a DeadlineExceededError (deadline passed). */
  readonly signal: AbortSignal;
  /** Stops listening (removes the listener and the deadline timer); call it when the call ends. */
  dispose(): void;
}

/** Milliseconds until `deadline`, or undefined when the call has none. */
export function msUntilDeadline(deadline: Deadline, now = Date.now()): number | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Creates the signal of one call; it is already aborted when the call was cancelled before this. A
 * CallAbortSignal, not an AbortController's: Node 20 promotes every AbortSignal to the old generation
 * (call-abort-signal.ts).
 */
export function createCallSignal(call: CancellableCall): CallSignal {
  const abortable = new CallAbortSignal();
  const onCancelled = (): void => abortable.abort(new CancelledError());
  call.once("cancelled", onCancelled);
  let timer: NodeJS.Timeout | undefined;
  const remaining = msUntilDeadline(call.getDeadline());
  if (remaining !== undefined) {
    // setTimeout holds at most 2^31-1 ms; a deadline further away than ~24 days is as good as none.
    if (remaining <= 2 ** 31 - 1) {
      timer = setTimeout(() => abortable.abort(new DeadlineExceededError()), remaining);
      timer.unref();
    }
  }
  if (call.cancelled) onCancelled();
  // Structurally an AbortSignal (TypeScript checks it): what the use cases and stores take.
  const signal: AbortSignal = abortable;
  linkSignal(call.metadata, signal);
  return {
    signal,
    dispose() {
      call.removeListener("cancelled", onCancelled);
      if (timer) clearTimeout(timer);
    },
  };
}
