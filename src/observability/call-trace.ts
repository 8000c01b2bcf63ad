/**
 * The trace of one traced call: its SERVER span and the child spans of its store operations and Redis
 * round trips, recorded as plain records while the call runs (a start and an end on performance.now()'s
 * clock, a name, attributes, a parent) and handed to the OpenTelemetry SDK once the call's reply is out
 * (after-reply.ts), with the times they had: that work is off the path of the answer.
 *
 * - The SERVER span is the SDK's (`tracer.startSpan`): the sampler decides there (OTEL_TRACES_SAMPLER),
 *   the ids, resource and scope come from there. Its children are not started through the SDK: each is
 *   a finished `ReadableSpan` built from its record (`RecordedSpan`: the call's trace id, a span id of its
 *   own, its parent's ids, the root's resource and scope) and handed straight to the span processor's
 *   `onEnd`, which is all the batch and simple processors do with a span. The SDK's per-span work (a
 *   sampler call, attribute copies and checks, a context, the tracer's metrics) measured ~30 µs per span
 *   in a busy server; a child of a sampled call is sampled (every standard sampler follows the parent or
 *   decides on the trace id), so nothing is lost by skipping it. Processors see no `onStart` for them
 *   (the batch and simple processors ignore it).
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
import { SpanKind, SpanStatusCode, type Attributes, type Context, type HrTime, type Link, type Span, type SpanContext, type SpanStatus, type Tracer } from "@opentelemetry/api";
import { hrTime, hrTimeDuration, type InstrumentationScope } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import { RandomIdGenerator, type ReadableSpan, type SpanProcessor, type TimedEvent } from "@opentelemetry/sdk-trace-base";
import { afterReply } from "./after-reply.js";

/** Where a call's spans go: the SDK's tracer (the SERVER span) and its span processor (the children). */
export interface TraceSink {
  readonly tracer: Tracer;
  readonly processor: SpanProcessor;
}

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
  /** Its span id, given when it or a child of it is handed to the SDK. */
  spanId: string | undefined;
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

const ids = new RandomIdGenerator();
const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];
const OK_STATUS: SpanStatus = { code: SpanStatusCode.UNSET };

/** A child span, finished, as the SDK's processors and exporters read one. */
class RecordedSpan implements ReadableSpan {
  readonly links = NO_LINKS;
  readonly events = NO_EVENTS;
  readonly ended = true;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly duration: HrTime;
  readonly #context: SpanContext;

  constructor(
    readonly name: string,
    readonly kind: SpanKind,
    context: SpanContext,
    readonly parentSpanContext: SpanContext,
    readonly startTime: HrTime,
    readonly endTime: HrTime,
    readonly status: SpanStatus,
    readonly attributes: Attributes,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
  ) {
    this.#context = context;
    this.duration = hrTimeDuration(startTime, endTime);
  }

  spanContext(): SpanContext {
    return this.#context;
  }
}

export class CallTrace {
  readonly #tracer: Tracer;
  readonly #processor: SpanProcessor;
  readonly #parent: Context;
  readonly #name: string;
  readonly #start: number;
  readonly #attributes: Attributes;
  #span: Span | undefined;
  #records: ChildRecord[] = [];
  #finished = 0;
  #ended = false;

  /** `start`: performance.now() at the call's start; `parent`: the caller's context (from `traceparent`). */
  constructor(sink: TraceSink, parent: Context, name: string, start: number, attributes: Attributes) {
    this.#tracer = sink.tracer;
    this.#processor = sink.processor;
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
      spanId: undefined,
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
    this.#span ??= this.#tracer.startSpan(this.#name, { kind: SpanKind.SERVER, attributes: this.#attributes, startTime: at(this.#start) }, this.#parent);
    return this.#span;
  }

  /**
   * Hands the finished records (all of them at the call's end, `endedAt`) to the span processor as
   * finished spans under the SERVER span (or their parent's span: its id is given now if it still runs).
   */
  #handOver(all: boolean, endedAt?: number): void {
    const root = this.#root();
    if (!root.isRecording()) {
      // Sampled out: its children would be too (the sampler follows the parent); none is built.
      this.#records = [];
      this.#finished = 0;
      return;
    }
    // A recording span of the SDK is a ReadableSpan (its resource and scope).
    const { resource, instrumentationScope } = root as unknown as ReadableSpan;
    const rootContext = root.spanContext();
    const kept: ChildRecord[] = [];
    for (const record of this.#records) {
      if (record.end === undefined && !all) {
        kept.push(record);
        continue;
      }
      if (record.fold !== undefined && record.end !== undefined && record.error === undefined && record.children === 1 && record.spanId === undefined) {
        record.folded = true;
        continue;
      }
      let attributes = record.attributes;
      let parent = record.parent;
      while (parent?.folded === true) {
        attributes = { ...attributes, ...parent.fold };
        parent = parent.parent;
      }
      let status = OK_STATUS;
      let end = record.end;
      if (end === undefined) {
        // The call is over and this child is not.
        attributes = { ...attributes, "vecrec.unfinished": true };
        end = endedAt ?? performance.now();
      } else if (record.error !== undefined) status = { code: SpanStatusCode.ERROR, message: record.error };
      const parentContext = parent === undefined ? rootContext : childContext(rootContext, parent);
      const span = new RecordedSpan(record.name, record.kind, childContext(rootContext, record), parentContext, at(record.start), at(end), status, attributes, resource, instrumentationScope);
      this.#processor.onEnd(span);
    }
    this.#records = kept;
    this.#finished = 0;
  }
}

/** The span context of a child record (its span id given at first use) in the call's trace. */
function childContext(root: SpanContext, record: ChildRecord): SpanContext {
  record.spanId ??= ids.generateSpanId();
  return { traceId: root.traceId, spanId: record.spanId, traceFlags: root.traceFlags, traceState: root.traceState };
}

/**
 * A performance.now() reading as the SDK's time: the same offset for every span (the SDK's own reading of
 * a number adds a per-span correction from Date.now(), which shifts spans against each other by up to 1 ms).
 */
function at(performanceNow: number): HrTime {
  return hrTime(performanceNow);
}
