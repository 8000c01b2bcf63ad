/**
 * CallAbortSignal: the AbortSignal a call's code gets (call-signal.ts), a plain object because Node 20
 * promotes every real AbortSignal to the old generation. It must behave as an AbortSignal wherever
 * vecrec and Node's duck-typing APIs use one.
 */
import { EventEmitter, once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import { CallAbortSignal, isAbortSignal } from "../../../src/grpc/call-abort-signal.js";

describe("CallAbortSignal", () => {
  it("starts not aborted, then carries its reason, and throwIfAborted throws it", () => {
    const signal = new CallAbortSignal();
    expect(signal.aborted).toBe(false);
    expect(() => signal.throwIfAborted()).not.toThrow();
    const reason = new Error("gone");
    signal.abort(reason);
    signal.abort(new Error("second"));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(() => signal.throwIfAborted()).toThrow(reason);
  });

  it("calls each abort listener once, in order, with the signal as this and an abort Event; onabort too", () => {
    const signal = new CallAbortSignal();
    const seen: string[] = [];
    const first = function (this: unknown, event: Event): void {
      seen.push(`first ${event.type} ${this === signal}`);
    };
    signal.addEventListener("abort", first);
    signal.addEventListener("abort", first); // the same listener again: ignored
    signal.addEventListener("abort", { handleEvent: (event: Event) => seen.push(`object ${event.type}`) });
    signal.addEventListener("other", () => seen.push("other"));
    signal.onabort = () => seen.push("onabort");
    signal.abort("why");
    signal.abort("again");
    expect(seen).toEqual(["onabort", "first abort true", "object abort"]);
  });

  it("does not call a removed listener, one removed by an earlier listener, nor one added during the abort", () => {
    const signal = new CallAbortSignal();
    const seen: string[] = [];
    const removed = (): void => void seen.push("removed");
    const removedByFirst = (): void => void seen.push("removedByFirst");
    signal.addEventListener("abort", removed);
    signal.removeEventListener("abort", removed);
    signal.addEventListener("abort", () => {
      seen.push("first");
      signal.removeEventListener("abort", removedByFirst);
      signal.addEventListener("abort", () => seen.push("added during"));
    });
    signal.addEventListener("abort", removedByFirst);
    signal.abort("why");
    expect(seen).toEqual(["first"]);
  });

  it("drops a listener registered with `once` after the abort, and one whose own `signal` option aborted", () => {
    const signal = new CallAbortSignal();
    const remover = new AbortController();
    const seen: string[] = [];
    signal.addEventListener("abort", () => seen.push("once"), { once: true });
    signal.addEventListener("abort", () => seen.push("removed by its signal"), { signal: remover.signal });
    remover.abort();
    signal.abort("why");
    expect(seen).toEqual(["once"]);
  });

  it("works as the signal of events.once: rejects with an AbortError once aborted, and leaves no listener when the event comes", async () => {
    const signal = new CallAbortSignal();
    const emitter = new EventEmitter();
    const waiting = once(emitter, "drain", { signal });
    signal.abort(new Error("cancelled"));
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });

    const other = new CallAbortSignal();
    const added = vi.spyOn(other, "addEventListener");
    const removed = vi.spyOn(other, "removeEventListener");
    const drained = once(emitter, "drain", { signal: other });
    emitter.emit("drain");
    await expect(drained).resolves.toEqual([]);
    // The abort listener events.once added is the one it removed.
    expect(added).toHaveBeenCalledTimes(1);
    expect(removed).toHaveBeenCalledTimes(1);
    expect(removed.mock.calls[0]?.slice(0, 2)).toEqual(["abort", added.mock.calls[0]?.[1]]);
  });

  it("works as the signal of timers/promises", async () => {
    const signal = new CallAbortSignal();
    const sleeping = sleep(10_000, undefined, { signal });
    signal.abort(new Error("stop"));
    await expect(sleeping).rejects.toMatchObject({ name: "AbortError" });
  });

  it("is recognised as an AbortSignal by isAbortSignal, as Node's own signals are, and nothing else is", () => {
    expect(isAbortSignal(new CallAbortSignal())).toBe(true);
    expect(isAbortSignal(new AbortController().signal)).toBe(true);
    expect(isAbortSignal({ aborted: false })).toBe(false);
    expect(isAbortSignal(undefined)).toBe(false);
  });
});
