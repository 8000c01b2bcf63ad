/**
 * The cost of the front door (README "Security"): GetIndex over gRPC on loopback (grpc-js client, an
 * in-process server on the embedded engine) plaintext without tokens, against mTLS with a token
 * checked on every call. Latency at c=1 (median, p99) and throughput at c=16, alternated runs.
 * Certificates made at run time (test/support/test-certificates.ts).
 *
 *   npx tsx bench/security.ts [seconds per run]   (default 3)
 */
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { VectorServiceClient } from "../src/gen/vecrec/v1/vecrec.js";
import { startServer } from "../src/main.js";
import { createEmbeddedStore } from "../src/store/embedded/embedded-store.js";
import { createAuthority } from "../test/support/test-certificates.js";

const seconds = Number(process.argv[2] ?? "3");
const TOKEN = "bench-token-0123456789abcdef0123";
const dir = mkdtempSync(join(tmpdir(), "vecrec-secbench-"));
const ca = await createAuthority("bench CA");
const serverPem = await ca.issue("vecrec", "server");
const clientPem = await ca.issue("bench", "client");
for (const [name, text] of Object.entries({ "s.pem": serverPem.cert, "s.key": serverPem.key, "ca.pem": ca.cert, tokens: `${TOKEN} admin\n` })) {
  writeFileSync(join(dir, name), text);
}
const logger = pino({ level: "silent" });
const store = createEmbeddedStore();
await store.createIndex({
  name: "bench",
  fields: [{ name: "vec", type: "vector", dimension: 4, algorithm: "FLAT", metric: "COSINE", elementType: "FLOAT32" }],
});
const plain = await startServer({ store, listen: "127.0.0.1:0", logger });
const secured = await startServer({
  store,
  listen: "127.0.0.1:0",
  logger,
  security: { tls: { certFile: join(dir, "s.pem"), keyFile: join(dir, "s.key"), clientCaFile: join(dir, "ca.pem") }, authTokensFile: join(dir, "tokens") },
});

interface Target {
  readonly name: string;
  readonly client: VectorServiceClient;
  readonly metadata: Metadata;
}
const targets: Target[] = [
  { name: "plaintext, no tokens", client: new VectorServiceClient(`127.0.0.1:${plain.port}`, credentials.createInsecure()), metadata: new Metadata() },
  {
    name: "mTLS + token",
    client: new VectorServiceClient(
      `127.0.0.1:${secured.port}`,
      credentials.createSsl(Buffer.from(ca.cert), Buffer.from(clientPem.key), Buffer.from(clientPem.cert)),
      { "grpc.ssl_target_name_override": "localhost" },
    ),
    metadata: (() => {
      const m = new Metadata();
      m.set("authorization", `Bearer ${TOKEN}`);
      return m;
    })(),
  },
];

const once = (t: Target): Promise<void> =>
  new Promise((resolve, reject) => t.client.getIndex({ indexName: "bench" }, t.metadata, (error: ServiceError | null) => (error ? reject(error) : resolve())));

async function run(t: Target, concurrency: number): Promise<{ calls: number; latencies: number[] }> {
  const end = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const start = performance.now();
        await once(t);
        latencies.push(performance.now() - start);
      }
    }),
  );
  return { calls: latencies.length, latencies: latencies.sort((a, b) => a - b) };
}

for (const t of targets) for (let i = 0; i < 200; i++) await once(t); // warm-up: connections, JIT
const rows: string[] = [];
for (let round = 1; round <= 2; round++) {
  for (const t of targets) {
    const c1 = await run(t, 1);
    const c16 = await run(t, 16);
    const q = (p: number) => c1.latencies[Math.min(c1.latencies.length - 1, Math.floor(p * c1.latencies.length))]?.toFixed(3);
    rows.push(`| ${round} | ${t.name} | ${q(0.5)} | ${q(0.99)} | ${Math.round(c16.calls / seconds)} |`);
  }
}
console.log("| round | front door | c=1 median ms | c=1 p99 ms | c=16 calls/s |\n|---|---|---|---|---|\n" + rows.join("\n"));
for (const t of targets) t.client.close();
await plain.close({ graceMs: 500 });
await secured.close({ graceMs: 500 });
await store.close();
rmSync(dir, { recursive: true, force: true });
