/** CPU time of this process's main thread, for the bench's children. */
import { readFileSync } from "node:fs";

/**
 * CPU time of the main (JavaScript) thread so far, ms, from /proc (Linux; clock ticks of 10 ms: good
 * over thousands of calls); NaN elsewhere. The rest of the process's CPU is V8's helper threads (garbage
 * collection, compilation) and libuv's pool.
 */
export function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, at 100 ticks a second
  } catch {
    return Number.NaN;
  }
}
