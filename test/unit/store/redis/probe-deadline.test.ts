import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { withinMs } from "../../../../src/store/redis/connection.js";

class Late extends Error {}

/** Keeps this process busy (no timer, no I/O) for `ms`. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

const never = (): Promise<string> => new Promise<string>(() => undefined);

describe("withinMs (the probe's deadline)", () => {
  it("rejects after the deadline when no answer comes and this process ran all along", async () => {
    const started = performance.now();
    await expect(withinMs(never(), 100, () => new Late())).rejects.toBeInstanceOf(Late);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(95);
    expect(waited).toBeLessThan(1000);
  });

  it("resolves with an answer that comes in time", async () => {
    const answer = new Promise<string>((resolve) => setTimeout(() => resolve("PONG"), 20));
    await expect(withinMs(answer, 500, () => new Late())).resolves.toBe("PONG");
  });

  it("does not count the time this process was stalled: an answer waiting in the socket after a stall longer than the deadline counts", async () => {
    // A loopback connection whose other end answers at once: the answer is in the kernel's buffer while
    // this process stalls, and read only after the stall (timers run before sockets are read).
    let peer: Socket | undefined;
    const server = createServer((socket) => (peer = socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = connect((server.address() as AddressInfo).port, "127.0.0.1");
    try {
      await once(client, "connect");
      while (peer === undefined) await new Promise((resolve) => setImmediate(resolve));
      const answer = once(client, "data").then(([data]) => String(data));
      const probe = withinMs(answer, 100, () => new Late());
      peer.write("PONG");
      stall(250);
      await expect(probe).resolves.toBe("PONG");
    } finally {
      client.destroy();
      peer?.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("still rejects after a stall when the answer never comes (one more deadline, not more)", async () => {
    const started = performance.now();
    const probe = withinMs(never(), 100, () => new Late());
    stall(250);
    await expect(probe).rejects.toBeInstanceOf(Late);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(340); // the stall, then one deadline more
    expect(waited).toBeLessThan(2000);
  });
});
