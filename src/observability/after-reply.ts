/**
 * Work a call leaves for after its reply: its access log line and its spans (call-trace.ts). The
 * tasks of every call that ended in one turn of the event loop run together two turns later, once the
 * reply's last frames are on the socket: a call's status reaches the client in its HTTP/2 trailers, which
 * Node writes from the session's own "immediate" callbacks after grpc-js ends the stream (ending the
 * stream schedules one, writing the trailers another). Run in the next turn, the tasks ran before the
 * trailers were written and their time was added to the call's latency at the client (measured: tracing
 * on cost 4.5-5.5% of an embedded Search's median latency this way, 2.1-2.4% two turns later). Tasks
 * catch their own errors (a task that still throws is reported as a process warning and does not stop
 * the others).
 */
const pending: (() => void)[] = [];

export function afterReply(task: () => void): void {
  if (pending.push(task) === 1) setImmediate(runNextTurn);
}

/** Resolves once the tasks left so far have run (tests, and flushing before a stop). */
export function afterRepliesRun(): Promise<void> {
  return new Promise((resolve) => afterReply(resolve));
}

function runNextTurn(): void {
  setImmediate(runPending);
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
