import { credentials } from "@grpc/grpc-js";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { VectorServiceClient } from "../../src/gen/vecrec/v1/vecrec.js";
import { unary } from "./harness.js";

/** Runs src/main.ts the way `npm start` runs the compiled file (through tsx, without a build). */
function startMain(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    // In memory: a test never leaves a ./vecrec-data behind (test/e2e/durable-restart.test.ts uses temp dirs).
    env: { ...process.env, VECREC_LISTEN: "", VECREC_REDIS_URL: "", VECREC_LOG_LEVEL: "", VECREC_DATA_DIR: "", VECREC_IN_MEMORY: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Log lines (pino JSON) of the process, as they come. */
function logLines(child: ChildProcess): AsyncIterableIterator<string> {
  if (!child.stdout) throw new Error("no stdout");
  return createInterface({ input: child.stdout })[Symbol.asyncIterator]();
}

describe("the vecrec process", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("logs its address and backend, serves, and exits 0 on SIGTERM", async () => {
    const child = startMain(["--listen", "127.0.0.1:0", "--log-level", "info"]);
    children.push(child);
    const lines = logLines(child);
    const logs: Record<string, unknown>[] = [];
    let address: string | undefined;
    for await (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (typeof entry.address === "string") {
        address = entry.address;
        break;
      }
    }
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(logs.some((l) => String(l.msg).includes("in memory only"))).toBe(true);
    expect(logs.at(-1)?.backend).toBe("embedded");

    const client = new VectorServiceClient(address as string, credentials.createInsecure());
    const listed = await unary<{ indexes: unknown[] }>((cb) => client.listIndexes({}, cb));
    expect(listed.indexes).toEqual([]);
    client.close();

    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });

  it("exits 2 with a clear message on bad configuration", async () => {
    const child = startMain([], { VECREC_REDIS_URL: "http://nope", VECREC_LOG_LEVEL: "chatty" });
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toContain("--redis-url / VECREC_REDIS_URL");
    expect(stderr).toContain("--log-level / VECREC_LOG_LEVEL");
  });
});
