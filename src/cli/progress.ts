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

/** `total` undefined: not known ahead (a filtered export), so a count and a rate without a bar. */
export function startProgress(total: number | undefined, unit: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled || (total !== undefined && total <= 0)) return { update: () => undefined, stop: () => undefined };
  const started = performance.now();
  const bar = new SingleBar(
    {
      format: total === undefined ? `{items} ${unit} | {rate} ${unit}/s` : `{bar} {percentage}% | {items} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    undefined,
  );
  const end = total ?? Number.MAX_SAFE_INTEGER;
  bar.start(end, 0, { items: 0, rate: 0 });
  return {
    update(done, items) {
      const seconds = (performance.now() - started) / 1000;
      bar.update(Math.min(done, end), { items, rate: seconds > 0 ? Math.round(items / seconds) : 0 });
    },
    stop() {
      bar.stop();
    },
  };
}
