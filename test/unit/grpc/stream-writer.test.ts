/* eslint-disable @typescript-eslint/require-await -- test producers are async generators that may yield synchronously */
import {
  Client,
  Metadata,
  Server,
  ServerCredentials,
  credentials,
  status,
  type ClientReadableStream,
  type ServerWritableStream,
  type ServiceError,
} from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError, UnavailableError } from "../../../src/domain/errors.js";
import { BadRequest } from "../../../src/gen/google/rpc/error_details.js";
import { Status } from "../../../src/gen/google/rpc/status.js";
import { createCallSignal } from "../../../src/grpc/call-signal.js";
import { STATUS_DETAILS_TRAILER } from "../../../src/grpc/status-mapping.js";
import { writeStream, type MessageStream } from "../../../src/grpc/stream-writer.js";

// A test service whose messages are raw bytes: the request names the scenario, each producer below
// reports what it did through `probe`.
const identity = (b: Buffer): Buffer => b;
const definition = {
  stream: {
    path: "/test.StreamTest/Stream",
    requestStream: false,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} as const;

interface Probe {
  produced: number;
  closed: Promise<{ abortReason: unknown }>;
}

const logger = pino({ level: "silent" });
const probes = new Map<string, Probe>();

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Registers a probe for `scenario` and returns a producer that updates it. */
function instrumented(
  scenario: string,
  body: (probe: Probe, signal: AbortSignal) => AsyncGenerator<Buffer, Metadata | undefined, undefined>,
  signal: AbortSignal,
): MessageStream<Buffer> {
  const closed = deferred<{ abortReason: unknown }>();
  const probe: Probe = { produced: 0, closed: closed.promise };
  probes.set(scenario, probe);
  return (async function* () {
    try {
      return yield* body(probe, signal);
    } finally {
      closed.resolve({ abortReason: signal.reason });
    }
  })();
}

const PAYLOAD_BYTES = 8 * 1024;
const SLOW_READER_MESSAGES = 1500;

const scenarios: Record<string, (probe: Probe, signal: AbortSignal) => AsyncGenerator<Buffer, Metadata | undefined, undefined>> = {
  async *basic(probe) {
    for (let i = 0; i < 5; i++) {
      probe.produced++;
      yield Buffer.from(`m${i}`);
    }
    const trailers = new Metadata();
    trailers.set("x-done", "yes");
    return trailers;
  },
  async *unavailable(probe) {
    for (let i = 0; i < 3; i++) {
      probe.produced++;
      yield Buffer.from(`m${i}`);
    }
    throw new UnavailableError("redis went away");
  },
  async *invalid(probe) {
    probe.produced++;
    yield Buffer.from("m0");
    throw new InvalidArgumentError({ field: "k", description: "too big" });
  },
  async *bug(probe) {
    probe.produced++;
    yield Buffer.from("m0");
    throw new TypeError("secret internal detail");
  },
  async *endless(probe) {
    for (let i = 0; ; i++) {
      probe.produced++;
      yield Buffer.from(`m${i}`);
      await new Promise((r) => setImmediate(r));
    }
  },
  async *hang(probe, signal) {
    probe.produced++;
    yield Buffer.from("m0");
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    return undefined;
  },
  async *big(probe) {
    for (let i = 0; i < SLOW_READER_MESSAGES; i++) {
      probe.produced++;
      const payload = Buffer.alloc(PAYLOAD_BYTES, i % 251);
      payload.writeUInt32BE(i, 0);
      yield payload;
    }
    return undefined;
  },
};

let server: Server;
let client: Client;

beforeAll(async () => {
  server = new Server();
  server.addService(definition, {
    stream: (call: ServerWritableStream<Buffer, Buffer>) => {
      const scenario = call.request.toString();
      const body = scenarios[scenario];
      if (!body) throw new Error(`unknown scenario ${scenario}`);
      const callSignal = createCallSignal(call);
      void writeStream(call, instrumented(scenario, body, callSignal.signal), {
        signal: callSignal.signal,
        logger,
        method: scenario,
      }).finally(() => callSignal.dispose());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
});

afterAll(() => {
  client.close();
  server.forceShutdown();
});

function open(scenario: string, deadline?: Date): ClientReadableStream<Buffer> {
  return client.makeServerStreamRequest(
    definition.stream.path,
    identity,
    identity,
    Buffer.from(scenario),
    new Metadata(),
    deadline ? { deadline } : {},
  );
}

/** Reads a whole stream: messages, then the final status (or the error). */
function collect(call: ClientReadableStream<Buffer>): Promise<{ messages: Buffer[]; error?: ServiceError; trailers?: Metadata }> {
  return new Promise((resolve) => {
    const messages: Buffer[] = [];
    let trailers: Metadata | undefined;
    call.on("data", (m: Buffer) => messages.push(m));
    call.on("status", (s: { metadata: Metadata }) => (trailers = s.metadata));
    call.on("error", (error: ServiceError) => resolve({ messages, error }));
    call.on("end", () => resolve({ messages, trailers }));
  });
}

describe("writeStream", () => {
  it("writes every message and ends with OK and the producer's trailers", async () => {
    const { messages, error, trailers } = await collect(open("basic"));
    expect(error).toBeUndefined();
    expect(messages.map((m) => m.toString())).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(trailers?.get("x-done")).toEqual(["yes"]);
  });

  it("ends with the mapped status when the producer fails mid-stream", async () => {
    const { messages, error } = await collect(open("unavailable"));
    expect(messages.map((m) => m.toString())).toEqual(["m0", "m1", "m2"]);
    expect(error?.code).toBe(status.UNAVAILABLE);
    expect(error?.details).toBe("redis went away");
  });

  it("sends BadRequest details for an InvalidArgumentError mid-stream", async () => {
    const { messages, error } = await collect(open("invalid"));
    expect(messages).toHaveLength(1);
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    const [details] = error?.metadata.get(STATUS_DETAILS_TRAILER) ?? [];
    expect(Buffer.isBuffer(details)).toBe(true);
    const rpcStatus = Status.decode(details as Buffer);
    expect(rpcStatus.code).toBe(status.INVALID_ARGUMENT);
    expect(rpcStatus.details[0]?.typeUrl).toBe("type.googleapis.com/google.rpc.BadRequest");
    const badRequest = BadRequest.decode(rpcStatus.details[0]?.value ?? new Uint8Array());
    expect(badRequest.fieldViolations).toEqual([{ field: "k", description: "too big" }]);
  });

  it("answers INTERNAL with a generic message for an unexpected error", async () => {
    const { error } = await collect(open("bug"));
    expect(error?.code).toBe(status.INTERNAL);
    expect(error?.details).toBe("internal error");
    expect(error?.details).not.toContain("secret");
  });

  it("stops the producer when the client cancels", async () => {
    const call = open("endless");
    const cancelled = new Promise<ServiceError>((resolve) => {
      let seen = 0;
      call.on("data", () => {
        seen++;
        if (seen === 3) call.cancel();
      });
      call.on("error", resolve);
    });
    expect((await cancelled).code).toBe(status.CANCELLED);
    const probe = probes.get("endless");
    const { abortReason } = await (probe as Probe).closed;
    expect((abortReason as Error).name).toBe("CancelledError");
    const producedAtClose = (probe as Probe).produced;
    // Nothing is produced once closed: the generator has finished.
    await new Promise((r) => setImmediate(r));
    expect((probe as Probe).produced).toBe(producedAtClose);
  });

  it("stops the producer when the deadline passes", async () => {
    const { messages, error } = await collect(open("hang", new Date(Date.now() + 300)));
    expect(messages.map((m) => m.toString())).toEqual(["m0"]);
    expect(error?.code).toBe(status.DEADLINE_EXCEEDED);
    const { abortReason } = await (probes.get("hang") as Probe).closed;
    expect(["DeadlineExceededError", "CancelledError"]).toContain((abortReason as Error).name);
  });

  it("keeps the producer close to a slow reader (backpressure) and delivers everything in order", async () => {
    const call = open("big");
    let received = 0;
    let maxAhead = 0;
    let inOrder = true;
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (m: Buffer) => {
        if (m.readUInt32BE(0) !== received) inOrder = false;
        received++;
        const ahead = (probes.get("big")?.produced ?? 0) - received;
        maxAhead = Math.max(maxAhead, ahead);
        // A slow reader: stop reading, resume on a later turn of the event loop.
        call.pause();
        setImmediate(() => call.resume());
      });
      call.on("end", resolve);
      call.on("error", reject);
    });
    await done;
    expect(received).toBe(SLOW_READER_MESSAGES);
    expect(inOrder).toBe(true);
    // Without backpressure the producer would run through all 1500 messages (12 MB) before the
    // reader has taken a handful; with it, it stays within flow-control windows and buffers.
    console.log(`slow reader: producer at most ${maxAhead} messages ahead`);
    expect(maxAhead).toBeLessThan(SLOW_READER_MESSAGES / 2);
  });
});
