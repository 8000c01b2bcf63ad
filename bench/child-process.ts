/**
 * Benchmark parts that must run in a process of their own (the vecrec server, so that its CPU time is
 * its own; the embedded engine's memory figures, under --expose-gc): `node --import tsx <script>` with an
 * IPC channel, asked one question at a time.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

export interface BenchChild {
  /** Sends `message` and resolves with the child's next message. */
  ask<T>(message: unknown): Promise<T>;
  /** The child's first message (sent once it is ready). */
  readonly ready: Promise<unknown>;
  /** Asks the child to stop (message `{type: "stop"}`) and waits for it to exit. */
  stop(): Promise<void>;
}

export function startChild(script: string, args: readonly string[], nodeFlags: readonly string[] = []): BenchChild {
  const child: ChildProcess = fork(fileURLToPath(new URL(script, import.meta.url)), [...args], {
    cwd: repoRoot,
    execArgv: [...nodeFlags, "--import", "tsx"],
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
