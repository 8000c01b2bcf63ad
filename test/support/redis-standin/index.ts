/**
 * A small in-memory Redis + Query Engine stand-in for tests: a RESP2/RESP3 server on 127.0.0.1 that
 * node-redis 6 talks to over a real socket. It implements the subset vecrec's Redis backend uses, with
 * the reply shapes and error texts recorded from Redis 8.0.2 (see shared/conformance/). No persistence.
 */
import net from "node:net";
import { type Connection, StandInState, execute } from "./commands.js";
import { StandInFaults, type RestartOptions } from "./faults.js";
import { RequestParser } from "./request-parser.js";
import { encodeReply } from "./resp.js";

export type { RestartOptions } from "./faults.js";

export interface RedisStandIn {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Every command received, in order, arguments decoded as UTF-8 (binary arguments are mangled). */
  readonly commandLog: string[][];
  /** Closes every connection and the listening socket. */
  close(): Promise<void>;
  /** Stops answering, connections left open (like SIGSTOP); faults.ts. */
  freeze(): void;
  /** Answers again, running what was sent meanwhile in order (like SIGCONT). */
  thaw(): void;
  /** Drops every connection, like a restart: empty and/or answering LOADING for a while (faults.ts). */
  restart(options?: RestartOptions): void;
}

export interface RedisStandInOptions {
  /** 0 (default): any free port. */
  readonly port?: number;
  /**
   * Called with every command (decoded as UTF-8) just before it runs; the commands it returns run
   * first, as if another client had sent them. Lets a test put a write at an exact point of a
   * client's sequence (e.g. between its WATCH and its EXEC).
   */
  readonly beforeCommand?: (argv: readonly string[]) => readonly (readonly string[])[] | undefined;
  /**
   * Background indexing like Redis: FT.CREATE and FT.ALTER over existing keys return at once and a
   * scan indexes this many of those keys before each later command (any connection), FT.INFO showing
   * `indexing` 1 and the progress meanwhile. Unset (default): existing keys are indexed at once.
   */
  readonly scanKeysPerCommand?: number;
  /** Starts with `appendonly yes` (WAITAOF numlocal 1 then succeeds); default off, as Redis. Ignored with `state`. */
  readonly appendOnly?: boolean;
  /** Commands refused with NOPERM, as by an ACL (StandInState.deniedCommands). Ignored with `state`. */
  readonly deniedCommands?: readonly string[];
  /**
   * The keyspace and indexes to serve (a cluster node passes its own, kept across a restart). Unset:
   * a fresh one. `scanKeysPerCommand` is then ignored (the state carries its own).
   */
  readonly state?: StandInState;
}

/**
 * Starts a stand-in listening on 127.0.0.1 (`port` 0 by default: any free port).
 * Resolves once it is listening; rejects when the port cannot be bound.
 */
export async function startRedisStandIn(options?: RedisStandInOptions): Promise<RedisStandIn> {
  let state = options?.state;
  if (state === undefined) {
    state = new StandInState();
    state.scanKeysPerCommand = options?.scanKeysPerCommand;
    state.appendOnly = options?.appendOnly ?? false;
    state.deniedCommands = new Set(options?.deniedCommands?.map((name) => name.toUpperCase()));
  }
  // The connection injected commands run on.
  const injector: Connection = { proto: 3, id: 0, name: "injected", multi: undefined, watch: undefined, closing: false };
  const commandLog: string[][] = [];
  const sockets = new Set<net.Socket>();
  let nextId = 1;
  const faults = new StandInFaults();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const parser = new RequestParser();
    const conn: Connection = { proto: 2, id: nextId++, name: undefined, multi: undefined, watch: undefined, closing: false };
    socket.on("data", (data: Buffer) => {
      if (faults.hold(() => socket.emit("data", data))) return;
      parser.push(data);
      const out: Buffer[] = [];
      try {
        for (let argv = parser.next(); argv; argv = parser.next()) {
          const decoded = argv.map((a) => a.toString("utf8"));
          commandLog.push(decoded);
          const loading = faults.loadingReply((decoded[0] ?? "").toUpperCase());
          if (loading !== undefined) {
            out.push(encodeReply(loading, conn.proto));
            continue;
          }
          state.advanceScans();
          for (const injected of options?.beforeCommand?.(decoded) ?? []) {
            execute(state, injector, injected.map((a) => Buffer.from(a, "utf8")));
          }
          out.push(encodeReply(execute(state, conn, argv), conn.proto));
          if (conn.closing) break;
        }
      } catch (e) {
        out.push(Buffer.from(`-ERR ${e instanceof Error ? e.message : String(e)}\r\n`));
        conn.closing = true;
      }
      if (out.length > 0) socket.write(Buffer.concat(out));
      if (conn.closing) socket.end();
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      sockets.delete(socket);
      state.unwatch(conn);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options?.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("stand-in: no TCP address");
  const port = address.port;

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    commandLog,
    freeze: () => faults.freeze(),
    thaw: () => faults.thaw(),
    restart: (restart) => {
      faults.dropHeld();
      faults.thaw();
      for (const s of sockets) s.destroy();
      if (restart?.empty === true) state.flushAll();
      if ((restart?.loadingMs ?? 0) > 0) faults.startLoading(restart?.loadingMs ?? 0);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) s.destroy();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
