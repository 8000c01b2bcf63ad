/* eslint-disable @typescript-eslint/require-await -- test producers are async generators that yield synchronously */
/**
 * Pages of a server stream (src/grpc/message-page.ts): the framing hook on grpc-js's server call, the
 * framing itself (none under a send limit), and how writeStream sends a page chunk by chunk, making messages
 * only as it goes.
 */
import { credentials, makeGenericClientConstructor, Metadata, Server, ServerCredentials, type ServerWritableStream } from "@grpc/grpc-js";
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { frame, FramedMessages, MessagePage, messageCount, PAGE_CHUNK, pageFraming } from "../../../src/grpc/message-page.js";
import { writeStream } from "../../../src/grpc/stream-writer.js";

/** The shape of grpc-js's BaseServerInterceptingCall that pageFraming relies on. */
class BaseCall {
  readonly stream = {};
  readonly handler: { serialize: (value: unknown) => Buffer } = { serialize: (value: unknown) => Buffer.from(String(value)) };
  constructor(readonly maxSendMessageSize = -1) {}
  serializeMessage(value: unknown): Buffer {
    const body = this.handler.serialize(value);
    const out = Buffer.alloc(body.length + 5);
    out.writeUInt32BE(body.length, 1);
    body.copy(out, 5);
    return out;
  }
}

/** Splits framed bytes back into message bodies (as text). */
function unframe(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at + 1);
    out.push(bytes.subarray(at + 5, at + 5 + length).toString());
    at += 5 + length;
  }
  return out;
}

/** A grpc-js-like server stream recording what reaches `_write`, over a chain ending in `base`. */
class RecordingCall extends Writable {
  readonly written: unknown[] = [];
  constructor(base: BaseCall | undefined) {
    super({ objectMode: true, highWaterMark: 2 });
    if (base !== undefined) Object.assign(this, { call: { nextCall: { nextCall: base } } });
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.written.push(chunk);
    setImmediate(callback);
  }
  override end(metadata?: unknown): this {
    void metadata;
    return super.end();
  }
}

async function send(call: RecordingCall, page: MessagePage<string>, signal = new AbortController().signal): Promise<void> {
  const finished = new Promise((resolve) => call.on("finish", resolve));
  await writeStream(
    call as unknown as ServerWritableStream<unknown, string>,
    (async function* () {
      yield page;
      return new Metadata();
    })(),
    { signal, logger: pino({ level: "silent" }), method: "Test" },
  );
  if (!signal.aborted) await finished;
}

describe("pageFraming", () => {
  it("makes the calls' serializeMessage pass framed pages through, anything else framed as before", () => {
    const base = new BaseCall();
    const call = { call: { nextCall: base } };
    const framing = pageFraming(call);
    expect(framing).toBeDefined();
    const serializer = () => Object.getOwnPropertyDescriptor(BaseCall.prototype, "serializeMessage")?.value as unknown;
    const wrapped = serializer();
    pageFraming({ call: new BaseCall() });
    expect(serializer()).toBe(wrapped); // wrapped once
    const framed = framing!(["a", "bb", "ccc"], undefined);
    expect(framed).toBeInstanceOf(FramedMessages);
    expect(framed.count).toBe(3);
    expect(base.serializeMessage(framed)).toBe(framed.bytes);
    expect(unframe(framed.bytes)).toEqual(["a", "bb", "ccc"]);
    // Anything else is still serialized and framed by grpc-js's own code.
    expect(unframe(base.serializeMessage("plain"))).toEqual(["plain"]);
    // On the prototype, not the call: the calls keep one hidden class.
    expect(Object.hasOwn(base, "serializeMessage")).toBe(false);
    expect(new BaseCall().serializeMessage(framed)).toBe(framed.bytes);
  });

  it("uses the page's own frame encoder when it has one", () => {
    const framing = pageFraming({ call: new BaseCall() })!;
    const encode = (messages: readonly string[]) => Buffer.from(`custom:${messages.join("|")}`);
    const framed = framing(["x", "y"], encode);
    expect(framed.bytes.toString()).toBe("custom:x|y");
    expect(framed.count).toBe(2);
  });

  it("does not frame under a send limit: grpc-js checks each message against it, one by one", () => {
    expect(pageFraming({ call: new BaseCall(4 * 1024 * 1024) })).toBeUndefined();
  });

  it("finds nothing to hook on a call of another shape: pages then go message by message", () => {
    expect(pageFraming({})).toBeUndefined();
    expect(pageFraming({ call: { nextCall: { stream: {} } } })).toBeUndefined();
  });
});

describe("frame", () => {
  it("serializes every message and frames them, in order, in one buffer", () => {
    const messages = ["aaaa", "", "é", "dddd"];
    const bytes = frame(messages, (value) => Buffer.from(String(value)));
    expect(unframe(bytes)).toEqual(messages);
    expect(bytes.length).toBe(4 * 5 + 4 + 0 + 2 + 4);
  });
});

