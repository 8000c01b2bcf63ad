/**
 * The Prometheus scrape endpoint: a plain HTTP listener of its own (`--metrics-listen host:port`), apart
 * from the gRPC port, answering `GET /metrics` in the text exposition format (and `/` with a pointer).
 * With `--workers`, the primary serves it from cluster-metrics.ts, which asks every serving worker for
 * its metrics over the cluster IPC channel and merges them (see metrics.ts for how).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface RunningMetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** `host:port` -> [host without brackets, port]. */
function splitListen(listen: string): [string, number] {
  const colon = listen.lastIndexOf(":");
  return [listen.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), Number(listen.slice(colon + 1))];
}

/** Serves `source` on `listen`. @throws Error (EADDRINUSE...) when the address cannot be bound. */
export async function startMetricsServer(listen: string, source: MetricsSource): Promise<RunningMetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/metrics") {
      source.metrics().then(
        (text) => response.writeHead(200, { "content-type": source.contentType }).end(text),
        (error: unknown) =>
          response.writeHead(500, { "content-type": "text/plain" }).end(`metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`),
      );
    } else {
      response.writeHead(path === "/" ? 200 : 404, { "content-type": "text/plain" }).end("vecrec: Prometheus metrics at /metrics\n");
    }
  });
  // Scrapes are short; an idle keep-alive connection must not hold shutdown.
  server.keepAliveTimeout = 5_000;
  const [host, port] = splitListen(listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
