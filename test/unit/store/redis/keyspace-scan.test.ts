import { describe, expect, it } from "vitest";
import type { RedisCommand, RedisConnection } from "../../../../src/store/redis/connection.js";
import { anyMatching } from "../../../../src/store/redis/keyspace-scan.js";
import type { Reply } from "../../../../src/store/redis/reply-parsers.js";

/**
 * A connection whose primaries each answer SCAN from a list of pages (the keys each SCAN call returns,
 * the last page with cursor 0), after `delayMs`; `sent` counts the SCANs.
 */
function fakeConnection(primaries: readonly (readonly string[])[][], delayMs = 0): { connection: RedisConnection; sent: () => number } {
  let sent = 0;
  const senders = primaries.map((pages) => async (command: RedisCommand): Promise<Reply> => {
    sent++;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const at = Number(String(command[1]));
    const next = at + 1 < pages.length ? String(at + 1) : "0";
    return [next, [...(pages[at] ?? [])]];
  });
  const connection = { primaries: () => Promise.resolve(senders) } as unknown as RedisConnection;
  return { connection, sent: () => sent };
}

describe("anyMatching", () => {
  it("walks every primary's SCAN pages until the first key, and stops there", async () => {
    const { connection, sent } = fakeConnection([
      [[], [], []],
      [[], ["p:a"], [], ["p:b"]],
    ]);
    expect(await anyMatching(connection, "p:*")).toBe(true);
    // Three pages of the first primary, two of the second.
    expect(sent()).toBe(5);
  });

  it("is false when no primary has a matching key, after every page of every primary", async () => {
    const { connection, sent } = fakeConnection([[[], []], [[]], [[], [], []]]);
    expect(await anyMatching(connection, "p:*")).toBe(false);
    expect(sent()).toBe(6);
  });

  it("gives up (undefined) once its time is over, sending no further SCAN", async () => {
    const pages = Array.from({ length: 1000 }, () => []);
    const { connection, sent } = fakeConnection([pages], 5);
    expect(await anyMatching(connection, "p:*", { giveUpAfterMs: 30 })).toBeUndefined();
    expect(sent()).toBeGreaterThan(0);
    expect(sent()).toBeLessThan(1000);
  });
});
