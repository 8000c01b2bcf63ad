/**
 * The process the Redis floor rows run vecrec in (started by bench/redis-floors.ts through
 * bench/child-process.ts): a real vecrec server (`startServer` of src/main.ts, 127.0.0.1:0) on a Redis
 * store, and next to it the empty grpc-js service and the bare Search service of bench/grpc-floor.ts (the
 * latter with a node-redis client of its own, configured as the bench's direct one). Answers
 * `{type: "cpu"}` with this process's `process.cpuUsage()`, so the bench reads the server's CPU time and
 * not the client's.
 *
 *   node --import tsx bench/server-child.ts <redis url> <key prefix> <"standalone" | "cluster">
 */
import { pino } from "pino";
import { startServer } from "../src/main.js";
import { createRedisStore } from "../src/store/redis/redis-store.js";
import { startBareSearchServer, startEmptyServer } from "./grpc-floor.js";
import { connectDirect } from "./redis-direct.js";
import { SEARCH_K } from "./search-floor.js";

/** Bytes of each message the bare Search service answers (a k=10 hit of the floor data is about that). */
const BARE_HIT_BYTES = 80;

export interface ServerChildReady {
  readonly type: "ready";
  readonly vecrecPort: number;
  readonly emptyPort: number;
  readonly bareSearchPort: number;
}

export interface ServerChildCpu {
  readonly type: "cpu";
  /** µs, as process.cpuUsage() */
  readonly user: number;
  readonly system: number;
}

async function main(): Promise<void> {
  const [url, keyPrefix, topology] = process.argv.slice(2);
  if (url === undefined || keyPrefix === undefined || (topology !== "standalone" && topology !== "cluster") || process.send === undefined) {
    throw new Error("usage: (forked with IPC) server-child.ts <redis url> <key prefix> <standalone|cluster>");
  }
  const send = process.send.bind(process);
  const store = await createRedisStore({ url, keyPrefix });
  const server = await startServer({ store, listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
  const empty = await startEmptyServer();
  const bareRedis = await connectDirect(url, topology === "cluster");
  const bareSearch = await startBareSearchServer((command) => bareRedis.send(command), SEARCH_K, BARE_HIT_BYTES);
  process.on("message", (message: { type?: string }) => {
    if (message.type === "cpu") {
      const { user, system } = process.cpuUsage();
      send({ type: "cpu", user, system } satisfies ServerChildCpu);
    } else if (message.type === "stop") {
      empty.close();
      bareSearch.close();
      void server
        .close({ graceMs: 1000 })
        .then(() => Promise.all([store.close(), bareRedis.close()]))
        .finally(() => process.exit(0));
    }
  });
  send({ type: "ready", vecrecPort: server.port, emptyPort: empty.port, bareSearchPort: bareSearch.port } satisfies ServerChildReady);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
