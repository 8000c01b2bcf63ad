/**
 * Progress of a long command on stderr: a bar with rate and ETA when stderr is a terminal (cli-progress),
 * nothing while it runs otherwise (a log or a pipe gets the one summary line the command prints at the end).
 */
import { SingleBar } from "cli-progress";

export interface Progress {
  /** `done` of `total` units (bytes of the input, or items), `items` so far. */
  update(done: number, items: number): void;
  stop(): void;
}

export function startProgress(total: number, unit: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled || total <= 0) return { update: () => undefined, stop: () => undefined };
  const started = performance.now();
  const bar = new SingleBar(
    {
      format: `{bar} {percentage}% | {items} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    undefined,
  );
  bar.start(total, 0, { items: 0, rate: 0 });
  return {
    update(done, items) {
      const seconds = (performance.now() - started) / 1000;
      bar.update(Math.min(done, total), { items, rate: seconds > 0 ? Math.round(items / seconds) : 0 });
    },
    stop() {
      bar.stop();
    },
  };
}
