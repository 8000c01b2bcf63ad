/**
 * CommandBound: every Redis command raced against its call's signal and a maximum. Many commands of
 * one call (an Upsert of 1,000 items) share one abort listener on that call's signal.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { CancelledError, UnavailableError } from "../../../../src/domain/errors.js";
import { CommandBound } from "../../../../src/store/redis/command-bound.js";

const never = (): Promise<never> => new Promise<never>(() => undefined);

describe("CommandBound", () => {
  it("puts one abort listener on a signal however many commands wait on it, and rejects them all when it aborts", async () => {
    const bound = new CommandBound(60_000);
    const controller = new AbortController();
    const waiting = Array.from({ length: 1000 }, () => bound.run(never, controller.signal));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort();
    const outcomes = await Promise.allSettled(waiting);
    expect(outcomes.every((o) => o.status === "rejected" && o.reason instanceof CancelledError)).toBe(true);
  });

  it("forgets a command once it answers, so a later abort touches only those still waiting", async () => {
    const bound = new CommandBound(60_000);
    const controller = new AbortController();
    const answered = await bound.run(() => Promise.resolve("OK"), controller.signal);
    expect(answered).toBe("OK");
    const pending = bound.run(never, controller.signal);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });

  it("sends nothing for an aborted signal, and gives up on a silent Redis at the maximum", async () => {
    const bound = new CommandBound(30);
    const controller = new AbortController();
    controller.abort();
    let sent = false;
    await expect(
      bound.run(() => {
        sent = true;
        return Promise.resolve(1);
      }, controller.signal),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(sent).toBe(false);
    await expect(bound.run(never)).rejects.toBeInstanceOf(UnavailableError);
  });

  it("expires exactly the commands still waiting at the maximum, whichever of them answered or were cancelled first, and keeps working after", async () => {
    const bound = new CommandBound(40);
    const controller = new AbortController();
    let answer: (value: string) => void = () => undefined;
    const first = bound.run(never);
    const answeredLater = bound.run(() => new Promise<string>((resolve) => (answer = resolve)));
    const middle = bound.run(never);
    const cancelled = bound.run(never, controller.signal);
    const last = bound.run(never);
    answer("OK");
    controller.abort();
    const outcomes = await Promise.allSettled([first, answeredLater, middle, cancelled, last]);
    expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value : (o.reason as Error).constructor.name))).toEqual([
      "UnavailableError",
      "OK",
      "UnavailableError",
      "CancelledError",
      "UnavailableError",
    ]);
    // The list emptied: a new command is bounded again, and one that answers is not expired.
    await expect(bound.run(never)).rejects.toBeInstanceOf(UnavailableError);
    await expect(bound.run(() => Promise.resolve(7))).resolves.toBe(7);
  });
});
