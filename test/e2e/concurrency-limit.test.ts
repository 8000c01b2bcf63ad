/**
 * --max-concurrent-calls: with the cap reached, a further call is answered RESOURCE_EXHAUSTED at
 * once (no queue), health still answers, and the slots come back when calls end or are cancelled.
 */
import { credentials, Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VectorServiceClient } from "../../src/gen/vecrec/v1/vecrec.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { healthChecker } from "./health-client.js";

const logger = pino({ level: process.env.VECREC_TEST_LOG_LEVEL ?? "silent" });

describe("--max-concurrent-calls", () => {
  const store = createEmbeddedStore();
  /** ListIndexes calls wait here until released. */
  const gates: (() => void)[] = [];
  const held: VectorStore = new Proxy(store, {
    get(target, property, receiver) {
      if (property === "listIndexes") {
        return () => new Promise<void>((resolve) => gates.push(resolve)).then(() => target.listIndexes());
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  let server: RunningServer;
  let client: VectorServiceClient;

  beforeAll(async () => {
    server = await startServer({ store: held, listen: "127.0.0.1:0", logger, security: { maxConcurrentCalls: 2 } });
    client = new VectorServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await server?.close({ graceMs: 1_000 });
    await store.close();
  });

  const listIndexes = (deadlineMs = 5_000): { done: Promise<number>; cancel: () => void } => {
    let cancel = (): void => undefined;
    const done = new Promise<number>((resolve) => {
      const call = client.listIndexes({}, new Metadata(), { deadline: Date.now() + deadlineMs }, (error: ServiceError | null) =>
        resolve(error?.code ?? GrpcStatus.OK),
      );
      cancel = () => call.cancel();
    });
    return { done, cancel: () => cancel() };
  };

  const waitForGates = async (count: number): Promise<void> => {
    while (gates.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  it("answers the call over the cap RESOURCE_EXHAUSTED at once, keeps health open, and frees the slots", async () => {
    const first = listIndexes();
    const second = listIndexes();
    await waitForGates(2);

    let message = "";
    const refused = await new Promise<number>((resolve) => {
      client.getIndex({ indexName: "x" }, (error: ServiceError | null) => {
        message = error?.details ?? "";
        resolve(error?.code ?? GrpcStatus.OK);
      });
    });
    expect(refused).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(message).toMatch(/maximum of 2 concurrent calls \(--max-concurrent-calls\)/);
    const health = healthChecker(`127.0.0.1:${server.port}`);
    expect(await health.check("")).toBe("SERVING");
    health.close();

    for (const release of gates.splice(0)) release();
    expect(await first.done).toBe(GrpcStatus.OK);
    expect(await second.done).toBe(GrpcStatus.OK);

    // A cancelled call gives its slot back too.
    const cancelled = listIndexes();
    await waitForGates(1);
    cancelled.cancel();
    expect(await cancelled.done).toBe(GrpcStatus.CANCELLED);
    const third = listIndexes();
    const fourth = listIndexes();
    await waitForGates(3);
    for (const release of gates.splice(0)) release();
    expect([await third.done, await fourth.done]).toEqual([GrpcStatus.OK, GrpcStatus.OK]);
  });
});
