/**
 * No call is left unanswered when its status cannot be sent: the message is cut at whole characters,
 * and a status grpc-js would fail to send (or that throws while being sent) becomes a plain INTERNAL,
 * logged, on the unary and the streaming path alike.
 */
import { Metadata, status, type ServerUnaryCall, type ServerWritableStream, type StatusObject } from "@grpc/grpc-js";
import { EventEmitter } from "node:events";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../src/domain/errors.js";
import { unaryCall } from "../../../src/grpc/rpc-calls.js";
import { capDetails, sendableStatus, toGrpcStatus, UNSENDABLE_STATUS_DETAILS } from "../../../src/grpc/status-mapping.js";
import { writeStream, type MessageStream } from "../../../src/grpc/stream-writer.js";

const logged: { msg: string }[] = [];
const logger = pino({ level: "debug" }, { write: (line: string) => logged.push(JSON.parse(line) as { msg: string }) });
const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe("capDetails", () => {
  it("cuts at a whole character, whatever the parity of the text before the emoji", () => {
    for (const prefix of ["", "a", "ab"]) {
      const cut = capDetails(prefix + "😀".repeat(300));
      expect(cut, prefix).not.toMatch(LONE);
      expect(() => encodeURI(cut)).not.toThrow();
      expect(cut.endsWith("…")).toBe(true);
      expect(cut.length).toBeLessThanOrEqual(513);
    }
  });

  it("replaces lone surrogates in short messages", () => {
    expect(capDetails("x\ud83dy")).toBe("x\ufffdy");
    expect(capDetails("😀")).toBe("😀");
  });

  it("keeps every InvalidArgumentError status sendable", () => {
    const mapped = toGrpcStatus(new InvalidArgumentError({ field: `fields.a${"😀".repeat(300)}`, description: "unknown" }), logger, "T");
    expect(mapped.code).toBe(status.INVALID_ARGUMENT);
    expect(() => encodeURI(mapped.details)).not.toThrow();
  });
});

describe("sendableStatus", () => {
  it("turns a status grpc-js cannot encode into a plain, logged INTERNAL", () => {
    logged.length = 0;
    const sent = sendableStatus({ code: status.NOT_FOUND, details: "bad \ud83d", metadata: new Metadata() }, logger, "Upsert");
    expect(sent.code).toBe(status.INTERNAL);
    expect(sent.details).toBe(UNSENDABLE_STATUS_DETAILS);
    expect(sent.details).toMatch(/^[\x20-\x7e]+$/);
    expect(logged.some((l) => l.msg.includes("could not be encoded"))).toBe(true);
  });
});

/** A server call whose first status (unary callback, or stream 'error') throws as grpc-js did. */
function fakeCall(): EventEmitter & { cancelled: boolean; request: object; getDeadline(): number } {
  return Object.assign(new EventEmitter(), { cancelled: false, request: {}, getDeadline: () => Number.POSITIVE_INFINITY });
}

describe("a status that throws while being sent", () => {
  it("is followed by a plain INTERNAL on the unary path", async () => {
    logged.length = 0;
    const answers: (Partial<StatusObject> | null)[] = [];
    const answered = new Promise<void>((resolve) => {
      const handler = unaryCall<object, object>("Upsert", logger, () => Promise.reject(new InvalidArgumentError({ field: "x", description: "bad" })));
      handler(fakeCall() as unknown as ServerUnaryCall<object, object>, (error) => {
        answers.push(error);
        if (answers.length === 1) throw new URIError("URI malformed");
        resolve();
      });
    });
    await answered;
    expect(answers.map((a) => a?.code)).toEqual([status.INVALID_ARGUMENT, status.INTERNAL]);
    expect(answers[1]?.details).toBe(UNSENDABLE_STATUS_DETAILS);
    expect(logged.some((l) => l.msg.includes("failed; answering INTERNAL"))).toBe(true);
  });

  it("is followed by a plain INTERNAL on the streaming path", async () => {
    logged.length = 0;
    const call = fakeCall();
    const statuses: { code: number; details: string }[] = [];
    call.on("error", (error: { code: number; details: string }) => {
      statuses.push(error);
      if (statuses.length === 1) throw new URIError("URI malformed");
    });
    // eslint-disable-next-line require-yield, @typescript-eslint/require-await -- fails before its first message
    const source = (async function* (): MessageStream<object> {
      throw new InvalidArgumentError({ field: "omit_fields[0]", description: "bad" });
    })();
    await writeStream(call as unknown as ServerWritableStream<unknown, object>, source, {
      signal: new AbortController().signal,
      logger,
      method: "Search",
    });
    expect(statuses.map((s) => s.code)).toEqual([status.INVALID_ARGUMENT, status.INTERNAL]);
    expect(statuses[1]?.details).toBe(UNSENDABLE_STATUS_DETAILS);
    expect(logged.some((l) => l.msg.includes("failed; answering INTERNAL"))).toBe(true);
  });
});
