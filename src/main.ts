/**
 * The vecrec process: reads the configuration once, wires store -> use cases -> gRPC server, and shuts
 * down cleanly on SIGTERM/SIGINT (health NOT_SERVING, in-flight calls get a bounded grace period,
 * store closed, exit 0). Exit code 2 means bad configuration, 1 a startup failure.
 */
import { pino, type Logger } from "pino";
import { fileURLToPath } from "node:url";
import { ConfigError, ConfigExitRequest, loadConfig } from "./config.js";
import { DEFAULT_SHUTDOWN_GRACE_MS, startGrpcServer, type RunningServer } from "./grpc/server.js";
import { createStore } from "./store/create-store.js";
import type { VectorStore } from "./store/vector-store.js";
import { createUseCases } from "./usecases/use-cases.js";

export type { RunningServer } from "./grpc/server.js";

export interface StartServerOptions {
  readonly store: VectorStore;
  /** host:port, e.g. `127.0.0.1:50051`; port 0 picks a free port. */
  readonly listen: string;
  readonly logger: Logger;
}

/**
 * The wiring: the use cases over `store`, served by a gRPC server whose health follows the store.
 * The caller owns the store (closing the server does not close it).
 */
export function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { store, listen, logger } = options;
  return startGrpcServer({ useCases: createUseCases(store), availability: store, listen, logger });
}

/** Runs the server until a termination signal; resolves with the exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
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

  const logger = pino({ name: "vecrec", level: config.logLevel });
  let store;
  try {
    store = await createStore({ redisUrl: config.redisUrl, logger });
  } catch (error: unknown) {
    logger.fatal({ err: error }, "cannot open the store");
    return 1;
  }
  let server;
  try {
    server = await startServer({ store, listen: config.listen, logger });
  } catch (error: unknown) {
    logger.fatal({ err: error, listen: config.listen }, "cannot start the gRPC server");
    await store.close();
    return 1;
  }
  const host = config.listen.slice(0, config.listen.lastIndexOf(":"));
  logger.info(
    { address: `${host}:${server.port}`, backend: store.backend },
    store.backend === "embedded"
      ? "vecrec listening (embedded backend: data lives in memory only)"
      : `vecrec listening (${store.backend} backend)`,
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  logger.info({ signal, graceMs: DEFAULT_SHUTDOWN_GRACE_MS }, "shutting down: draining in-flight calls");
  // A second signal during the drain means "now".
  const onSecondSignal = (): void => {
    logger.warn("second signal: exiting at once");
    process.exit(1);
  };
  process.once("SIGTERM", onSecondSignal);
  process.once("SIGINT", onSecondSignal);
  await server.close({ graceMs: DEFAULT_SHUTDOWN_GRACE_MS });
  try {
    await store.close();
  } catch (error: unknown) {
    logger.error({ err: error }, "closing the store failed");
  }
  logger.info("stopped");
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
