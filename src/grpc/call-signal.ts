/** An AbortSignal per call, aborted when the client cancels or the call's deadline passes. */
import type { Deadline, Metadata } from "@grpc/grpc-js";
import type { EventEmitter } from "node:events";
import { CancelledError, DeadlineExceededError } from "../domain/errors.js";
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

/** Creates the signal of one call; it is already aborted when the call was cancelled before this. */
export function createCallSignal(call: CancellableCall): CallSignal {
  const controller = new AbortController();
  const onCancelled = (): void => controller.abort(new CancelledError());
  call.once("cancelled", onCancelled);
  let timer: NodeJS.Timeout | undefined;
  const remaining = msUntilDeadline(call.getDeadline());
  if (remaining !== undefined) {
    // setTimeout holds at most 2^31-1 ms; a deadline further away than ~24 days is as good as none.
    if (remaining <= 2 ** 31 - 1) {
      timer = setTimeout(() => controller.abort(new DeadlineExceededError()), remaining);
      timer.unref();
    }
  }
  if (call.cancelled) onCancelled();
  linkSignal(call.metadata, controller.signal);
  return {
    signal: controller.signal,
    dispose() {
      call.removeListener("cancelled", onCancelled);
      if (timer) clearTimeout(timer);
    },
  };
}
