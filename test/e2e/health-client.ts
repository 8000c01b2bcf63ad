/**
 * A grpc.health.v1 client for the e2e tests: `check(service)` answers the serving status
 * ("SERVING", "NOT_SERVING"...) of a vecrec server, and `eventually` polls a condition without a fixed sleep.
 */
import { credentials, makeGenericClientConstructor, type Client, type ServiceError } from "@grpc/grpc-js";
import { service as healthServiceDefinition } from "grpc-health-check";

type RawHealthClient = Client & {
  check(req: { service: string }, cb: (e: ServiceError | null, r: { status: string | number }) => void): void;
};

export interface HealthChecker {
  /** The status of `service` ("" = the whole server). */
  check(service: string): Promise<string | number>;
  close(): void;
}

export function healthChecker(address: string): HealthChecker {
  const Health = makeGenericClientConstructor(healthServiceDefinition, "Health");
  const client = new Health(address, credentials.createInsecure()) as unknown as RawHealthClient;
  return {
    check: (service) =>
      new Promise((resolve, reject) => client.check({ service }, (error, response) => (error ? reject(error) : resolve(response.status)))),
    close: () => client.close(),
  };
}

/** Polls `probe` every 25 ms until it returns true; fails after `attempts` tries (no fixed sleep). */
export async function eventually(probe: () => Promise<boolean>, attempts = 400): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`condition not met after ${attempts} attempts`);
}
