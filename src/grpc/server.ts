/**
 * The gRPC server: VectorService over the use cases it is given, grpc.health.v1 (following the
 * store's availability) and server reflection (v1 and v1alpha). `startGrpcServer` binds and returns
 * once the server is listening; src/main.ts builds what it serves.
 */
import { Server, ServerCredentials, type ServerInterceptor } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "pino";
import { VectorServiceService } from "../gen/vecrec/v1/vecrec.js";
import { withReusedWriters } from "./response-encoding.js";
import type { VectorStore } from "../store/vector-store.js";
import type { UseCases } from "../usecases/use-cases.js";
import { createAuthInterceptor } from "./auth-interceptor.js";
import type { ReflectionMode } from "./auth-roles.js";
import { loadTokenTable, type TokenTable } from "./auth-tokens.js";
import { createOpenCallGuard, OPEN_CALL_MAX_MESSAGE_BYTES } from "./open-calls.js";
import { createConcurrencyLimit } from "./concurrency-limit.js";
import { addReflectionService, loadDescriptorPool } from "./reflection-service.js";
import { createTlsCredentials, type TlsCredentials, type TlsFiles } from "./tls-credentials.js";
import { withTolerantDecoding } from "./request-decoding.js";
import { withUpsertDecoding } from "./upsert-decoding.js";
import { raiseConnectionWindow, raiseStreamWindow } from "./receive-windows.js";
import { createVectorServiceHandlers } from "./vector-service-handlers.js";

export const VECTOR_SERVICE_NAME = "vecrec.v1.VectorService";
/**
 * Time given to in-flight calls on shutdown before they are cut: under the 10 s `docker stop` waits
 * before SIGKILL (Kubernetes waits 30 s), leaving time to close the store.
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 8_000;
/** An Upsert of 10000 items of 1536 float32 dimensions is ~62 MB: allow it (grpc-js defaults to 4 MB). */
export const MAX_RECEIVE_MESSAGE_BYTES = 128 * 1024 * 1024;

/**
 * Connection limits (grpc-js server options; README "Security"): each connection is pinged after a
 * minute without traffic and dropped when the ping is not answered within 20 s (a vanished client,
 * a half-open TCP connection), closed after 15 minutes without calls, and asked to reconnect (GOAWAY,
 * calls in flight finish) after 30 minutes, so that clients behind a load balancer spread over new
 * replicas; at most 1,000 calls in flight on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).
 */
export const CONNECTION_LIMITS = {
  "grpc.keepalive_time_ms": 60_000,
  "grpc.keepalive_timeout_ms": 20_000,
  "grpc.max_connection_idle_ms": 15 * 60_000,
  "grpc.max_connection_age_ms": 30 * 60_000,
  "grpc.max_concurrent_streams": 1_000,
} as const;

/** The options every vecrec gRPC server is built with. */
export function serverChannelOptions(): Record<string, number> {
  return { "grpc.max_receive_message_length": MAX_RECEIVE_MESSAGE_BYTES, ...CONNECTION_LIMITS };
}

/** What health follows: the store's availability (a store without it is always available). */
export type Availability = Pick<VectorStore, "isAvailable" | "onAvailabilityChange">;

