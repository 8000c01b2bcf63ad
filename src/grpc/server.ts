/**
 * The gRPC server: VectorService over the use cases it is given, grpc.health.v1 (following the
 * store's availability) and server reflection (v1 and v1alpha). `startGrpcServer` binds and returns
 * once the server is listening; src/main.ts builds what it serves.
 */
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "pino";
import { VectorServiceService } from "../gen/vecrec/v1/vecrec.js";
import type { VectorStore } from "../store/vector-store.js";
import type { UseCases } from "../usecases/use-cases.js";
import { addReflectionService, loadDescriptorPool } from "./reflection-service.js";
import { withTolerantDecoding } from "./request-decoding.js";
import { createVectorServiceHandlers } from "./vector-service-handlers.js";

export const VECTOR_SERVICE_NAME = "vecrec.v1.VectorService";
/**
 * Time given to in-flight calls on shutdown before they are cut: under the 10 s `docker stop` waits
 * before SIGKILL (Kubernetes waits 30 s), leaving time to close the store.
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 8_000;
/** An Upsert of 10000 items of 1536 float32 dimensions is ~62 MB: allow it (grpc-js defaults to 4 MB). */
export const MAX_RECEIVE_MESSAGE_BYTES = 128 * 1024 * 1024;

/** What health follows: the store's availability (a store without it is always available). */
export type Availability = Pick<VectorStore, "isAvailable" | "onAvailabilityChange">;

export interface GrpcServerOptions {
  readonly useCases: UseCases;
  readonly availability: Availability;
  /** host:port, e.g. `127.0.0.1:50051`; port 0 picks a free port. */
  readonly listen: string;
  readonly logger: Logger;
}

export interface RunningServer {
  /** The bound port. */
  readonly port: number;
  /**
   * Stops accepting calls, marks health NOT_SERVING, waits up to `graceMs` for in-flight calls, then
   * cuts the remaining ones. Does not close the store (the caller owns it). Idempotent.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Starts a server on `listen`. @throws Error when the address cannot be bound. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningServer> {
  const { useCases, availability, listen, logger } = options;
  const server = new Server({ "grpc.max_receive_message_length": MAX_RECEIVE_MESSAGE_BYTES });

  const handlers = createVectorServiceHandlers(useCases, logger);
  const pool = loadDescriptorPool();
  // Requests the decoder rejects get INVALID_ARGUMENT naming the field, not grpc-js's INTERNAL.
  server.addService(
    withTolerantDecoding(VectorServiceService, (method) => pool.requestFieldNames(method)),
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
  addReflectionService(server, pool, logger);

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(listen, ServerCredentials.createInsecure(), (error, boundPort) => {
        if (error) reject(error);
        else resolve(boundPort);
      });
    });
  } catch (error) {
    unsubscribe?.();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    port,
    close({ graceMs = DEFAULT_SHUTDOWN_GRACE_MS } = {}) {
      closing ??= new Promise<void>((resolve) => {
        // For good: a reconnect during the drain must not turn it back to SERVING.
        unsubscribe?.();
        health.setStatus("", "NOT_SERVING");
        health.setStatus(VECTOR_SERVICE_NAME, "NOT_SERVING");
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
