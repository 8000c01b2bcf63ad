/**
 * Replays every recorded Redis 8.0.2 conformance scenario (RESP3 and RESP2) against the stand-in over a
 * raw socket and compares each reply with the recording (see shared/conformance/README.md). Fails on any
 * mismatch of a supported step; the steps the stand-in deliberately does not support are listed in
 * unsupported-steps.ts, and their number is asserted.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisStandIn, startRedisStandIn } from "../support/redis-standin/index.js";
import { type Encoded, type RawRespClient, connectRawResp } from "../support/redis-standin/raw-resp-client.js";
import { type StepFlags, compareReply } from "./compare-reply.js";
import { EXPECTED_UNSUPPORTED_COUNT, UNSUPPORTED_STEPS, unsupportedReason } from "./unsupported-steps.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const conformanceRoot = path.resolve(here, "../../../shared/conformance");
const FOLDERS = ["redis-8.0.2-resp3", "redis-8.0.2"] as const;

interface Step extends StepFlags {
  readonly cmd: ReadonlyArray<string | { base64: string }>;
  readonly reply: unknown;
  readonly pipelined?: readonly [number, number];
}
interface Scenario {
  readonly scenario: string;
  readonly fresh_connection?: boolean;
  readonly steps: readonly Step[];
}

const toArg = (a: string | { base64: string }): Buffer =>
  typeof a === "string" ? Buffer.from(a, "utf8") : Buffer.from(a.base64, "base64");

interface Tally {
  exact: number;
  relaxed: number;
  unsupported: number;
}
const tallies = new Map<string, Tally>();
const unsupportedSeen: string[] = [];
const unsupportedNowPassing: string[] = [];

const missing = !existsSync(conformanceRoot);
if (missing) {
  console.log(`[conformance] skipped: recordings not found at ${conformanceRoot} (expected shared/ beside the repo)`);
}

describe.skipIf(missing)("Redis 8.0.2 conformance replay against the stand-in", () => {
  let standIn: RedisStandIn;

  beforeAll(async () => {
    standIn = await startRedisStandIn();
  });

  afterAll(async () => {
    await standIn.close();
    const lines = [...tallies].map(
      ([folder, t]) => `  ${folder}: ${t.exact} exact, ${t.relaxed} relaxed, ${t.unsupported} unsupported`,
    );
    console.log(
      [
        "[conformance] replay results:",
        ...lines,
        `[conformance] unsupported steps (${UNSUPPORTED_STEPS.length} rules):`,
        ...UNSUPPORTED_STEPS.map((u) => `  ${u.file} steps ${u.steps.join(",")}${u.folder ? ` (${u.folder} only)` : ""}: ${u.reason}`),
      ].join("\n"),
    );
  });

  for (const folder of FOLDERS) {
    const dir = path.join(conformanceRoot, folder);
    const files = missing ? [] : readdirSync(dir).filter((f) => /^\d\d-.*\.json$/.test(f)).sort();
    const protocol = folder.endsWith("resp3") ? 3 : 2;
    tallies.set(folder, { exact: 0, relaxed: 0, unsupported: 0 });

    describe(folder, () => {
      for (const file of files) {
        it(`replays ${file}`, async () => {
          const scenario = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Scenario;
          const tally = tallies.get(folder) as Tally;
          const admin = await connectRawResp(standIn.port);
          const [flushed] = await admin.send([[Buffer.from("FLUSHALL")]]);
          expect(flushed).toEqual({ status: "OK" });
          await admin.close();

          let conn: RawRespClient = await connectRawResp(standIn.port);
          if (protocol === 3 && !scenario.fresh_connection) {
            const [hello] = await conn.send([[Buffer.from("HELLO"), Buffer.from("3")]]);
            expect(hello).toMatchObject({ map: expect.any(Array) as unknown });
          }
          const mismatches: string[] = [];
          const steps = scenario.steps;
          let i = 0;
          while (i < steps.length) {
            const first = steps[i] as Step;
            const n = first.pipelined && first.pipelined[0] === 1 ? first.pipelined[1] : 1;
            const batch = steps.slice(i, i + n);
            const replies: Encoded[] = await conn.send(batch.map((s) => s.cmd.map(toArg)));
            batch.forEach((step, j) => {
              const index = i + j;
              const name = (typeof step.cmd[0] === "string" ? step.cmd[0] : "").toUpperCase();
              const outcome = compareReply(name, step.reply, replies[j] as Encoded, step);
              const reason = unsupportedReason(folder, file, index);
              const label = `${folder}/${file} step ${index} (${step.cmd.slice(0, 3).map((c) => (typeof c === "string" ? c : "<blob>")).join(" ")})`;
              if (reason !== undefined) {
                tally.unsupported += 1;
                unsupportedSeen.push(label);
                if (outcome.kind !== "mismatch") unsupportedNowPassing.push(label);
              } else if (outcome.kind === "mismatch") {
                mismatches.push(`${label}: ${(outcome.detail ?? "").slice(0, 700)}`);
              } else {
                tally[outcome.kind] += 1;
              }
            });
            i += n;
            if (name(batch[batch.length - 1]) === "QUIT") {
              await conn.close();
              conn = await connectRawResp(standIn.port);
            }
          }
          await conn.close();
          expect(mismatches, mismatches.join("\n")).toEqual([]);
        });
      }
    });
  }

  it("has exactly the expected unsupported steps, none of which secretly pass", () => {
    expect(unsupportedNowPassing, `remove these from unsupported-steps.ts:\n${unsupportedNowPassing.join("\n")}`).toEqual([]);
    expect(unsupportedSeen.length).toBe(EXPECTED_UNSUPPORTED_COUNT);
    const total = [...tallies.values()].reduce((s, t) => s + t.exact + t.relaxed, 0);
    // Both 8.0.2 folders hold 658 + 656 steps; everything not listed as unsupported must have matched.
    expect(total + unsupportedSeen.length).toBe(658 + 656);
  });
});

function name(step: Step | undefined): string {
  const c = step?.cmd[0];
  return typeof c === "string" ? c.toUpperCase() : "";
}