export interface GrpcServerOptions {
  readonly useCases: UseCases;
  readonly availability: Availability;
  /** host:port, e.g. `127.0.0.1:50051`; port 0 picks a free port. */
  readonly listen: string;
  readonly logger: Logger;
  /** TLS (and mTLS with `clientCaFile`) on the listener, files re-read when they change; unset: plaintext. */
  readonly tls?: TlsFiles | undefined;
  /** `<token> <role>` file (auth-tokens.ts), re-read when it changes; unset: no authentication. */
  readonly authTokensFile?: string | undefined;
  /** Server reflection: on (default), off, or auth (needs a token). */
  readonly reflection?: ReflectionMode | undefined;
  /** Calls served at once (health excepted); more get RESOURCE_EXHAUSTED; default DEFAULT_MAX_CONCURRENT_CALLS. */
  readonly maxConcurrentCalls?: number | undefined;
  /**
   * host:port of a second listener, plaintext, serving grpc.health.v1 only (the same statuses): for
   * probes that speak no TLS nor tokens (Kubernetes gRPC probes, the Docker HEALTHCHECK) when the main
   * port has them. Port 0 picks a free port. Unset: no such listener.
   */
  readonly healthListen?: string | undefined;
  /** How often the TLS and tokens files are looked at for changes; default 1000 ms. */
  readonly filePollMs?: number | undefined;
  /**
   * Interceptors placed nearest the network, before the access control and the concurrency limit:
   * observability (src/observability/call-interceptor.ts), so that it sees every call, refused ones included.
   */
  readonly interceptors?: readonly ServerInterceptor[];
}

/** Default cap on concurrent calls per server process (--max-concurrent-calls). */
export const DEFAULT_MAX_CONCURRENT_CALLS = 1_000;

