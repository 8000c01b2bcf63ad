/**
 * Work a call leaves for after its reply: its access log line and its spans (call-trace.ts). The
 * tasks of every call that ended in one turn of the event loop run together two turns later, once the
 * reply's last frames are on the socket: a call's status reaches the client in its HTTP/2 trailers, and
 * Node's HTTP/2 sends trailers from a setImmediate of its own (`finishSendTrailers`, "so we don't do it on
 * nghttp2 stack"), queued when nghttp2 asks for them while writing the call's last data, after grpc-js
 * ended the stream. Run in the next turn, the tasks ran before that immediate and their time was added to
 * the call's latency at the client (seen with strace: the trailers' write came after the task's;
 * measured: tracing on cost 4.5-5.5% of an embedded Search's median latency this way, 2.1-2.4% two turns
 * later). Tasks catch their own errors (a task that still throws is reported as a process warning and
 * does not stop the others).
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
