/**
 * The process the Redis floor rows run vecrec in (started by bench/redis-floors.ts through
 * bench/child-process.ts): a real vecrec server (`startServer` of src/main.ts, 127.0.0.1:0) on a Redis
 * store, and next to it the empty grpc-js service of bench/grpc-floor.ts. Answers `{type: "cpu"}` with
 * this process's `process.cpuUsage()`, so the bench reads the server's CPU time and not the client's.
 *
 *   node --import tsx bench/server-child.ts <redis url> <key prefix>
 */
import { pino } from "pino";
import { startServer } from "../src/main.js";
import { createRedisStore } from "../src/store/redis/redis-store.js";
import { startEmptyServer } from "./grpc-floor.js";

export interface ServerChildReady {
  readonly type: "ready";
  readonly vecrecPort: number;
  readonly emptyPort: number;
}

export interface ServerChildCpu {
  readonly type: "cpu";
  /** µs, as process.cpuUsage() */
  readonly user: number;
  readonly system: number;
}

async function main(): Promise<void> {
  const [url, keyPrefix] = process.argv.slice(2);
  if (url === undefined || keyPrefix === undefined || process.send === undefined) {
    throw new Error("usage: (forked with IPC) server-child.ts <redis url> <key prefix>");
  }
  const send = process.send.bind(process);
  const store = await createRedisStore({ url, keyPrefix });
  const server = await startServer({ store, listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
  const empty = await startEmptyServer();
  process.on("message", (message: { type?: string }) => {
    if (message.type === "cpu") {
      const { user, system } = process.cpuUsage();
      send({ type: "cpu", user, system } satisfies ServerChildCpu);
    } else if (message.type === "stop") {
      empty.close();
      void server
        .close({ graceMs: 1000 })
        .then(() => store.close())
        .finally(() => process.exit(0));
    }
  });
  send({ type: "ready", vecrecPort: server.port, emptyPort: empty.port } satisfies ServerChildReady);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
