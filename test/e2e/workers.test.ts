/**
 * `--workers 2` on the Redis backend (the stand-in): the process started is the primary, two worker
 * processes serve its one port, and together they behave as one server. Which worker took a connection
 * is read from the workers' debug log (`connection accepted`, with the worker's pid).
 */
import { credentials, makeGenericClientConstructor, Metadata, status, type Client, type ServiceError } from "@grpc/grpc-js";
import { service as healthServiceDefinition } from "grpc-health-check";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IndexRequest, SearchRequest, VectorServiceClient, type SearchResponse } from "../../src/gen/vecrec/v1/vecrec.js";
import { startRedisStandIn, type RedisStandIn } from "../support/redis-standin/index.js";
import { collect, failure, unary, vectorBytes } from "./harness.js";
import { sample } from "../support/prometheus-text.js";
import { serverNodeFlags } from "../../bench/child-process.js";

/** Node's flags of `npm start` (package.json), which the workers must inherit from the primary. */
const NODE_FLAGS = serverNodeFlags();

type LogEntry = Record<string, unknown> & { msg?: string; pid?: number };
type HealthClient = Client & {
  check(req: { service: string }, cb: (e: ServiceError | null, r: { status: string | number }) => void): void;
};
const Health = makeGenericClientConstructor(healthServiceDefinition, "Health");

/** Each client on its own connection (grpc-js otherwise shares one per target across clients). */
const OWN_CONNECTION = { "grpc.use_local_subchannel_pool": 1 };