export interface RunningServer {
  /** The bound port. */
  readonly port: number;
  /** Whether the listener serves TLS. */
  readonly tls: boolean;
  /** The bound port of the health-only listener (`healthListen`), when there is one. */
  readonly healthPort: number | undefined;
  /** Re-reads the certificate files now (SIGHUP); they are also re-read when they change. */
  reload(): void;
  /**
   * Stops accepting calls, marks health NOT_SERVING, waits up to `graceMs` for in-flight calls, then
   * cuts the remaining ones. Does not close the store (the caller owns it). Idempotent.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Starts a server on `listen`. @throws Error when the address cannot be bound. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningServer> {
  const { useCases, availability, listen, logger } = options;
  const reflection = options.reflection ?? "on";
  // Read (and checked) before anything else: a bad certificate or tokens file stops the start.
  const tls: TlsCredentials | undefined = options.tls && createTlsCredentials(options.tls, logger, options.filePollMs);
  let tokens: TokenTable | undefined;
  try {
    tokens = options.authTokensFile === undefined ? undefined : loadTokenTable(options.authTokensFile, logger, options.filePollMs);
  } catch (error) {
    tls?.close();
    throw error;
  }
  if (tokens === undefined && reflection === "auth") {
    tls?.close();
    throw new Error("--reflection auth needs --auth-tokens-file (reflection would be refused to everyone)");
  }
  warnIfExposed(listen, { tls: tls !== undefined, tokens: tokens !== undefined }, logger);
  const limit = createConcurrencyLimit(options.maxConcurrentCalls ?? DEFAULT_MAX_CONCURRENT_CALLS);
  // Every call passes these in order: the first sees a call first (nearest the network) and its
  // status last. Access control first, so that refused calls take no slot of the limit.
  // The calls open to anyone (health, reflection) get bounds of their own (open-calls.ts).
  const openCalls = createOpenCallGuard(["", VECTOR_SERVICE_NAME]);
  const interceptors: ServerInterceptor[] = [
    // First: observability (metrics, span, access log) sees every call, refused ones included, and the
    // statuses grpc-js sends itself (it wraps the base call's, which only the first interceptor holds).
    ...(options.interceptors ?? []),
    openCalls.interceptor,
    ...(tokens === undefined ? [] : [createAuthInterceptor({ tokens, reflection, logger })]),
    limit.interceptor,
  ];
  const server = new Server({ ...serverChannelOptions(), interceptors });
  // Uploads (UpsertStream, large Upserts) flow while the handler works (receive-windows.ts).
  raiseStreamWindow(server);

  const handlers = createVectorServiceHandlers(useCases, logger);
  const pool = loadDescriptorPool();
  // Requests the decoder rejects get INVALID_ARGUMENT naming the field, not grpc-js's INTERNAL.
  server.addService(
    withTolerantDecoding(withUpsertDecoding(withReusedWriters(VectorServiceService)), (method) => pool.requestFieldNames(method)),
    handlers,
  );

  // Health follows the store: NOT_SERVING while its backend (Redis) is unreachable.
  const status = (available: boolean) => (available ? "SERVING" : "NOT_SERVING");
  const health = new HealthImplementation({ "": "SERVING", [VECTOR_SERVICE_NAME]: "SERVING" });
  const setHealth = (available: boolean): void => {
    health.setStatus("", status(available));
    health.setStatus(VECTOR_SERVICE_NAME, status(available));
  };
  // Subscribed before reading the state, so that no change falls between the two.
  const unsubscribe = availability.onAvailabilityChange?.(setHealth);
  setHealth(availability.isAvailable?.() ?? true);
  health.addToServer(server);
  if (reflection !== "off") addReflectionService(server, pool, logger);

  const healthServer =
    options.healthListen === undefined
      ? undefined
      : new Server({
          ...serverChannelOptions(),
          "grpc.max_receive_message_length": OPEN_CALL_MAX_MESSAGE_BYTES,
          interceptors: [...(options.interceptors ?? []), openCalls.interceptor],
        });
  if (healthServer) health.addToServer(healthServer);

  let port: number;
  let healthPort: number | undefined;
  try {
    port = await bind(server, listen, tls?.credentials ?? ServerCredentials.createInsecure(), "--listen / VECREC_LISTEN");
    raiseConnectionWindow(server);
    if (healthServer && options.healthListen !== undefined) {
      healthPort = await bind(healthServer, options.healthListen, ServerCredentials.createInsecure(), "--health-listen / VECREC_HEALTH_LISTEN");
    }
  } catch (error) {
    unsubscribe?.();
    tls?.close();
    tokens?.close();
    server.forceShutdown();
    healthServer?.forceShutdown();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    port,
    tls: tls !== undefined,
    healthPort,
    reload() {
      tls?.reload();
      tokens?.reload();
    },
    close({ graceMs = DEFAULT_SHUTDOWN_GRACE_MS } = {}) {
      closing ??= new Promise<void>((resolve) => {
        // For good: a reconnect during the drain must not turn it back to SERVING.
        unsubscribe?.();
        tls?.close();
        tokens?.close();
        health.setStatus("", "NOT_SERVING");
        health.setStatus(VECTOR_SERVICE_NAME, "NOT_SERVING");
        // Health calls are answered at once: the health listener just stops.
        healthServer?.forceShutdown();
        const timer = setTimeout(() => {
          logger.warn({ graceMs }, "in-flight calls did not finish in time: cutting them");
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}

/** A listener that could not be bound: which address, and which setting chose it. */
export class BindError extends Error {
  constructor(
    readonly address: string,
    /** The option and variable that set it, as the user would change them. */
    readonly setting: string,
    cause: Error,
  ) {
    super(cause.message, { cause });
    this.name = "BindError";
  }
}

/** Binds `server` on `listen`; resolves with the port. @throws BindError naming `setting` */
function bind(server: Server, listen: string, credentials: ServerCredentials, setting: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, credentials, (error, boundPort) => {
      if (error) reject(new BindError(listen, setting, error));
      else resolve(boundPort);
    });
  });
}

/** Whether `listen` binds a loopback address only. */
export function isLoopback(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(":")).replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::ffff:127.0.0.1";
}

/** Warns when the port is reachable from other machines without TLS or without tokens. */
function warnIfExposed(listen: string, secured: { tls: boolean; tokens: boolean }, logger: Logger): void {
  if (isLoopback(listen) || (secured.tls && secured.tokens)) return;
  const missing = [secured.tls ? undefined : "TLS (--tls-cert, --tls-key)", secured.tokens ? undefined : "tokens (--auth-tokens-file)"].filter(Boolean);
  logger.warn(
    { listen, tls: secured.tls, tokens: secured.tokens },
    `listening on a non-loopback address without ${missing.join(" and ")}: ` +
      (secured.tokens ? "calls and tokens travel in plaintext" : "any client that reaches the port can call every RPC, DropIndex included"),
  );
}
