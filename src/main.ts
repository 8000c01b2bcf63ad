/**
 * The vecrec process: reads the configuration once, wires store -> use cases -> gRPC server, and shuts
 * down cleanly on SIGTERM/SIGINT (health NOT_SERVING, in-flight calls get a bounded grace period,
 * store closed, exit 0). With `--workers N` (N > 1) it is the primary of N such worker processes
 * sharing its port (src/workers.ts). Exit code 2 means bad configuration, 1 a startup failure.
 */
import { setLogger } from "@grpc/grpc-js";
import { UnavailableError } from "./domain/errors.js";
import cluster, { type Worker } from "node:cluster";
import path from "node:path";
import { AggregatorRegistry } from "prom-client";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { ConfigError, ConfigExitRequest, loadConfig, type Config } from "./config.js";
import { isDataDirCommand, runDataDirCommand } from "./data-dir-commands.js";
import { BindError, DEFAULT_SHUTDOWN_GRACE_MS, isLoopback, startGrpcServer, type RunningServer } from "./grpc/server.js";
import { createStore } from "./store/create-store.js";
import { DEFAULT_SCAN_THREADS } from "./store/embedded/embedded-store.js";
import type { VectorStore } from "./store/vector-store.js";
import { createUseCases } from "./usecases/use-cases.js";
import { afterRepliesRun } from "./observability/after-reply.js";
import { createServiceLog } from "./observability/logging.js";
import { ClusterMetrics } from "./observability/cluster-metrics.js";
import { createMetrics } from "./observability/metrics.js";
import { startMetricsServer, type MetricsSource, type RunningMetricsServer } from "./observability/metrics-server.js";
import { createObservability, type Observability } from "./observability/observability.js";
import { setUpTracing, tracesExporterFromEnv } from "./observability/tracing.js";
import {
  WORKER_LISTEN_ENV,
  isListeningMessage,
  listenHost,
  logAcceptedConnections,
  onReloadRequested,
  reportListening,
  reportStartFailure,
  runPrimary,
  stopRequested,
  workerSlot,
} from "./workers.js";

export type { RunningServer } from "./grpc/server.js";

export interface StartServerOptions {
  readonly store: VectorStore;
  /** host:port, e.g. `127.0.0.1:50051`; port 0 picks a free port. */
  readonly listen: string;
  readonly logger: Logger;
  /** The front door's security settings (TLS); unset: plaintext. */
  readonly security?: Partial<Pick<Config, "tls" | "authTokensFile" | "reflection" | "maxConcurrentCalls" | "healthListen">> | undefined;
  /** How often secret files (certificates) are looked at for changes; default 1000 ms. */
  readonly filePollMs?: number;
  /** Metrics, tracing and access logs (src/observability/); none when unset. */
  readonly observability?: Observability;
}

/**
 * The wiring: the use cases over `store`, served by a gRPC server whose health follows the store.
 * The caller owns the store (closing the server does not close it).
 */
export function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { store, listen, logger, security, filePollMs, observability } = options;
  const served = observability?.observeStore(store) ?? store;
  return startGrpcServer({
    useCases: createUseCases(served),
    availability: store,
    listen,
    logger,
    tls: security?.tls,
    authTokensFile: security?.authTokensFile,
    reflection: security?.reflection,
    maxConcurrentCalls: security?.maxConcurrentCalls,
    healthListen: security?.healthListen,
    filePollMs,
    ...(observability !== undefined && { interceptors: [observability.interceptor] }),
  });
}

