/**
 * The access log is written in batches (src/observability/logging.ts): a line of a quiet server still
 * shows within the flush interval, and on SIGTERM every call answered before the signal has its line on
 * stdout before the process exits (nothing buffered is lost).
 */
import { credentials } from "@grpc/grpc-js";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { VectorServiceClient } from "../../src/gen/vecrec/v1/vecrec.js";
import { unary } from "./harness.js";

function startMain(args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    env: { ...process.env, VECREC_LISTEN: "", VECREC_REDIS_URL: "", VECREC_LOG_LEVEL: "", VECREC_DATA_DIR: "", VECREC_IN_MEMORY: "true", VECREC_METRICS_LISTEN: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

interface LogEntry {
  readonly msg?: string;
  readonly method?: string;
  readonly index?: string;
  readonly address?: string;
}

describe("access log lines", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("show promptly on a quiet server, and all are written before the exit on SIGTERM", async () => {
    const child = startMain(["--listen", "127.0.0.1:0", "--log-level", "info"]);
    children.push(child);
    const entries: LogEntry[] = [];
    let onEntry: (() => void) | undefined;
    const reader = createInterface({ input: child.stdout! });
    const stdoutEnded = once(reader, "close");
    reader.on("line", (line) => {
      entries.push(JSON.parse(line) as LogEntry);
      onEntry?.();
    });
    const until = (predicate: () => boolean, what: string): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
        const check = (): void => {
          if (!predicate()) return;
          clearTimeout(timer);
          onEntry = undefined;
          resolve();
        };
        onEntry = check;
        check();
      });
    await until(() => entries.some((e) => typeof e.address === "string"), "the listening line");
    const address = entries.find((e) => typeof e.address === "string")!.address!;
    const client = new VectorServiceClient(address, credentials.createInsecure());
    const calls = (): LogEntry[] => entries.filter((e) => e.msg === "call" && e.method === "GetIndex");

    // Quiet: one call, its line arrives without more traffic (the buffer is flushed on a timer).
    await unary((cb) => client.getIndex({ indexName: "quiet" }, cb)).catch(() => undefined);
    await until(() => calls().length === 1, "the access line of a single call");

    // A burst answered, then SIGTERM at once: every line is on stdout before the exit.
    const burst = 200;
    for (let i = 0; i < burst; i++) await unary((cb) => client.getIndex({ indexName: `burst-${i}` }, cb)).catch(() => undefined);
    client.close();
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    await stdoutEnded;
    const burstLines = calls().filter((e) => e.index?.startsWith("burst-"));
    expect(burstLines).toHaveLength(burst);
    expect(new Set(burstLines.map((e) => e.index)).size).toBe(burst);
    expect(entries.at(-1)?.msg).toBe("stopped");
  });
});