describe("writeStream and pages", () => {
  it("writes a page PAGE_CHUNK messages per framed write, every message once, in order", async () => {
    const count = 2 * PAGE_CHUNK + 7;
    const call = new RecordingCall(new BaseCall());
    await send(call, MessagePage.of(Array.from({ length: count }, (_, i) => i), (i) => `m${i}`));
    expect(call.written).toHaveLength(3);
    expect(call.written.map(messageCount)).toEqual([PAGE_CHUNK, PAGE_CHUNK, 7]);
    const all = call.written.flatMap((c) => unframe((c as FramedMessages).bytes));
    expect(all).toEqual(Array.from({ length: count }, (_, i) => `m${i}`));
  });

  it("writes message by message where the call cannot be hooked", async () => {
    const call = new RecordingCall(undefined);
    await send(call, MessagePage.of(["a", "b", "c"], (s) => s.toUpperCase()));
    expect(call.written).toEqual(["A", "B", "C"]);
  });

  it("stops making messages once the call is abandoned between chunks", async () => {
    const made: number[] = [];
    const controller = new AbortController();
    const call = new RecordingCall(new BaseCall());
    const page = MessagePage.of(Array.from({ length: 10 * PAGE_CHUNK }, (_, i) => i), (i) => {
      made.push(i);
      if (i === PAGE_CHUNK) controller.abort(); // while the second chunk is made
      return `m${i}`;
    });
    await send(call, page, controller.signal);
    expect(made.length).toBe(2 * PAGE_CHUNK);
    expect(call.written.length).toBeLessThanOrEqual(2);
  });
});

describe("writeStream and pages: bounds and failures", () => {
  /** A call whose writes complete only when the test says so (a client that does not read). */
  class HeldCall extends RecordingCall {
    readonly held: (() => void)[] = [];
    override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
      this.written.push(chunk);
      this.held.push(() => callback());
    }
  }
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it("makes the next chunk only once HTTP/2 took the one before: a client that does not read holds back the work", async () => {
    const made: number[] = [];
    const controller = new AbortController();
    const call = new HeldCall(new BaseCall());
    const page = MessagePage.of(Array.from({ length: 1000 }, (_, i) => i), (i) => {
      made.push(i);
      return `m${i}`;
    });
    const sent = send(call, page, controller.signal);
    await turns(20);
    expect(made).toHaveLength(PAGE_CHUNK); // the first chunk, waiting in "HTTP/2"
    call.held.shift()!();
    await turns(20);
    expect(made).toHaveLength(2 * PAGE_CHUNK);
    controller.abort();
    await sent;
    expect(made).toHaveLength(2 * PAGE_CHUNK);
  });

  it("scales the chunks of a page of large messages to about 64 KiB after the first", async () => {
    const base = new BaseCall();
    base.handler.serialize = (value: unknown) => Buffer.alloc(10_000, String(value).length); // 10 KB a message
    const call = new RecordingCall(base);
    await send(call, MessagePage.of(Array.from({ length: 200 }, (_, i) => i), (i) => `m${i}`));
    const counts = call.written.map(messageCount);
    expect(counts[0]).toBe(PAGE_CHUNK);
    expect(counts.slice(1, -1).every((n) => n === 6)).toBe(true); // floor(128 * 65536 / (128 * 10005))
    expect(counts.reduce((a, b) => a + b, 0)).toBe(200);
  });

  it("closes the source (its finally runs) when a page's message cannot be made, and ends the call with an error status", async () => {
    let closed = false;
    const call = new RecordingCall(new BaseCall());
    const errors: unknown[] = [];
    call.on("error", (error) => errors.push(error));
    await writeStream(
      call as unknown as ServerWritableStream<unknown, string>,
      (async function* () {
        try {
          yield MessagePage.of([0, 1, 2, 3], (i) => {
            if (i === 2) throw new Error("cannot make this one");
            return `m${i}`;
          });
          return undefined;
        } finally {
          closed = true;
        }
      })(),
      { signal: new AbortController().signal, logger: pino({ level: "silent" }), method: "Test" },
    );
    await turns(2);
    expect(closed).toBe(true);
    expect(errors).toHaveLength(1);
    expect((errors[0] as { code?: number }).code).toBe(13); // INTERNAL: never UNKNOWN
  });
});

describe("pages on a real grpc-js server", () => {
  it("are hooked and framed (this grpc-js has the call shape relied on) and arrive as separate messages", async () => {
    const service = {
      list: {
        path: "/test.Pages/List",
        requestStream: false,
        responseStream: true,
        requestSerialize: (value: string) => Buffer.from(value),
        requestDeserialize: (bytes: Buffer) => bytes.toString(),
        responseSerialize: (value: string) => Buffer.from(value),
        responseDeserialize: (bytes: Buffer) => bytes.toString(),
      },
    };
    let framed: boolean | undefined;
    const server = new Server();
    server.addService(service, {
      list: (call: ServerWritableStream<string, string>) => {
        framed = pageFraming(call) !== undefined;
        const page = MessagePage.of(Array.from({ length: 300 }, (_, i) => i), (i) => `${call.request}-${i}`);
        void writeStream(
          call,
          (async function* () {
            yield page;
            return undefined;
          })(),
          { signal: new AbortController().signal, logger: pino({ level: "silent" }), method: "List" },
        );
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    const Client = makeGenericClientConstructor(service, "Pages");
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as {
      list(request: string): NodeJS.ReadableStream;
      close(): void;
    };
    try {
      const received: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const stream = client.list("p");
        stream.on("data", (message: string) => received.push(message));
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      expect(framed).toBe(true);
      expect(received).toEqual(Array.from({ length: 300 }, (_, i) => `p-${i}`));
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