/**
 * Runs the server until a termination signal; resolves with the exit code. With `--workers` above 1
 * this process is the primary of src/workers.ts and each worker comes back here (as a cluster worker).
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (isDataDirCommand(argv[2])) return runDataDirCommand(argv, env);
  let config;
  try {
    config = loadConfig(argv, env);
  } catch (error: unknown) {
    if (error instanceof ConfigExitRequest) return error.exitCode;
    if (error instanceof ConfigError) {
      process.stderr.write(`vecrec: ${error.message}\n`);
      return ConfigError.EXIT_CODE;
    }
    throw error;
  }

  // OTEL_* is configuration too: checked here, before a primary forks workers that would each fail on it.
  try {
    tracesExporterFromEnv(env);
  } catch (error: unknown) {
    process.stderr.write(`vecrec: ${error instanceof Error ? error.message : String(error)}\n`);
    return ConfigError.EXIT_CODE;
  }

  // Every line a call logs carries its trace id (src/grpc/call-annotations.ts); lines are written in
  // batches (src/observability/logging.ts), all written out before the exit.
  const log = createServiceLog({ level: config.logLevel });
  const logger = log.logger;
  routeGrpcLogs(logger);
  let code: number;
  if (cluster.isWorker) {
    code = await serve(config, logger.child({ worker: workerSlot() }), { worker: true, listen: env[WORKER_LISTEN_ENV] ?? config.listen }, env);
  } else if (config.workers > 1) {
    if (env.npm_lifecycle_event !== undefined) stopWhenParentExits(logger);
    code = await primaryWithMetrics(config, logger, () =>
      runPrimary({ workers: config.workers, listen: config.listen, logger, graceMs: DEFAULT_SHUTDOWN_GRACE_MS }),
    );
  } else {
    code = await serve(config, logger, { worker: false, listen: config.listen }, env);
  }
  await log.flush();
  return code;
}

/** Whether a bind failed because the port is taken (grpc-js words it inside its own message). */
export function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && /\bEADDRINUSE\b/.test(error.message);
}

/**
 * grpc-js writes its own diagnostics to stderr ("E No address added ..."); they go to the JSON log at
 * debug instead, so that stderr holds vecrec's own sentences (GRPC_VERBOSITY still selects which).
 */
function routeGrpcLogs(logger: Logger): void {
  const grpcLog = logger.child({ component: "grpc-js" });
  setLogger({
    error: (...args: unknown[]) => grpcLog.debug(args.map(String).join(" ")),
    info: (...args: unknown[]) => grpcLog.debug(args.map(String).join(" ")),
    debug: (...args: unknown[]) => grpcLog.debug(args.map(String).join(" ")),
  });
}

/**
 * Starts the /metrics listener; on failure says why in one line on stderr and resolves undefined (the
 * caller exits 1).
 */
async function serveMetrics(listen: string, source: MetricsSource, logger: Logger, tokensOn = false): Promise<RunningMetricsServer | undefined> {
  if (tokensOn && !isLoopback(listen)) {
    logger.warn(
      { metricsListen: listen },
      "metrics are served without tokens on a non-loopback address: anyone who reaches it sees index names and counts (keep it for Prometheus only)",
    );
  }
  try {
    const running = await startMetricsServer(listen, source);
    logger.info({ metrics: `http://${listenHost(listen)}:${running.port}/metrics` }, "serving Prometheus metrics");
    return running;
  } catch (error: unknown) {
    const why = isAddressInUse(error) || (error as { code?: unknown }).code === "EADDRINUSE"
      ? "the address is already in use (another process holds the port)"
      : error instanceof Error ? error.message : String(error);
    process.stderr.write(`vecrec: cannot serve metrics on ${listen}: ${why}; choose another address with --metrics-listen / VECREC_METRICS_LISTEN\n`);
    return undefined;
  }
}

/**
 * The --workers primary: serves /metrics merged from every serving worker (observability/cluster-metrics.ts
 * asks each over the cluster IPC channel at scrape time) while `run` (the primary) runs.
 */
async function primaryWithMetrics(config: Config, logger: Logger, run: () => Promise<number>): Promise<number> {
  if (config.metricsListen === undefined) return run();
  // Only the workers that said they serve are asked (one being started answers nothing yet).
  const serving = new Set<number>();
  const onMessage = (worker: Worker, message: unknown): void => {
    if (isListeningMessage(message)) serving.add(worker.id);
  };
  const onExit = (worker: Worker): void => {
    serving.delete(worker.id);
  };
  cluster.on("message", onMessage);
  cluster.on("exit", onExit);
  const merged = new ClusterMetrics({ serving: (worker) => serving.has(worker.id) });
  const metricsServer = await serveMetrics(config.metricsListen, merged, logger, config.authTokensFile !== undefined);
  try {
    if (metricsServer === undefined) return 1;
    return await run();
  } finally {
    await metricsServer?.close();
    merged.close();
    cluster.off("message", onMessage);
    cluster.off("exit", onExit);
  }
}

