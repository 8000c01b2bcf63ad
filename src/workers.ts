/**
 * `--workers N`, N > 1: several processes serve one port, and behave as one server.
 *
 * The process that was started (`npm start`, `node dist/src/main.js`) becomes the primary: it serves
 * nothing itself and forks N workers with node:cluster. Each worker runs the usual wiring (its own store,
 * hence its own Redis connections, and its own gRPC server with every RPC, health and reflection) and
 * calls `bindAsync` on the same address. grpc-js binds a plain `net` server (http2.createServer +
 * listen), so in a cluster worker the listen goes through the primary: the primary holds the one
 * listening socket and hands each accepted connection to a worker in turn (round-robin, node's
 * default scheduling everywhere but Windows). A connection then stays with its worker: every call on
 * it is served there.
 *
 * Port 0: the primary keeps one listening handle per requested address (`host:0` included) and every
 * worker asking for that address gets it, so all workers share the one port chosen at the first
 * bind. Asking for `host:<that port>` instead would make the primary bind a second socket and fail
 * with EADDRINUSE, so every worker is given the configured address, except when no worker is left at
 * all (the primary closed the handle): the replacements are then given `host:<port>`, so the port
 * stays the same (`WORKER_LISTEN_ENV`).
 *
 * As one server: the primary logs one "listening" line (address, worker count), and prints a worker's
 * reason for failing to start once; SIGHUP to the primary reaches each worker as a message; SIGTERM/SIGINT to the
 * primary drains every worker (each turns health NOT_SERVING, gives in-flight calls the grace period,
 * closes its store) and the primary exits 0 once all of them exited 0; a worker that dies otherwise is
 * replaced after a backoff, logged; a worker exits at once when its primary is gone (node:cluster
 * exits a worker whose IPC channel closes), so stopping the primary, even with SIGKILL, stops
 * everything. Health is per worker, and each follows its own store's availability of the same Redis,
 * so every connection sees the same answer.
 */
import cluster, { type Worker } from "node:cluster";
import diagnosticsChannel from "node:diagnostics_channel";
import type { Socket } from "node:net";
import type { Logger } from "pino";

/** The address a worker binds, set by the primary (wins over --listen / VECREC_LISTEN in a worker). */
export const WORKER_LISTEN_ENV = "VECREC_WORKER_LISTEN";
/** The worker's slot number (1..N), for its logs; a replacement keeps the slot of the worker it replaces. */
export const WORKER_SLOT_ENV = "VECREC_WORKER_SLOT";

/** Worker -> primary: serving on `port`. */
interface ListeningMessage {
  readonly vecrec: "listening";
  readonly port: number;
  readonly backend: string;
}
/** Primary -> worker: drain and exit (as on SIGTERM). */
const DRAIN_MESSAGE = { vecrec: "drain" } as const;
/**
 * Primary -> worker: re-read the secret files (the primary's SIGHUP). A message, not the signal: a
 * worker still starting (before its SIGHUP handler) would be ended by the signal's default action.
 */
const RELOAD_MESSAGE = { vecrec: "reload" } as const;
/** Worker -> primary: it cannot start, in one sentence for stderr (the primary prints the first only). */
interface StartFailedMessage {
  readonly vecrec: "start-failed";
  readonly sentence: string;
}

function isStartFailedMessage(message: unknown): message is StartFailedMessage {
  const m = message as Partial<StartFailedMessage> | null;
  return typeof m === "object" && m !== null && m.vecrec === "start-failed" && typeof m.sentence === "string";
}

export function isListeningMessage(message: unknown): message is ListeningMessage {
  const m = message as Partial<ListeningMessage> | null;
  return typeof m === "object" && m !== null && m.vecrec === "listening" && typeof m.port === "number";
}

function isDrainMessage(message: unknown): boolean {
  return typeof message === "object" && message !== null && (message as { vecrec?: unknown }).vecrec === "drain";
}

/** `host` of `host:port` (`[::1]` stays bracketed). */
export function listenHost(listen: string): string {
  return listen.slice(0, listen.lastIndexOf(":"));
}

// ---- stop requests, in a single process or a worker ----

/**
 * Resolves with the reason at the first SIGTERM/SIGINT, or (in a worker) at the primary's drain
 * message; a second signal exits at once with code 1. Installed before the store is opened, so a
 * signal during startup drains as soon as the server is up.
 */
export function stopRequested(logger: Logger): Promise<string> {
  return new Promise<string>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) resolve(signal);
      else {
        logger.warn({ signal }, "second signal: exiting at once");
        process.exit(1);
      }
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    if (cluster.isWorker) {
      process.on("message", (message: unknown) => {
        if (isDrainMessage(message)) resolve("drain requested by the primary");
      });
    }
  });
}

// ---- the worker side ----

/** In a worker: the slot number the primary gave it, for its logs. */
export function workerSlot(): number | undefined {
  const slot = Number(process.env[WORKER_SLOT_ENV]);
  return cluster.isWorker && Number.isInteger(slot) ? slot : undefined;
}

