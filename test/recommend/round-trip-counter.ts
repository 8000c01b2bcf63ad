/**
 * A TCP proxy that counts round trips between a client and a server: a round trip is a burst of bytes
 * the client sends before it receives anything back. It is counted when client data arrives first on a
 * connection or after server data. Pipelined commands written together count once; a client that waits
 * for a reply before sending the next command counts once per command.
 */
import net from "node:net";

export interface RoundTripCounter {
  /** `redis://127.0.0.1:<port>` of the proxy. */
  readonly url: string;
  /** Round trips since the start or the last reset(). */
  roundTrips(): number;
  reset(): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (port 0) in front of `127.0.0.1:targetPort`. */
export async function startRoundTripCounter(targetPort: number): Promise<RoundTripCounter> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let lastFromClient = false;
    client.on("data", (data: Buffer) => {
      if (!lastFromClient) count++;
      lastFromClient = true;
      upstream.write(data);
    });
    upstream.on("data", (data: Buffer) => {
      lastFromClient = false;
      client.write(data);
    });
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", closeBoth);
    upstream.on("close", closeBoth);
    client.on("error", closeBoth);
    upstream.on("error", closeBoth);
    client.on("close", () => sockets.delete(client));
    upstream.on("close", () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no TCP address");
  return {
    url: `redis://127.0.0.1:${address.port}`,
    roundTrips: () => count,
    reset: () => {
      count = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