/**
 * Under `npm start` the parent is npm, which forwards SIGTERM/SIGINT to this process; a supervisor that
 * SIGKILLs npm cannot be forwarded, so the server would outlive it. Checking once a second whether the
 * parent changed (re-parented: npm is gone) drains as on SIGTERM.
 */
function stopWhenParentExits(logger: Logger): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    logger.warn({ parentPid: parent }, "npm (the parent process) is gone: stopping as on SIGTERM");
    process.kill(process.pid, "SIGTERM");
  }, 1000);
  timer.unref();
}

/**
 * Finishes the interest recomputes an earlier run left marked (use case resumeInterestRecomputes),
 * logging each; while the store is unavailable (Redis down at start, or going down meanwhile), again
 * each time it becomes available, until done.
 */
function resumeInterestRecomputes(store: VectorStore, logger: Logger): void {
  const attempt = (): void => {
    createUseCases(store)
      .indexAdmin.resumeInterestRecomputes((index, itemsUpdated) =>
        logger.info({ index, itemsUpdated }, "finished the interests recompute an earlier UpdateInterests left unfinished"),
      )
      .catch((error: unknown) => {
        if (error instanceof UnavailableError && store.onAvailabilityChange !== undefined) {
          let waiting = true;
          const again = (): void => {
            if (!waiting) return;
            waiting = false;
            stop();
            attempt();
          };
          const stop = store.onAvailabilityChange((available) => {
            if (available) again();
          });
          // Available again already (between the failure and this listener).
          if (store.isAvailable?.() === true) again();
          return;
        }
        logger.warn({ err: error }, "could not finish the interests recompute an earlier UpdateInterests left: send that UpdateInterests again");
      });
  };
  attempt();
}

/**
 * One serving process (the only one, or a worker): opens the store, serves until asked to stop, then
 * drains (health NOT_SERVING, grace period), closes the store and resolves 0.
 */