/** In a worker: `reload` runs at each reload the primary asks for (its SIGHUP). */
export function onReloadRequested(reload: () => void): void {
  process.on("message", (message: unknown) => {
    if (typeof message === "object" && message !== null && (message as { vecrec?: unknown }).vecrec === RELOAD_MESSAGE.vecrec) reload();
  });
}

/**
 * In a worker: hands the primary the one sentence saying why this worker cannot start (every worker
 * fails alike, so the primary prints it once); resolves once sent.
 */
export function reportStartFailure(sentence: string): Promise<void> {
  const message: StartFailedMessage = { vecrec: "start-failed", sentence };
  return new Promise<void>((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/** In a worker: tells the primary that this worker serves on `port`. */
export function reportListening(port: number, backend: string): void {
  const message: ListeningMessage = { vecrec: "listening", port, backend };
  process.send?.(message);
}

/**
 * In a worker, at debug level: one line per connection the primary hands it (`connection accepted`,
 * with the worker's pid and the client's address), to see how connections are spread.
 */
export function logAcceptedConnections(logger: Logger): void {
  if (!logger.isLevelEnabled("debug")) return;
  diagnosticsChannel.subscribe("net.server.socket", (message: unknown) => {
    const socket = (message as { socket?: Socket }).socket;
    logger.debug({ remote: `${socket?.remoteAddress}:${socket?.remotePort}` }, "connection accepted");
  });
}

// ---- the primary ----

export interface PrimaryOptions {
  readonly workers: number;
  /** The configured host:port (port 0: the workers share the one port the first bind picks). */
  readonly listen: string;
  readonly logger: Logger;
  /** The workers' shutdown grace period: the primary waits this plus `closeMarginMs`, then kills. */
  readonly graceMs: number;
  readonly closeMarginMs?: number;
  /** First restart delay of a slot; doubles with each failure in a row, up to `maxRestartDelayMs`. */
  readonly restartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
  /** A worker that served this long resets its slot's backoff. */
  readonly stableAfterMs?: number;
}

export const DEFAULT_RESTART_DELAY_MS = 250;
export const DEFAULT_MAX_RESTART_DELAY_MS = 15_000;
export const DEFAULT_STABLE_AFTER_MS = 30_000;
/** After the grace period, time for the workers to close their stores (under docker stop's 10 s). */
export const DEFAULT_CLOSE_MARGIN_MS = 1_500;

interface Slot {
  readonly id: number;
  worker: Worker | undefined;
  listeningSince: number | undefined;
  failures: number;
  restartTimer: NodeJS.Timeout | undefined;
}

type StartResult =
  | { readonly ok: true; readonly port: number; readonly backend: string }
  | { readonly ok: false; readonly code: number | null; readonly signal: string | null };

/**
 * Runs the primary until SIGTERM/SIGINT and every worker has drained; resolves with the exit code
 * (0: every worker exited 0; 1: a worker failed to start, or did not stop cleanly in time).
 */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  return new Primary(options).run();
}

class Primary {
  private readonly logger: Logger;
  private readonly slots: Slot[];
  /** What workers are told to bind: the configured address (shared handle), see the file comment. */
  private listen: string;
  /** host:port once the first workers serve. */
  private address: string | undefined;
  private phase: "starting" | "serving" | "stopping" = "starting";
  /** Exit codes of the workers that exited while stopping (a signal counts as failure). */
  private stopFailures = 0;
  private onAllExited: (() => void) | undefined;
  /** Whether a worker's reason for failing to start was printed (every worker fails alike). */
  private startFailurePrinted = false;

  constructor(private readonly options: PrimaryOptions) {
    this.logger = options.logger;
    this.listen = options.listen;
    this.slots = Array.from({ length: options.workers }, (_, i) => ({
      id: i + 1,
      worker: undefined,
      listeningSince: undefined,
      failures: 0,
      restartTimer: undefined,
    }));
  }

  async run(): Promise<number> {
    const stop = stopRequested(this.logger).then((reason) => ({ stopped: reason }) as const);
    // SIGHUP (re-read certificates and tokens) goes to every worker, each serving with its own copy, as
    // a message (see RELOAD_MESSAGE); the handler stays to the end, so that no SIGHUP ends the primary.
    process.on("SIGHUP", () => {
      for (const slot of this.slots) if (slot.worker?.isConnected() === true) slot.worker.send(RELOAD_MESSAGE, () => undefined);
    });
    const results = await Promise.race([Promise.all(this.slots.map((slot) => this.fork(slot))), stop]);
    if ("stopped" in results) return this.shutdown(results.stopped);
    const failed = results.find((result) => !result.ok);
    if (failed !== undefined && !failed.ok) return this.failedToStart(failed);
    const served = results.flatMap((result) => (result.ok ? [result] : []));
    const port = served[0]?.port ?? 0;
    if (served.some((result) => result.port !== port)) {
      this.logger.error({ ports: served.map((result) => result.port) }, "workers bound different ports");
    }
    this.address = `${listenHost(this.options.listen)}:${port}`;

    this.phase = "serving";
    const backend = served[0]?.backend ?? "unknown";
    this.logger.info(
      { address: this.address, workers: this.slots.length, backend, workerPids: this.pids() },
      `vecrec listening (${backend} backend, ${this.slots.length} workers)`,
    );
    return this.shutdown((await stop).stopped);
  }

  private pids(): number[] {
    return this.slots.flatMap((slot) => (slot.worker?.process.pid === undefined ? [] : [slot.worker.process.pid]));
  }

  /** Forks the slot's worker; resolves when it serves, or when it exits before serving. */
  private fork(slot: Slot): Promise<StartResult> {
    // No worker holds the shared handle any more: bind the port that was served, not a new one.
    if (this.address !== undefined && this.pids().length === 0) this.listen = this.address;
    const worker = cluster.fork({ [WORKER_LISTEN_ENV]: this.listen, [WORKER_SLOT_ENV]: String(slot.id) });
    slot.worker = worker;
    slot.listeningSince = undefined;
    return new Promise<StartResult>((resolve) => {
      worker.on("message", (message: unknown) => {
        if (isStartFailedMessage(message)) {
          if (!this.startFailurePrinted) process.stderr.write(`${message.sentence}\n`);
          this.startFailurePrinted = true;
          return;
        }
        if (!isListeningMessage(message)) return;
        slot.listeningSince = Date.now();
        if (this.phase === "stopping") this.sendDrain(worker); // a drain sent before it listened may be lost
        else if (this.phase === "serving") {
          this.logger.info({ worker: slot.id, workerPid: worker.process.pid }, "worker replaced: serving again");
        }
        resolve({ ok: true, port: message.port, backend: message.backend });
      });
      worker.once("exit", (code: number | null, signal: string | null) => {
        const served = slot.listeningSince !== undefined;
        if (slot.worker === worker) slot.worker = undefined;
        resolve({ ok: false, code, signal });
        this.workerExited(slot, worker, code, signal, served);
      });
    });
  }

  private workerExited(slot: Slot, worker: Worker, code: number | null, signal: string | null, served: boolean): void {
    if (this.phase === "stopping") {
      if (code !== 0) {
        this.stopFailures++;
        this.logger.error({ worker: slot.id, workerPid: worker.process.pid, code, signal }, "worker did not stop cleanly");
      }
      if (this.pids().length === 0) this.onAllExited?.();
      return;
    }
    // While starting, a worker that exits before serving fails the start (run() reports it).
    if (this.phase === "starting" && !served) return;
    const uptime = served ? Date.now() - (slot.listeningSince ?? Date.now()) : 0;
    if (uptime >= (this.options.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS)) slot.failures = 0;
    slot.failures++;
    const delay = Math.min(
      (this.options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS) * 2 ** (slot.failures - 1),
      this.options.maxRestartDelayMs ?? DEFAULT_MAX_RESTART_DELAY_MS,
    );
    this.logger.warn(
      { worker: slot.id, workerPid: worker.process.pid, code, signal, failuresInARow: slot.failures, restartInMs: delay },
      "worker exited unexpectedly: replacing it",
    );
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      // A replacement that fails before serving exits, and workerExited schedules the next try.
      void this.fork(slot);
    }, delay);
  }

  private sendDrain(worker: Worker): void {
    if (!worker.isConnected()) return;
    worker.send(DRAIN_MESSAGE, (error: Error | null) => {
      // The worker is gone already (its exit is handled), or will be: nothing else to do.
      if (error) this.logger.debug({ err: error, workerPid: worker.process.pid }, "could not send drain to a worker");
    });
  }

  /** 2 when the worker found the configuration bad (its exit code 2), as a single process would; else 1. */
  private async failedToStart(result: { code: number | null; signal: string | null }): Promise<number> {
    this.logger.fatal({ code: result.code, signal: result.signal }, "a worker failed to start (its log says why): stopping");
    await this.shutdown(undefined);
    return result.code === 2 ? 2 : 1;
  }

  /** Drains every worker; resolves 0 when all exited 0 in time, else 1. */
  private async shutdown(reason: string | undefined): Promise<number> {
    this.phase = "stopping";
    for (const slot of this.slots) {
      if (slot.restartTimer !== undefined) clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
    }
    const { graceMs, closeMarginMs = DEFAULT_CLOSE_MARGIN_MS } = this.options;
    if (reason !== undefined) {
      this.logger.info({ signal: reason, graceMs, workers: this.pids().length }, "shutting down: draining in-flight calls");
    }
    const allExited = new Promise<void>((resolve) => (this.onAllExited = resolve));
    if (this.pids().length === 0) this.onAllExited?.();
    for (const slot of this.slots) if (slot.worker) this.sendDrain(slot.worker);

    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      allExited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs + closeMarginMs))),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      this.logger.error({ workerPids: this.pids() }, "workers did not stop in time: killing them");
      for (const slot of this.slots) slot.worker?.process.kill("SIGKILL");
      await allExited;
    }
    if (reason !== undefined) this.logger.info("stopped");
    return inTime && this.stopFailures === 0 ? 0 : 1;
  }
}
