/**
 * Benchmark parts that must run in a process of their own (the vecrec server, so that its CPU time is
 * its own; the embedded engine's memory figures, under --expose-gc), with an IPC channel, asked one
 * question at a time.
 *
 * The child runs compiled JavaScript, as `npm start` does (tsc's output), not TypeScript through tsx:
 * tsx compiles with esbuild's `keepNames`, which wraps every named function and closure in a `__name`
 * call (an Object.defineProperty) each time it is created, a cost per call that production does not pay
 * (4-5 µs per traced Search, 0.3 µs per upserted item in the profiles). src/ and bench/ are transpiled
 * file by file with esbuild (no bundling, so every module keeps its path and its `import.meta.url`) into
 * node_modules/.cache/vecrec-bench-<pid>/ once per bench process, removed at its exit.
 * `VECREC_BENCH_TSX=1` runs the children through tsx instead.
 */
import { buildSync } from "esbuild";
import { fork, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The tree this file runs from: the repository, or (in a child) the compiled copy of it. */
const tree = fileURLToPath(new URL("..", import.meta.url));
/** Running compiled, in a bench child that starts children of its own (the durable engine's). */
const runningCompiled = /[\\/]node_modules[\\/]\.cache[\\/]vecrec-bench-\d+[\\/]?$/.test(tree);
const repoRoot = runningCompiled ? path.resolve(tree, "..", "..", "..") : tree;

let compiledRoot: string | undefined;

/** src/ and bench/ transpiled to JavaScript (once per process); the folder that holds them. */
function compiled(): string {
  if (compiledRoot !== undefined) return compiledRoot;
  const out = path.join(repoRoot, "node_modules", ".cache", `vecrec-bench-${process.pid}`);
  const sources = ["src", "bench"].flatMap((folder) =>
    readdirSync(path.join(repoRoot, folder), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
      .map((file) => path.join(repoRoot, folder, file)),
  );
  buildSync({ entryPoints: sources, outdir: out, outbase: repoRoot, format: "esm", platform: "node", target: "node20", logLevel: "error" });
  // What the compiled modules read beside them: the descriptor set (reflection) and the package's version.
  mkdirSync(path.join(out, "src", "gen"), { recursive: true });
  copyFileSync(path.join(repoRoot, "src", "gen", "vecrec.binpb"), path.join(out, "src", "gen", "vecrec.binpb"));
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { name: string; version: string };
  writeFileSync(path.join(out, "package.json"), JSON.stringify({ name: pkg.name, version: pkg.version, type: "module" }));
  process.once("exit", () => rmSync(out, { recursive: true, force: true }));
  compiledRoot = out;
  return out;
}

/**
 * Node's flags for a vecrec server as `npm start` runs it: the words between `exec node` and
 * `dist/src/main.js` in package.json's start script (the Dockerfile's CMD carries the same, a test checks
 * it). The children that run a vecrec server get them, so that the bench measures the server as shipped.
 */
export function serverNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { scripts: { start: string } };
  return parseServerNodeFlags(pkg.scripts.start);
}

/** The node flags of a start command `... exec node <flags> dist/src/main.js`; throws when it has another shape. */
export function parseServerNodeFlags(start: string): string[] {
  const match = /\bexec node((?: --?[\w-]+(?:=\S+)?)*) dist\/src\/main\.js$/.exec(start);
  if (match === null) throw new Error(`package.json's start script is not "... exec node [flags] dist/src/main.js": ${start}`);
  return match[1]!.split(" ").filter((word) => word !== "");
}

/** How to run `script` (a path relative to bench/, `./x.ts`): the compiled file and node's flags. */
function childCommand(script: string, nodeFlags: readonly string[]): { file: string; execArgv: string[] } {
  // A compiled child starting a child: the compiled copy is already there, beside this file.
  if (runningCompiled) return { file: fileURLToPath(new URL(script.replace(/\.ts$/, ".js"), import.meta.url)), execArgv: [...nodeFlags] };
  const source = fileURLToPath(new URL(script, import.meta.url));
  if (process.env.VECREC_BENCH_TSX === "1") return { file: source, execArgv: [...nodeFlags, "--import", "tsx"] };
  const file = path.join(compiled(), path.relative(repoRoot, source)).replace(/\.ts$/, ".js");
  return { file, execArgv: [...nodeFlags] };
}

export interface BenchChild {
  /** Sends `message` and resolves with the child's next message. */
  ask<T>(message: unknown): Promise<T>;
  /** The child's first message (sent once it is ready). */
  readonly ready: Promise<unknown>;
  /** Asks the child to stop (message `{type: "stop"}`) and waits for it to exit. */
  stop(): Promise<void>;
}

export function startChild(script: string, args: readonly string[], nodeFlags: readonly string[] = []): BenchChild {
  const { file, execArgv } = childCommand(script, nodeFlags);
  const child: ChildProcess = fork(file, [...args], {
    cwd: repoRoot,
    execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const next = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        child.off("exit", onExit);
        resolve(message as T);
      };
      const onExit = (code: number | null): void => {
        child.off("message", onMessage);
        reject(new Error(`bench child ${script} exited (${code}) before answering`));
      };
      child.once("message", onMessage);
      child.once("exit", onExit);
    });
  const ready = next();
  return {
    ready,
    async ask<T>(message: unknown): Promise<T> {
      const answer = next<T>();
      child.send(message as object);
      return answer;
    },
    async stop(): Promise<void> {
      if (child.exitCode === null && child.connected) child.send({ type: "stop" });
      await exited;
    },
  };
}

/** A vecrec server process as `npm start` runs it (src/main.ts, compiled like the children). */
export interface VecrecProcess {
  readonly port: number;
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `src/main.ts` with `args` (its flags; `--listen 127.0.0.1:<a free port>` is added) and resolves
 * once it accepts connections (within 30 s). For what only the whole server does: `--workers`.
 */
export async function startVecrecProcess(args: readonly string[]): Promise<VecrecProcess> {
  const port = await freePort();
  const { file, execArgv } = childCommand("../src/main.ts", serverNodeFlags());
  const child = spawn(process.execPath, [...execArgv, file, ...args, "--listen", `127.0.0.1:${port}`], {
    cwd: repoRoot,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vecrec ${args.join(" ")} exited (${child.exitCode}) before listening`);
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`vecrec ${args.join(" ")} did not listen within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
