/**
 * Replays the recorded standalone conformance scenarios of Redis 8.0.2 and of Redis 7.4.1 + RediSearch
 * 2.10.32 (RESP3 and RESP2 each) against the stand-in over a raw socket and compares each reply with
 * the recording (see recordings/README.md). The recordings are part of the repository, so this never
 * skips. Fails on any mismatch of a supported step; the steps the stand-in deliberately does not
 * reproduce are listed in unsupported-steps.ts, their number is asserted per folder, and a listed step
 * that starts to match fails too. Where a rule says the stand-in follows 8.0.2, its reply must match the
 * 8.0.2 recording of the same step instead. VERSION-DIFFERENCES.md lists where 7.4.1 and 8.0.2 differ.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisStandIn, startRedisStandIn } from "../support/redis-standin/index.js";
import { type Encoded, type RawRespClient, connectRawResp } from "../support/redis-standin/raw-resp-client.js";
import { type StepFlags, compareReply } from "./compare-reply.js";
import {
  EXPECTED_UNSUPPORTED_BY_FOLDER,
  EXPECTED_UNSUPPORTED_COUNT,
  UNSUPPORTED_STEPS,
  type UnsupportedRule,
  followedFolder,
  unsupportedRule,
} from "./unsupported-steps.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const conformanceRoot = path.resolve(here, "recordings");

/** The replayed folders with their total number of steps (the sum of `steps` in their index.json). */
const STEP_COUNTS: Readonly<Record<string, number>> = {
  "redis-8.0.2-resp3": 658,
  "redis-8.0.2": 656,
  "redis-7.4.1-search-2.10.32-resp3": 808,
  "redis-7.4.1-search-2.10.32": 806,
};
const FOLDERS = Object.keys(STEP_COUNTS);

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
interface FolderIndex {
  readonly protocol: string;
  readonly scenarios: ReadonlyArray<{ readonly file: string; readonly steps: number }>;
}

const readJson = <T,>(...parts: string[]): T => JSON.parse(readFileSync(path.join(conformanceRoot, ...parts), "utf8")) as T;

const toArg = (a: string | { base64: string }): Buffer =>
  typeof a === "string" ? Buffer.from(a, "utf8") : Buffer.from(a.base64, "base64");

interface Tally {
  exact: number;
  relaxed: number;
  unsupported: number;
  steps: number;
}
const tallies = new Map<string, Tally>();
const unsupportedSeen: string[] = [];
const unsupportedNowPassing: string[] = [];
const rulesUsed = new Set<UnsupportedRule>();

describe("Redis 8.0.2 and 7.4.1 conformance replay against the stand-in", () => {
  let standIn: RedisStandIn;

  beforeAll(async () => {
    standIn = await startRedisStandIn();
  });

  afterAll(async () => {
    await standIn.close();
    const lines = [...tallies].map(
      ([folder, t]) => `  ${folder}: ${t.exact} exact, ${t.relaxed} relaxed, ${t.unsupported} unsupported (${t.steps} steps)`,
    );
    const folders = (u: UnsupportedRule): string =>
      u.folder === undefined ? "" : ` (${typeof u.folder === "string" ? u.folder : u.folder.join(", ")} only)`;
    console.log(
      [
        "[conformance] replay results:",
        ...lines,
        `[conformance] unsupported steps (${UNSUPPORTED_STEPS.length} rules):`,
        ...UNSUPPORTED_STEPS.map((u) => `  ${u.file} steps ${u.steps.join(",")}${folders(u)}: ${u.reason}`),
      ].join("\n"),
    );
  });

  for (const folder of FOLDERS) {
    const index = readJson<FolderIndex>(folder, "index.json");
    const files = readdirSync(path.join(conformanceRoot, folder))
      .filter((f) => /^\d\d-.*\.json$/.test(f))
      .sort();
    const protocol = folder.endsWith("resp3") ? 3 : 2;
    tallies.set(folder, { exact: 0, relaxed: 0, unsupported: 0, steps: 0 });

    describe(folder, () => {
      it("holds the scenarios its index.json lists, in the protocol its name says", () => {
        expect(files).toEqual(index.scenarios.map((s) => s.file).sort());
        expect(index.protocol).toBe(`RESP${protocol}`);
        expect(index.scenarios.reduce((n, s) => n + s.steps, 0)).toBe(STEP_COUNTS[folder]);
      });

      for (const file of files) {
        it(`replays ${file}`, async () => {
          const scenario = readJson<Scenario>(folder, file);
          const tally = tallies.get(folder) as Tally;
          tally.steps += scenario.steps.length;
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
              const at = i + j;
              const cmdName = name(step);
              const actual = replies[j] as Encoded;
              const outcome = compareReply(cmdName, step.reply, actual, step);
              const rule = unsupportedRule(folder, file, at);
              const label = `${folder}/${file} step ${at} (${step.cmd.slice(0, 3).map((c) => (typeof c === "string" ? c : "<blob>")).join(" ")})`;
              if (rule !== undefined) {
                rulesUsed.add(rule);
                tally.unsupported += 1;
                unsupportedSeen.push(label);
                if (outcome.kind !== "mismatch") unsupportedNowPassing.push(label);
                const instead = insteadOf(rule, folder, file, at, step);
                if (typeof instead === "string") {
                  mismatches.push(`${label}: ${instead}`);
                } else if (instead !== undefined) {
                  const other = compareReply(cmdName, instead.reply, actual, instead.flags);
                  if (other.kind === "mismatch") {
                    mismatches.push(`${label}: listed as answered like ${instead.source}, but: ${(other.detail ?? "").slice(0, 700)}`);
                  }
                }
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
    const unused = UNSUPPORTED_STEPS.filter((r) => !rulesUsed.has(r));
    expect(unused.map((r) => `${r.file} ${r.steps.join(",")}`), "rules that matched no step").toEqual([]);
    for (const folder of FOLDERS) {
      const t = tallies.get(folder) as Tally;
      expect({ folder, unsupported: t.unsupported }).toEqual({ folder, unsupported: EXPECTED_UNSUPPORTED_BY_FOLDER[folder] });
      // Every step not listed as unsupported must have matched.
      expect({ folder, steps: t.exact + t.relaxed + t.unsupported }).toEqual({ folder, steps: STEP_COUNTS[folder] });
    }
    expect(unsupportedSeen.length).toBe(EXPECTED_UNSUPPORTED_COUNT);
  });
});

/**
 * What the stand-in must answer instead for a listed step: the followed recording's step (checked to
 * be the same command), or the rule's rewrite of the recorded reply; a string describes a broken rule.
 */
function insteadOf(
  rule: UnsupportedRule,
  folder: string,
  file: string,
  at: number,
  step: Step,
): { reply: unknown; flags: StepFlags; source: string } | string | undefined {
  const followed = followedFolder(rule, folder);
  if (followed !== undefined) {
    const other = readJson<Scenario>(followed, file).steps[at];
    if (other === undefined || JSON.stringify(other.cmd) !== JSON.stringify(step.cmd)) {
      return `rule says the stand-in follows ${followed}, but its step ${at} is another command`;
    }
    return { reply: other.reply, flags: other, source: `${followed}/${file} step ${at}` };
  }
  if (rule.instead !== undefined) return { reply: rule.instead(step.reply), flags: step, source: "the rule's rewrite of the recording" };
  return undefined;
}

function name(step: Step | undefined): string {
  const c = step?.cmd[0];
  return typeof c === "string" ? c.toUpperCase() : "";
}
