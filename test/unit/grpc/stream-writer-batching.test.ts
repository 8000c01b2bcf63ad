/* eslint-disable @typescript-eslint/require-await -- test producers are async generators that yield synchronously */
/**
 * writeStream sends the messages a producer has ready in the same tick together: grpc-js's server
 * stream completes each `_write` only once HTTP/2 has written it, so without help Node hands it one
 * message per turn (one socket write per hit). The fake below behaves like grpc-js's Writable: a
 * `_write` that completes asynchronously; it records which messages arrived in the same tick.
 */
import type { ServerWritableStream } from "@grpc/grpc-js";
import { Metadata } from "@grpc/grpc-js";
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { writeStream, type MessageStream } from "../../../src/grpc/stream-writer.js";

class GrpcLikeStream extends Writable {
  /** Messages handed over per tick. */
  readonly bursts: string[][] = [];
  #current: string[] | undefined;
  trailers: Metadata | undefined;

  constructor() {
    super({ objectMode: true });
  }

  override _write(chunk: string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#current === undefined) {
      this.#current = [];
      this.bursts.push(this.#current);
      setImmediate(() => (this.#current = undefined));
    }
    this.#current.push(chunk);
    setImmediate(callback); // like HTTP/2: done once the bytes are written
  }

  override end(metadata?: unknown): this {
    if (metadata instanceof Metadata) this.trailers = metadata;
    return super.end();
  }
}

async function run(source: MessageStream<string>): Promise<GrpcLikeStream> {
  const call = new GrpcLikeStream();
  const finished = new Promise((resolve) => call.on("finish", resolve));
  await writeStream(call as unknown as ServerWritableStream<unknown, string>, source, {
    signal: new AbortController().signal,
    logger: pino({ level: "silent" }),
    method: "Test",
  });
  await finished;
  return call;
}

describe("writeStream batching", () => {
  it("hands ten messages ready at once to the stream in one tick, in order, then the trailers", async () => {
    const trailers = new Metadata();
    trailers.set("x-total", "10");
    const call = await run(
      (async function* () {
        for (let i = 0; i < 10; i++) yield `hit-${i}`;
        return trailers;
      })(),
    );
    expect(call.bursts).toEqual([Array.from({ length: 10 }, (_, i) => `hit-${i}`)]);
    expect(call.trailers?.get("x-total")).toEqual(["10"]);
  });

  it("still sends messages produced over time as they come, none lost or reordered", async () => {
    const call = await run(
      (async function* () {
        for (let i = 0; i < 6; i++) {
          yield `m-${i}`;
          if (i % 2 === 1) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return undefined;
      })(),
    );
    expect(call.bursts.flat()).toEqual(["m-0", "m-1", "m-2", "m-3", "m-4", "m-5"]);
    expect(call.bursts.length).toBeGreaterThan(1);
    expect(call.bursts.length).toBeLessThanOrEqual(3);
  });

  it("corks the HTTP/2 stream under the call while a batch is handed over, so it leaves in one write", async () => {
    // grpc-js's chain: the handler's call -> intercepting calls (`nextCall`) -> the one holding `stream`.
    const events: string[] = [];
    const http2Stream = { cork: () => events.push("cork"), uncork: () => events.push("uncork") };
    const call = new GrpcLikeStream();
    Object.assign(call, { call: { nextCall: { nextCall: { stream: http2Stream } } } });
    const write = call._write.bind(call);
    call._write = (chunk: string, encoding, callback) => {
      events.push(chunk);
      write(chunk, encoding, callback);
    };
    const finished = new Promise((resolve) => call.on("finish", resolve));
    await writeStream(
      call as unknown as ServerWritableStream<unknown, string>,
      (async function* () {
        for (let i = 0; i < 3; i++) yield `hit-${i}`;
        return undefined;
      })(),
      { signal: new AbortController().signal, logger: pino({ level: "silent" }), method: "Test" },
    );
    await finished;
    expect(events).toEqual(["cork", "hit-0", "hit-1", "hit-2", "uncork"]);
  });
});