/** The vecrec process, run the way `npm start` runs it (its node flags, through tsx, without a build), and its log. */
class VecrecProcess {
  readonly child: ChildProcess;
  readonly logs: LogEntry[] = [];
  stderr = "";
  /** stdout and stderr are closed: the process and every worker sharing them are gone. */
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [...NODE_FLAGS, "--import", "tsx", "src/main.ts", ...args], {
      // In memory: a test never leaves a ./vecrec-data behind.
      env: { ...process.env, VECREC_LISTEN: "", VECREC_REDIS_URL: "", VECREC_LOG_LEVEL: "", VECREC_WORKERS: "", VECREC_DATA_DIR: "", VECREC_IN_MEMORY: "true", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    if (!this.child.stdout) throw new Error("no stdout");
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogEntry);
      } catch {
        this.logs.push({ msg: line });
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.child.on("close", () => {
      this.closed = true;
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** The first log entry matching `predicate`, waiting up to `timeoutMs` for it. */
  waitFor(predicate: (entry: LogEntry) => boolean, timeoutMs = 30_000): Promise<LogEntry> {
    return this.until(() => this.logs.find(predicate), timeoutMs);
  }

  /** The log entries matching `predicate` once there are at least `count` (lines come through a pipe, after the calls). */
  waitForCount(predicate: (entry: LogEntry) => boolean, count: number, timeoutMs = 30_000): Promise<LogEntry[]> {
    return this.until(() => {
      const found = this.logs.filter(predicate);
      return found.length >= count ? found : undefined;
    }, timeoutMs);
  }

  private async until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        throw new Error(`log line not seen (exit ${this.child.exitCode}); log:\n${JSON.stringify(this.logs)}\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The exit code, once the process exited and its output (its workers' too) has been read. */
  async exitCode(): Promise<number | null> {
    if (!this.closed) await once(this.child, "close");
    return this.child.exitCode;
  }
}

/** The pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return Number(readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Sends SIGTERM; resolves with the exit code once the process and its workers are gone. */
function terminate(vecrec: VecrecProcess): Promise<number | null> {
  const exited = vecrec.exitCode();
  vecrec.child.kill("SIGTERM");
  return exited;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until no pid of `pids` is alive; fails after `timeoutMs`. */
async function allGone(pids: readonly number[], timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`still alive: ${pids.filter(alive).join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function searchOnce(client: VectorServiceClient): Promise<{ messages: SearchResponse[]; error: unknown }> {
  return collect<SearchResponse>(
    client.search(SearchRequest.fromPartial({ indexName: "w", query: { $case: "vector", value: vectorBytes([1, 0]) }, k: 1 })),
  );
}

/**
 * A TCP proxy in front of Redis that, while `hold` is on, keeps every connection's bytes from its first
 * FT.SEARCH on (in order) until `release()`: a Search stays in flight inside a worker process.
 */
async function searchGate(redisPort: number): Promise<{
  url: string;
  hold(): Promise<void>;
  release(): void;
  close(): Promise<void>;
}> {
  let holding = false;
  let entered: (() => void) | undefined;
  const held = new Map<net.Socket, Buffer[]>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(redisPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    upstream.pipe(client);
    client.on("data", (chunk: Buffer) => {
      const queue = held.get(upstream);
      if (queue) queue.push(chunk);
      else if (holding && chunk.includes("FT.SEARCH")) {
        held.set(upstream, [chunk]);
        entered?.();
      } else upstream.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    hold() {
      holding = true;
      return new Promise<void>((resolve) => (entered = resolve));
    },
    release() {
      holding = false;
      for (const [upstream, chunks] of held) for (const chunk of chunks) upstream.write(chunk);
      held.clear();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("--workers 2 on Redis", () => {
  let redis: RedisStandIn;
  const processes: VecrecProcess[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    redis = await startRedisStandIn();
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    for (const vecrec of processes) {
      const pids = [vecrec.child.pid, ...((vecrec.logs.find((l) => l.address)?.workerPids as number[] | undefined) ?? [])];
      for (const pid of pids) if (pid !== undefined && alive(pid)) process.kill(pid, "SIGKILL");
    }
    await redis?.close();
  });

  async function startWorkers(redisUrl = redis.url, extraArgs: string[] = []): Promise<{ vecrec: VecrecProcess; address: string; workerPids: number[] }> {
    const vecrec = new VecrecProcess(["--listen", "127.0.0.1:0", "--workers", "2", "--log-level", "debug", ...extraArgs], {
      VECREC_REDIS_URL: redisUrl,
    });
    processes.push(vecrec);
    // Three processes load through tsx: on a busy 2-core machine this can take many seconds.
    const listening = await vecrec.waitFor((entry) => typeof entry.address === "string", 45_000);
    expect(listening.workers).toBe(2);
    expect(listening.backend).toBe("redis");
    expect(listening.pid).toBe(vecrec.child.pid);
    const workerPids = listening.workerPids as number[];
    expect(new Set(workerPids).size).toBe(2);
    expect(workerPids).not.toContain(vecrec.child.pid);
    // Each worker runs with the primary's node flags (the young generation's size among them).
    if (existsSync("/proc/self/cmdline")) {
      for (const pid of workerPids) expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).toEqual(expect.arrayContaining(NODE_FLAGS));
    }
    return { vecrec, address: listening.address as string, workerPids };
  }

  function client(address: string): VectorServiceClient {
    const c = new VectorServiceClient(address, credentials.createInsecure(), OWN_CONNECTION);
    clients.push(c);
    return c;
  }

  it(
    "serves every client from two worker processes, reports health the same everywhere, and drains all on SIGTERM",
    async () => {
      const { vecrec, address, workerPids } = await startWorkers();
      const first = client(address);
      await unary((cb) => first.index(IndexRequest.fromPartial({ indexName: "w", defaultVectorDimension: 2 }), cb));
      await unary((cb) => first.upsert({ indexName: "w", items: [{ id: "a", vector: vectorBytes([1, 0]), fields: {} }] }, cb));

      // One connection each, made one after the other: the primary hands them to the workers in turn.
      for (let i = 0; i < 6; i++) {
        const c = client(address);
        const { messages, error } = await searchOnce(c);
        expect(error).toBeUndefined();
        expect(messages.map((m) => m.id)).toEqual(["a"]);
        const health = new Health(address, credentials.createInsecure(), OWN_CONNECTION) as unknown as HealthClient;
        clients.push(health);
        const answer = await new Promise<string | number>((resolve, reject) =>
          health.check({ service: "vecrec.v1.VectorService" }, (e, r) => (e ? reject(e) : resolve(r.status))),
        );
        expect(answer).toBe("SERVING");
      }
      // 13 connections: the first client's, and a search and a health client's for each of the 6 rounds.
      const accepted = await vecrec.waitForCount((entry) => entry.msg === "connection accepted", 13);
      expect(new Set(accepted.map((entry) => entry.pid))).toEqual(new Set(workerPids));

      // An alias moved through one worker takes effect at once in the other (aliases are never cached):
      // after each move, fresh connections (handed to both workers in turn) all resolve the new index.
      await unary((cb) => first.index(IndexRequest.fromPartial({ indexName: "w2", defaultVectorDimension: 2 }), cb));
      await unary((cb) => first.createAlias({ alias: "wl", indexName: "w" }, cb));
      for (const target of ["w2", "w", "w2"]) {
        await unary((cb) => first.updateAlias({ alias: "wl", indexName: target }, cb));
        for (let i = 0; i < 4; i++) {
          const got = await unary<{ index?: { indexName: string } }>((cb) => client(address).getIndex({ indexName: "wl" }, cb));
          expect(got.index?.indexName).toBe(target);
        }
      }

      expect(await terminate(vecrec)).toBe(0);
      // The primary exits once its workers have: none is left behind.
      expect(workerPids.filter(alive)).toEqual([]);
      expect(vecrec.logs.filter((entry) => typeof entry.address === "string")).toHaveLength(1);
      const primaryLines = vecrec.logs.filter((entry) => entry.pid === vecrec.child.pid).map((entry) => entry.msg);
      expect(primaryLines).toContain("shutting down: draining in-flight calls");
      expect(primaryLines.at(-1)).toBe("stopped");
      for (const pid of workerPids) {
        expect(vecrec.logs.filter((entry) => entry.pid === pid).map((entry) => entry.msg)).toContain("stopped");
      }
    },
    90_000,
  );

  it(
    "serves /metrics on the primary with the calls handled by every worker summed",
    async () => {
      const { vecrec, address, workerPids } = await startWorkers(redis.url, ["--metrics-listen", "127.0.0.1:0"]);
      const served = await vecrec.waitFor((entry) => typeof entry.metrics === "string");
      expect(served.pid).toBe(vecrec.child.pid);
      const metricsUrl = served.metrics as string;
      const first = client(address);
      await unary((cb) => first.index(IndexRequest.fromPartial({ indexName: "w", defaultVectorDimension: 2 }), cb));
      await unary((cb) => first.upsert({ indexName: "w", items: [{ id: "a", vector: vectorBytes([1, 0]), fields: {} }] }, cb));
      const isAccepted = (entry: LogEntry): boolean => entry.msg === "connection accepted";
      const before = vecrec.logs.filter(isAccepted).length;
      // One connection per Search: the primary hands them to the workers in turn, so both serve some.
      const searches = 8;
      for (let i = 0; i < searches; i++) {
        const { messages, error } = await searchOnce(client(address));
        expect(error).toBeUndefined();
        expect(messages.map((m) => m.id)).toEqual(["a"]);
      }
      const accepted = (await vecrec.waitForCount(isAccepted, before + searches)).slice(before).map((entry) => entry.pid);
      expect(new Set(accepted)).toEqual(new Set(workerPids));

      const response = await fetch(metricsUrl);
      expect(response.status).toBe(200);
      const text = await response.text();
      const search = { grpc_type: "server_stream", grpc_service: "vecrec.v1.VectorService", grpc_method: "Search" };
      expect(sample(text, "grpc_server_started_total", search)).toBe(searches);
      expect(sample(text, "grpc_server_handled_total", { ...search, grpc_code: "OK" })).toBe(searches);
      expect(sample(text, "grpc_server_handling_seconds_count", search)).toBe(searches);
      expect(sample(text, "grpc_server_msg_sent_total", search)).toBe(searches); // one hit each
      expect(sample(text, "vecrec_grpc_server_calls_in_flight", search)).toBe(0);
      const unaryCall = (method: string): Record<string, string> => ({ grpc_type: "unary", grpc_service: "vecrec.v1.VectorService", grpc_method: method, grpc_code: "OK" });
      expect(sample(text, "grpc_server_handled_total", unaryCall("Index"))).toBe(1);
      expect(sample(text, "grpc_server_handled_total", unaryCall("Upsert"))).toBe(1);
      // Both workers reach Redis: the minimum of their up gauges is 1.
      expect(sample(text, "vecrec_store_up", { backend: "redis" })).toBe(1);

      expect(await terminate(vecrec)).toBe(0);
    },
    90_000,
  );

  it(
    "on SIGTERM lets a call in flight in a worker finish, refuses new connections, then exits 0",
    async () => {
      const gate = await searchGate(redis.port);
      try {
        const { vecrec, address, workerPids } = await startWorkers(gate.url);
        const c = client(address);
        await unary((cb) => c.index(IndexRequest.fromPartial({ indexName: "w", defaultVectorDimension: 2 }), cb));
        await unary((cb) => c.upsert({ indexName: "w", items: [{ id: "a", vector: vectorBytes([1, 0]), fields: {} }] }, cb));

        const entered = gate.hold();
        const inFlight = searchOnce(c);
        await entered;
        const exited = vecrec.exitCode();
        vecrec.child.kill("SIGTERM");
        await vecrec.waitFor((entry) => entry.msg === "shutting down: draining in-flight calls" && entry.pid === vecrec.child.pid);
        // Neither worker listens any more: a new connection is refused while the call is in flight.
        await vecrec.waitFor((entry) => entry.msg === "stopped" && entry.pid !== vecrec.child.pid);
        const refused = await failure(
          unary((cb) => client(address).listIndexes({}, new Metadata(), { deadline: new Date(Date.now() + 2_000) }, cb)),
        );
        expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(refused.code);
        expect(vecrec.child.exitCode).toBeNull();

        gate.release();
        const { messages, error } = await inFlight;
        expect(error).toBeUndefined();
        expect(messages.map((m) => m.id)).toEqual(["a"]);
        expect(await exited).toBe(0);
        expect(workerPids.filter(alive)).toEqual([]);
      } finally {
        gate.release();
        await gate.close();
      }
    },
    90_000,
  );

  it(
    "replaces a worker that dies, on the same port",
    async () => {
      const { vecrec, address, workerPids } = await startWorkers();
      const [victim, survivor] = workerPids as [number, number];
      process.kill(victim, "SIGKILL");
      const died = await vecrec.waitFor((entry) => entry.msg === "worker exited unexpectedly: replacing it");
      expect(died).toMatchObject({ workerPid: victim, signal: "SIGKILL", pid: vecrec.child.pid });
      const replaced = await vecrec.waitFor((entry) => entry.msg === "worker replaced: serving again", 45_000);
      const replacement = replaced.workerPid as number;
      expect([victim, survivor, vecrec.child.pid]).not.toContain(replacement);
      expect(alive(replacement)).toBe(true);

      // Both the survivor and the replacement take connections on the one port.
      const isAccepted = (entry: LogEntry): boolean => entry.msg === "connection accepted";
      const before = vecrec.logs.filter(isAccepted).length;
      for (let i = 0; i < 4; i++) {
        const listed = await unary<{ indexes: unknown[] }>((cb) => client(address).listIndexes({}, cb));
        expect(Array.isArray(listed.indexes)).toBe(true);
      }
      const accepted = (await vecrec.waitForCount(isAccepted, before + 4)).slice(before).map((entry) => entry.pid);
      expect(new Set(accepted)).toEqual(new Set([survivor, replacement]));

      expect(await terminate(vecrec)).toBe(0);
      expect([survivor, replacement].filter(alive)).toEqual([]);
    },
    90_000,
  );

  it(
    "leaves no worker behind when the primary is killed",
    async () => {
      const { vecrec, workerPids } = await startWorkers();
      const exited = vecrec.exitCode();
      vecrec.child.kill("SIGKILL");
      await exited;
      // Workers exit by themselves once the primary's IPC channel closes.
      await allGone(workerPids);
    },
    90_000,
  );

  it(
    "keeps answering /metrics while a worker is replaced, and its counts stay in the sums",
    async () => {
      const { vecrec, address, workerPids } = await startWorkers(redis.url, ["--metrics-listen", "127.0.0.1:0"]);
      const metricsUrl = (await vecrec.waitFor((entry) => typeof entry.metrics === "string")).metrics as string;
      const check = { grpc_type: "unary", grpc_service: "vecrec.v1.VectorService", grpc_method: "ListIndexes", grpc_code: "OK" };
      const isAccepted = (entry: LogEntry): boolean => entry.msg === "connection accepted";
      const before = vecrec.logs.filter(isAccepted).length;
      for (let i = 0; i < 6; i++) await unary((cb) => client(address).listIndexes({}, cb));
      const served = (await vecrec.waitForCount(isAccepted, before + 6)).slice(before).map((entry) => entry.pid);
      expect(new Set(served)).toEqual(new Set(workerPids));
      const scrape = async (): Promise<{ status: number; calls: number | undefined }> => {
        const response = await fetch(metricsUrl);
        const text = await response.text();
        return { status: response.status, calls: response.status === 200 ? sample(text, "grpc_server_handled_total", check) : undefined };
      };
      expect(await scrape()).toEqual({ status: 200, calls: 6 });
      // The victim served some of the 6 calls: the sums keep them after it is gone, and every scrape
      // while its replacement starts (which answers nothing until it serves) is answered at once.
      const victim = workerPids[0] as number;
      process.kill(victim, "SIGKILL");
      await vecrec.waitFor((entry) => entry.msg === "worker exited unexpectedly: replacing it");
      const scrapes: { status: number; calls: number | undefined; ms: number }[] = [];
      const deadline = Date.now() + 45_000;
      while (!vecrec.logs.some((entry) => entry.msg === "worker replaced: serving again")) {
        const started = Date.now();
        scrapes.push({ ...(await scrape()), ms: Date.now() - started });
        if (started > deadline) throw new Error("the worker was not replaced");
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(scrapes.length).toBeGreaterThan(0);
      for (const result of scrapes) expect(result).toMatchObject({ status: 200, calls: 6 });
      expect(Math.max(...scrapes.map((result) => result.ms))).toBeLessThan(2_500);
      expect(await scrape()).toEqual({ status: 200, calls: 6 });

      expect(await terminate(vecrec)).toBe(0);
    },
    90_000,
  );

  it(
    "takes SIGHUP while its workers start and while it drains without ending any process or cutting a call",
    async () => {
      const gate = await searchGate(redis.port);
      try {
        const vecrec = new VecrecProcess(["--listen", "127.0.0.1:0", "--workers", "2", "--log-level", "debug"], { VECREC_REDIS_URL: gate.url });
        processes.push(vecrec);
        // SIGHUPs every 50 ms from the first fork on (the primary takes them from then: it forks after
        // installing its handler), until the server serves.
        const primary = vecrec.child.pid as number;
        while (childrenOf(primary).length === 0) {
          if (vecrec.closed) throw new Error(`exited: ${vecrec.stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const hangups = setInterval(() => vecrec.child.kill("SIGHUP"), 50);
        let listening: LogEntry;
        try {
          listening = await vecrec.waitFor((entry) => typeof entry.address === "string", 45_000);
        } finally {
          clearInterval(hangups);
        }
        expect(vecrec.logs.some((entry) => entry.msg === "worker exited unexpectedly: replacing it")).toBe(false);
        const address = listening.address as string;
        const c = client(address);
        await unary((cb) => c.index(IndexRequest.fromPartial({ indexName: "w", defaultVectorDimension: 2 }), cb));
        await unary((cb) => c.upsert({ indexName: "w", items: [{ id: "a", vector: vectorBytes([1, 0]), fields: {} }] }, cb));
        const entered = gate.hold();
        const inFlight = searchOnce(c);
        await entered;
        const exited = vecrec.exitCode();
        vecrec.child.kill("SIGTERM");
        await vecrec.waitFor((entry) => entry.msg === "shutting down: draining in-flight calls" && entry.pid === vecrec.child.pid);
        // The primary passes it on; the worker holding the call takes it (the other has already stopped).
        vecrec.child.kill("SIGHUP");
        await vecrec.waitFor((entry) => entry.msg === "SIGHUP while stopping: nothing re-read");
        gate.release();
        const { messages, error } = await inFlight;
        expect(error).toBeUndefined();
        expect(messages.map((m) => m.id)).toEqual(["a"]);
        expect(await exited).toBe(0);
      } finally {
        gate.release();
        await gate.close();
      }
    },
    90_000,
  );

  it("a taken --health-listen port is named once, with its own setting, a Redis refusing the handshake once, and bad OTEL_* configuration exits 2", { timeout: 90_000 }, async () => {
    const taken = net.createServer();
    taken.listen(0, "127.0.0.1");
    await once(taken, "listening");
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const vecrec = new VecrecProcess(["--listen", "127.0.0.1:0", "--workers", "2", "--health-listen", `127.0.0.1:${port}`], { VECREC_REDIS_URL: redis.url });
      processes.push(vecrec);
      expect(await vecrec.exitCode()).toBe(1);
      expect(vecrec.stderr.trim().split("\n")).toEqual([
        `vecrec: cannot listen on 127.0.0.1:${port}: the address is already in use (another process holds the port); stop it or choose another address with --health-listen / VECREC_HEALTH_LISTEN`,
      ]);
    } finally {
      taken.close();
    }
    // Redis refusing the handshake (the stand-in knows only the user "default"): the reason once.
    const refused = new VecrecProcess(["--listen", "127.0.0.1:0", "--workers", "2"], {
      VECREC_REDIS_URL: `redis://someone:hunter2secret@127.0.0.1:${redis.port}`,
    });
    processes.push(refused);
    expect(await refused.exitCode()).toBe(1);
    expect(refused.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^vecrec: cannot open the store: .*WRONGPASS/)]);
    expect(refused.stderr).not.toContain("hunter2secret");
    const badOtel = new VecrecProcess(["--listen", "127.0.0.1:0", "--workers", "2"], { VECREC_REDIS_URL: redis.url, OTEL_TRACES_EXPORTER: "zipkin" });
    processes.push(badOtel);
    expect(await badOtel.exitCode()).toBe(2);
    expect(badOtel.stderr.trim().split("\n")).toHaveLength(1);
    expect(badOtel.stderr).toContain("OTEL_TRACES_EXPORTER");
  });

  it(
    "under npm start, stops with its workers when npm is killed",
    async () => {
      // A shell stands for npm: the primary's parent, killed with SIGKILL, so that nothing is forwarded.
      const command = [process.execPath, ...NODE_FLAGS, "--import", "tsx", "src/main.ts", "--listen", "127.0.0.1:0", "--workers", "2"]
        .map((arg) => `'${arg}'`)
        .join(" ");
      const npm = spawn("/bin/sh", ["-c", `${command} & wait`], {
        env: { ...process.env, VECREC_LISTEN: "", VECREC_LOG_LEVEL: "", VECREC_WORKERS: "", VECREC_DATA_DIR: "", VECREC_IN_MEMORY: "true", VECREC_REDIS_URL: redis.url, npm_lifecycle_event: "start" },
        stdio: ["ignore", "pipe", "inherit"],
      });
      const logs: LogEntry[] = [];
      createInterface({ input: npm.stdout }).on("line", (line) => {
        try {
          logs.push(JSON.parse(line) as LogEntry);
        } catch {
          // not a log line
        }
      });
      const deadline = Date.now() + 45_000;
      while (!logs.some((entry) => typeof entry.address === "string")) {
        if (Date.now() > deadline) throw new Error(`not listening: ${JSON.stringify(logs)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const listening = logs.find((entry) => typeof entry.address === "string") as LogEntry;
      const pids = [listening.pid as number, ...(listening.workerPids as number[])];
      npm.kill("SIGKILL");
      try {
        await allGone(pids, 20_000);
      } finally {
        for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
      }
      expect(logs.map((entry) => entry.msg)).toContain("npm (the parent process) is gone: stopping as on SIGTERM");
    },
    90_000,
  );

  it("refuses --workers 2 on the embedded engine, whose data lives in one process", { timeout: 60_000 }, async () => {
    const vecrec = new VecrecProcess(["--workers", "2"]);
    processes.push(vecrec);
    expect(await vecrec.exitCode()).toBe(2);
    expect(vecrec.stderr).toContain("--workers / VECREC_WORKERS");
    expect(vecrec.stderr).toContain("embedded engine");
  });
});
