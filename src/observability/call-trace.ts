/**
 * The trace of one traced call: its SERVER span and the child spans of its store operations and Redis
 * round trips, recorded as plain records while the call runs (a start and an end on performance.now()'s
 * clock, a name, attributes, a parent) and handed to the OpenTelemetry SDK once the call's status has
 * been sent, in the next turn of the event loop (after-reply.ts). The SDK's work for a span (ids, attribute checks, the
 * span processor) costs tens of microseconds in a busy server; done after the status, it is off the
 * path of the answer: the client has its reply while the spans are built, with the times they had.
 *
 * - The SERVER span is created early only when something needs its ids before the end: a log line of the
 *   call (its trace and span ids), see `ids`.
 * - A call that records many children (a long stream: one store write per message) hands the finished
 *   ones over in batches as it goes (`MAX_PENDING_RECORDS`), so a call's records stay bounded.
 * - Times are performance.now() readings, converted alike for every span (`at`).
 * - A store operation that made exactly one Redis round trip (a Search's FT.SEARCH) makes no span of
 *   its own: the round trip's span stands in its place, marked with the operation
 *   (`vecrec.store_operation`). One span less per call; an operation of several round trips (an Upsert's
 *   definition check and pipeline, a Recommend) keeps its span around them.
 * - Children still running when the call ends (a Redis reply no longer waited for) end with the call,
 *   marked `vecrec.unfinished`.
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Context, type HrTime, type Span, type Tracer } from "@opentelemetry/api";
import { hrTime } from "@opentelemetry/core";
import { afterReply } from "./after-reply.js";

/** Finished child records a call holds before they are handed to the SDK while it runs. */
export const MAX_PENDING_RECORDS = 64;

/** One child operation of a call (a store operation, a Redis round trip). */
export interface ChildRecord {
  readonly name: string;
  readonly kind: SpanKind;
  readonly attributes: Attributes;
  readonly start: number;
  readonly parent: ChildRecord | undefined;
  /** performance.now() at its end; undefined while it runs. */
  end: number | undefined;
  /** Its error message, when it failed. */
  error: string | undefined;
  /** Its span once handed to the SDK (a parent's, for its children). */
  span: Span | undefined;
  /**
   * Set for a grouping record (a store operation): when it ends with exactly one child and no error,
   * no span of its own is made; its only child (a Redis round trip) takes its place in the tree, with
   * these attributes added (see startChild).
   */
  readonly fold: Attributes | undefined;
  /** Children recorded under it. */
  children: number;
  /** Folded into its only child (no span of its own). */
  folded: boolean;
}

export class CallTrace {
  readonly #tracer: Tracer;
  readonly #parent: Context;
  readonly #name: string;
  readonly #start: number;
  readonly #attributes: Attributes;
  #span: Span | undefined;
  #context: Context | undefined;
  #records: ChildRecord[] = [];
  #finished = 0;
  #ended = false;

  /** `start`: performance.now() at the call's start; `parent`: the caller's context (from `traceparent`). */
  constructor(tracer: Tracer, parent: Context, name: string, start: number, attributes: Attributes) {
    this.#tracer = tracer;
    this.#parent = parent;
    this.#name = name;
    this.#start = start;
    this.#attributes = attributes;
  }

  /** Adds to the SERVER span's attributes (before it is handed over, they go with its start). */
  setAttribute(key: string, value: string | number): void {
    if (this.#span !== undefined) this.#span.setAttribute(key, value);
    else this.#attributes[key] = value;
  }

  /** The trace and span ids of the SERVER span, which is created now if it was not yet (a log line). */
  ids(): { traceId: string; spanId: string } {
    const ids = this.#root().spanContext();
    return { traceId: ids.traceId, spanId: ids.spanId };
  }

  /**
   * A child operation starts now, under `parent` (another child) or under the SERVER span. Call
   * `endChild` when it ends. After the call ended, nothing is recorded (undefined). `fold`: a grouping
   * record that ends with one child and no error makes no span; the child gets `fold` as attributes.
   */
  startChild(name: string, kind: SpanKind, attributes: Attributes, parent?: ChildRecord, fold?: Attributes): ChildRecord | undefined {
    if (this.#ended) return undefined;
    const record: ChildRecord = {
      name,
      kind,
      attributes,
      start: performance.now(),
      parent,
      end: undefined,
      error: undefined,
      span: undefined,
      fold,
      children: 0,
      folded: false,
    };
    if (parent !== undefined) parent.children++;
    this.#records.push(record);
    return record;
  }

  endChild(record: ChildRecord, error?: string): void {
    if (record.end !== undefined) return;
    record.end = performance.now();
    record.error = error;
    if (++this.#finished >= MAX_PENDING_RECORDS && !this.#ended) this.#handOver(false);
  }

  /**
   * The call ended (its status sent, or the client went away) at `endedAt`: its spans are handed to the
   * SDK in a later turn of the event loop, the SERVER span with `attributes` and, for a failed call, an
   * error status with `errorMessage`. `after` runs then too (the access log line, which may want the ids).
   */
  end(endedAt: number, attributes: Attributes, errorMessage: string | undefined, after?: () => void): void {
    if (this.#ended) return;
    this.#ended = true;
    afterReply(() => {
      this.#handOver(true, endedAt);
      const root = this.#root();
      root.setAttributes(attributes);
      if (errorMessage !== undefined) root.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage });
      after?.();
      root.end(at(endedAt));
    });
  }

  #root(): Span {
    if (this.#span === undefined) {
      this.#span = this.#tracer.startSpan(this.#name, { kind: SpanKind.SERVER, attributes: this.#attributes, startTime: at(this.#start) }, this.#parent);
      this.#context = trace.setSpan(this.#parent, this.#span);
    }
    return this.#span;
  }

  /**
   * Creates the spans of the finished records (of all of them at the call's end, `endedAt`), each under
   * its parent's span (created first when the parent still runs).
   */
  #handOver(all: boolean, endedAt?: number): void {
    if (!this.#root().isRecording()) {
      // Sampled out: its children would be too (the sampler follows the parent); none is built.
      this.#records = [];
      this.#finished = 0;
      return;
    }
    const kept: ChildRecord[] = [];
    for (const record of this.#records) {
      if (record.end === undefined && !all) {
        kept.push(record);
        continue;
      }
      if (record.fold !== undefined && record.end !== undefined && record.error === undefined && record.children === 1 && record.span === undefined) {
        record.folded = true;
        continue;
      }
      const span = this.#spanOf(record);
      if (record.end === undefined) {
        // The call is over and this child is not.
        span.setAttribute("vecrec.unfinished", true);
        span.end(endedAt === undefined ? undefined : at(endedAt));
        continue;
      }
      if (record.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: record.error });
      span.end(at(record.end));
    }
    this.#records = kept;
    this.#finished = 0;
  }

  #spanOf(record: ChildRecord): Span {
    if (record.span === undefined) {
      let attributes = record.attributes;
      let parent = record.parent;
      while (parent?.folded === true) {
        attributes = { ...attributes, ...parent.fold };
        parent = parent.parent;
      }
      const context = parent !== undefined ? trace.setSpan(this.#parent, this.#spanOf(parent)) : this.#context!;
      record.span = this.#tracer.startSpan(record.name, { kind: record.kind, attributes, startTime: at(record.start) }, context);
    }
    return record.span;
  }
}

/**
 * A performance.now() reading as the SDK's time: the same offset for every span (the SDK's own reading of
 * a number adds a per-span correction from Date.now(), which shifts spans against each other by up to 1 ms).
 */
function at(performanceNow: number): HrTime {
  return hrTime(performanceNow);
}
