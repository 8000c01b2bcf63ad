/**
 * Work a call leaves for after its reply: its access log line and its spans (call-trace.ts). The
 * tasks of every call that ended in one turn of the event loop run together in the next turn
 * (setImmediate: after the reply's bytes were handed to the socket, which grpc-js's HTTP/2 session does
 * in the same turn), so the client has its answer while they run. Tasks catch their own errors (a task
 * that still throws is reported as a process warning and does not stop the others).
 */
const pending: (() => void)[] = [];

export function afterReply(task: () => void): void {
  if (pending.push(task) === 1) setImmediate(runPending);
}

function runPending(): void {
  const tasks = pending.splice(0);
  for (const task of tasks) {
    try {
      task();
    } catch (error) {
      process.emitWarning(error instanceof Error ? error : String(error), "VecrecAfterReplyWarning");
    }
  }
}
