import { Metadata } from "@grpc/grpc-js";
import { EventEmitter } from "node:events";
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { annotateCall, annotationsOfSignal, callLogger } from "../../../src/grpc/call-annotations.js";
import { createCallSignal } from "../../../src/grpc/call-signal.js";

function call(metadata: Metadata): EventEmitter & { cancelled: boolean; metadata: Metadata; getDeadline(): number } {
  return Object.assign(new EventEmitter(), { cancelled: false, metadata, getDeadline: () => Infinity });
}

function capturingLogger(lines: Record<string, unknown>[]) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return pino({}, sink);
}

describe("call annotations", () => {
  it("are found by the call's signal once the signal is created from the annotated call", () => {
    const metadata = new Metadata();
    const annotations = annotateCall(metadata);
    expect(annotateCall(metadata)).toBe(annotations);
    const created = createCallSignal(call(metadata));
    annotations.trace = "the call's context";
    expect(annotationsOfSignal(created.signal)?.trace).toBe("the call's context");
    created.dispose();
  });

  it("are not found for a call nobody annotated, nor for a foreign signal", () => {
    const created = createCallSignal(call(new Metadata()));
    expect(annotationsOfSignal(created.signal)).toBeUndefined();
    expect(annotationsOfSignal(new AbortController().signal)).toBeUndefined();
    expect(annotationsOfSignal(undefined)).toBeUndefined();
    created.dispose();
  });

  it("put a call's log fields on its own lines only", () => {
    const lines: Record<string, unknown>[] = [];
    const logger = capturingLogger(lines);
    const traced = new Metadata();
    let asked = 0;
    annotateCall(traced).logFields = () => {
      asked++;
      return { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" };
    };
    const plain = new Metadata();
    expect(callLogger(logger, plain)).toBe(logger);
    const tracedLog = callLogger(logger, traced);
    tracedLog.debug({ method: "Search" }, "below the level: no child logger, no fields asked for");
    expect(asked).toBe(0);
    tracedLog.error({ method: "Search" }, "internal error");
    tracedLog.warn("a second line");
    callLogger(logger, plain).error({ method: "Search" }, "internal error");
    logger.info("outside a call");
    expect(asked).toBe(1);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", method: "Search", msg: "internal error" });
    expect(lines[1]).toMatchObject({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", msg: "a second line" });
    expect(lines[2]?.trace_id).toBeUndefined();
    expect(lines[3]?.trace_id).toBeUndefined();
  });
});