async function serve(
  config: Config,
  logger: Logger,
  mode: { worker: boolean; listen: string },
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const stop = stopRequested(logger);
  // SIGHUP: re-read the secret files now (they are also re-read when they change). Installed first,
  // so that a SIGHUP during startup does not end the process (its default action).
  // It stays to the exit: a SIGHUP while draining must not end the process and cut the calls.
  let server: RunningServer | undefined;
  let stopping = false;
  const onHangup = (): void => {
    if (stopping) {
      logger.info("SIGHUP while stopping: nothing re-read");
      return;
    }
    logger.info("SIGHUP: re-reading the certificate and tokens files");
    server?.reload();
  };
  process.on("SIGHUP", onHangup);
  // A worker is asked by the primary, which got the SIGHUP (workers.ts).
  if (mode.worker) onReloadRequested(onHangup);
  let tracing;
  try {
    tracing = setUpTracing({ env });
  } catch (error: unknown) {
    process.stderr.write(`vecrec: ${error instanceof Error ? error.message : String(error)}\n`);
    return ConfigError.EXIT_CODE;
  }
  let storeForStats: VectorStore | undefined;
  const metrics =
    config.metricsListen === undefined
      ? undefined
      : createMetrics({ listIndexes: () => storeForStats?.listIndexes() ?? Promise.resolve([]) });
  // A worker's metrics are served by the primary, which asks each worker for them (AggregatorRegistry).
  if (metrics !== undefined && mode.worker) {
    AggregatorRegistry.setRegistries([metrics.registry]);
    // Constructing one is what makes a worker answer the primary's requests (prom-client adds its listener then).
    new AggregatorRegistry();
  }
  const observability = createObservability({ metrics, tracing, logger, slowCallMs: config.slowCallMs });
  let store;
  try {
    store = await createStore({
      redisUrl: config.redisUrl,
      redisDurability: config.redisDurability,
      dataDir: config.dataDir,
      scanThreads: config.scanThreads,
      redisTls: config.redisTls,
      redisPassword: config.redisPassword,
      redisKeyPrefix: config.redisKeyPrefix,
      logger,
      observer: observability.storeObserver,
    });
    storeForStats = store;
  } catch (error: unknown) {
    const sentence = `vecrec: cannot open the store: ${error instanceof Error ? error.message : String(error)}`;
    logger.fatal({ err: error }, sentence.slice("vecrec: ".length));
    // Also on stderr, once: with --workers, every worker fails alike and the primary prints the first.
    if (mode.worker) await reportStartFailure(sentence);
    else process.stderr.write(`${sentence}\n`);
    return 1;
  }
  if (mode.worker) logAcceptedConnections(logger);
  try {
    server = await startServer({ store, listen: mode.listen, logger, security: config, observability });
  } catch (error: unknown) {
    if (isAddressInUse(error)) {
      // One sentence, not grpc-js's line and a stack: the usual cause is another server on the port. It
      // names the listener that failed (the gRPC port, or the health one); from workers, which all fail
      // alike, the primary prints it once.
      const address = error instanceof BindError ? error.address : mode.listen;
      const setting = error instanceof BindError ? error.setting : "--listen / VECREC_LISTEN";
      const sentence =
        `vecrec: cannot listen on ${address}: the address is already in use (another process holds the port); ` +
        `stop it or choose another address with ${setting}`;
      if (mode.worker) await reportStartFailure(sentence);
      else process.stderr.write(`${sentence}\n`);
      await store.close();
      return 1;
    }
    logger.fatal({ err: error, listen: mode.listen }, "cannot start the gRPC server");
    await store.close();
    return 1;
  }
  let metricsServer: RunningMetricsServer | undefined;
  if (metrics !== undefined && !mode.worker && config.metricsListen !== undefined) {
    metricsServer = await serveMetrics(config.metricsListen, metrics.registry, logger, config.authTokensFile !== undefined);
    if (metricsServer === undefined) {
      await server.close({ graceMs: 0 });
      await store.close();
      return 1;
    }
  }
  if (mode.worker) {
    // The primary logs the one "listening" line for all of its workers.
    logger.debug({ port: server.port, backend: store.backend }, "worker serving");
    reportListening(server.port, store.backend);
  } else {
    logger.info(
      {
        address: `${listenHost(mode.listen)}:${server.port}`,
        backend: store.backend,
        ...(store.backend === "embedded" ? { scanThreads: config.scanThreads ?? DEFAULT_SCAN_THREADS } : {}),
      },
      store.backend === "embedded"
        ? config.dataDir === undefined
          ? "vecrec listening (embedded backend: data lives in memory only)"
          : `vecrec listening (embedded backend: data kept in ${path.resolve(config.dataDir)})`
        : `vecrec listening (${store.backend} backend)`,
    );
  }

  // An UpdateInterests the last run did not finish (stopped mid-recompute): finished now, in the
  // background, by one process (with --workers, the first worker).
  if (!mode.worker || workerSlot() === 1) resumeInterestRecomputes(store, logger);
  if (!mode.worker && env.npm_lifecycle_event !== undefined) stopWhenParentExits(logger);
  const reason = await stop;
  stopping = true;
  // A worker's drain is logged once, by the primary.
  logger[mode.worker ? "debug" : "info"]({ signal: reason, graceMs: DEFAULT_SHUTDOWN_GRACE_MS }, "shutting down: draining in-flight calls");
  await server.close({ graceMs: DEFAULT_SHUTDOWN_GRACE_MS });
  await afterRepliesRun(); // the last calls' access lines and spans
  await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, "flushing spans failed"));
  await metricsServer?.close();
  try {
    await store.close();
  } catch (error: unknown) {
    logger.error({ err: error }, "closing the store failed");
  }
  logger[mode.worker ? "debug" : "info"]("stopped");
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv, process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`vecrec: fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
