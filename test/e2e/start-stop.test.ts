/**
 * `npm start` as a supervisor runs it: the build happens only when dist/ is stale, `--version`
 * answers without serving, killing the PID the supervisor holds (npm's) stops the server, with SIGTERM
 * (npm forwards it to node, which the start script `exec`s) and with SIGKILL (node sees its parent
 * gone), and a port in use is one sentence on stderr and exit code 1.
 */
import { DEFAULT_SCAN_THREADS } from "../../src/store/embedded/embedded-store.js";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageVersion } from "../../src/version.js";

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
// In memory: no ./vecrec-data left in the repo, and no lock shared between the tests of this file.
const cleanEnv = { ...process.env, VECREC_LISTEN: "", VECREC_REDIS_URL: "", VECREC_LOG_LEVEL: "", VECREC_WORKERS: "", VECREC_DATA_DIR: "", VECREC_IN_MEMORY: "true" };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

/** Starts `npm start -- <args>` and resolves once the server logged its address, with the node PID. */
async function npmStart(args: string[]): Promise<{ npm: ChildProcess; nodePid: number; logs: Record<string, unknown>[] }> {
  const npm = spawn(NPM, ["start", "--silent", "--", ...args], { env: cleanEnv, stdio: ["ignore", "pipe", "pipe"] });
  const logs: Record<string, unknown>[] = [];
  if (!npm.stdout) throw new Error("no stdout");
  const lines = createInterface({ input: npm.stdout });
  const listening = new Promise<number>((resolve, reject) => {
    lines.on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (typeof entry.address === "string" && typeof entry.pid === "number") resolve(entry.pid);
    });
    npm.once("exit", (code) => reject(new Error(`npm start exited (${String(code)}) before listening`)));
  });
  return { npm, nodePid: await listening, logs };
}

describe("npm start, stop and --version", () => {
  const started: number[] = [];
  beforeAll(() => {
    // A fresh clone has no dist/: build it once (what `npm start` would do first).
    const build = spawnSync(process.execPath, ["scripts/build-if-stale.mjs"], { stdio: "inherit" });
    expect(build.status).toBe(0);
  }, 180_000);
  afterAll(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
  });

  it("npm start -- --version prints the package version and exits 0, without serving", async () => {
    const child = spawn(NPM, ["start", "--silent", "--", "--version"], { env: cleanEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(packageVersion());
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    it(`${signal} to the PID of npm start stops the server`, async () => {
      const scanThreads = signal === "SIGTERM" ? ["--scan-threads", "2"] : [];
      const { npm, nodePid, logs } = await npmStart(["--listen", "127.0.0.1:0", ...scanThreads]);
      started.push(nodePid);
      // The listening line tells how many scan threads the embedded engine shares large scans with.
      const listening = logs.find((l) => typeof l.address === "string");
      expect(listening?.scanThreads).toBe(signal === "SIGTERM" ? 2 : DEFAULT_SCAN_THREADS);
      expect(nodePid).not.toBe(npm.pid);
      expect(alive(nodePid)).toBe(true);
      npm.kill(signal);
      // SIGTERM: npm forwards it to node; SIGKILL: node notices its parent is gone within ~1 s.
      expect(await waitUntil(() => !alive(nodePid), 15_000)).toBe(true);
      await waitUntil(() => logs.some((l) => l.msg === "stopped"), 2_000);
      expect(logs.some((l) => l.msg === "stopped")).toBe(true);
    }, 30_000);
  }

  it("a port in use is one sentence on stderr and exit code 1", async () => {
    const holder: Server = createServer();
    holder.listen(0, "127.0.0.1");
    await once(holder, "listening");
    const { port } = holder.address() as { port: number };
    try {
      const child = spawn(process.execPath, ["dist/src/main.js", "--listen", `127.0.0.1:${port}`], {
        env: cleanEnv,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code).toBe(1);
      const lines = stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(
        `vecrec: cannot listen on 127.0.0.1:${port}: the address is already in use (another process holds the port); ` +
          "stop it or choose another address with --listen / VECREC_LISTEN",
      );
    } finally {
      holder.close();
    }
  });
});
