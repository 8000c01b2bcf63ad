/**
 * The container's HEALTHCHECK (an equivalent of grpc_health_probe that ships in the image, with no
 * binary to download): asks the grpc.health.v1 service of the vecrec listening on this machine for the
 * whole server's status and exits 0 when it is SERVING, 1 otherwise (NOT_SERVING while Redis is
 * unreachable, not answering within 2 s, not listening). Prints one line either way.
 *
 *   node dist/src/health-probe.js [host:port]   # default: 127.0.0.1:<port of VECREC_LISTEN, or 50051>
 */
import { credentials, makeGenericClientConstructor, type Client, type ServiceError } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { fileURLToPath } from "node:url";

type HealthClient = Client & {
  check(
    request: { service: string },
    options: { deadline: number },
    callback: (error: ServiceError | null, response: { status: string | number }) => void,
  ): void;
};

/**
 * The address to probe: the argument, else loopback on the port of the plaintext health listener
 * (VECREC_HEALTH_LISTEN, for a main port with TLS), else on the port vecrec listens on.
 */
export function probeAddress(argument: string | undefined, env: NodeJS.ProcessEnv): string {
  if (argument !== undefined && argument !== "") return argument;
  const listen = (env.VECREC_HEALTH_LISTEN || env.VECREC_LISTEN) ?? "";
  const port = /:(\d+)$/.exec(listen)?.[1] ?? "50051";
  return `127.0.0.1:${port}`;
}

/** Resolves with the status name ("SERVING", "NOT_SERVING"...) or rejects with the call's error. */
export function checkHealth(address: string, timeoutMs = 2000): Promise<string> {
  const Health = makeGenericClientConstructor(healthService, "Health");
  const client = new Health(address, credentials.createInsecure()) as unknown as HealthClient;
  return new Promise<string>((resolve, reject) => {
    client.check({ service: "" }, { deadline: Date.now() + timeoutMs }, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(String(response.status));
    });
  });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const address = probeAddress(process.argv[2], process.env);
  checkHealth(address).then(
    (status) => {
      process.stdout.write(`${address}: ${status}\n`);
      process.exit(status === "SERVING" ? 0 : 1);
    },
    (error: unknown) => {
      process.stdout.write(`${address}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
