/**
 * Replays the Redis OSS Cluster recordings (recordings/redis-7.4.1-search-2.10.32-cluster and
 * -cluster-resp3, see recordings/README.md "Cluster recordings") against the stand-in cluster over raw
 * sockets: one connection per node, each step sent to its `node`, FLUSHALL on every node before each
 * scenario, `HELLO 3` first on every connection of the RESP3 folder. Placeholders are replaced by the
 * stand-in's ids and ports (cluster-compare.ts), cursor ids are taken from the stand-in's own replies
 * (`cursor_from`). Fails on any mismatch of a supported step; the steps the stand-in deliberately
 * does not reproduce are listed in cluster-unsupported-steps.ts, and their number is asserted.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisStandInCluster, startRedisStandInCluster } from "../support/redis-standin/cluster.js";
import { type Encoded, type RawRespClient, connectRawResp } from "../support/redis-standin/raw-resp-client.js";
import { compareClusterReply } from "./cluster-compare.js";
import {
  CLUSTER_UNSUPPORTED_STEPS,
  EXPECTED_CLUSTER_UNSUPPORTED_COUNT,
  clusterUnsupportedReason,
} from "./cluster-unsupported-steps.js";
import type { StepFlags } from "./compare-reply.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const recordings = path.join(here, "recordings");
const FOLDERS = ["redis-7.4.1-search-2.10.32-cluster", "redis-7.4.1-search-2.10.32-cluster-resp3"] as const;

interface Step extends StepFlags {
  readonly cmd: ReadonlyArray<string | { base64: string }>;
  readonly reply: unknown;
  readonly node: number;
  readonly pipelined?: readonly [number, number];
  readonly cursor_from?: number;
}
interface Scenario {
  readonly scenario: string;
  readonly steps: readonly Step[];
}

interface Tally {
  exact: number;
  relaxed: number;
  unsupported: number;
}
const tallies = new Map<string, Tally>();
const unsupportedSeen: string[] = [];
const unsupportedNowPassing: string[] = [];
let stepsSeen = 0;
/** CLUSTER_REPLAY_VERBOSE=1 lists every step that matched only under a relaxation. */
const verbose = process.env.CLUSTER_REPLAY_VERBOSE === "1";

const text = (a: string | { base64: string }): string => (typeof a === "string" ? a : "<blob>");
const toArg = (a: string | { base64: string }): Buffer =>
  typeof a === "string" ? Buffer.from(a, "utf8") : Buffer.from(a.base64, "base64");

/** The cursor id at the end of a `[page, id]` reply. */
const cursorIdOf = (reply: unknown): number | undefined =>
  Array.isArray(reply) && typeof reply[reply.length - 1] === "number" ? (reply[reply.length - 1] as number) : undefined;

const missing = FOLDERS.some((f) => !existsSync(path.join(recordings, f)));
if (missing) console.log(`[cluster conformance] skipped: cluster recordings not found under ${recordings}`);

describe.skipIf(missing)("Redis 7.4.1 cluster conformance replay against the stand-in cluster", () => {
  let cluster: RedisStandInCluster;

  beforeAll(async () => {
    cluster = await startRedisStandInCluster();
  });

  afterAll(async () => {
    await cluster.close();
    const lines = [...tallies].map(([folder, t]) => `  ${folder}: ${t.exact} exact, ${t.relaxed} relaxed, ${t.unsupported} unsupported`);
    console.log(
      [
        "[cluster conformance] replay results:",
        ...lines,
        `[cluster conformance] unsupported steps (${CLUSTER_UNSUPPORTED_STEPS.length} rules):`,
        ...CLUSTER_UNSUPPORTED_STEPS.map((u) => `  ${u.file} steps ${u.steps.join(",")}${u.folder ? ` (${u.folder} only)` : ""}: ${u.reason}`),
      ].join("\n"),
    );
  });

  for (const folder of FOLDERS) {
    const dir = path.join(recordings, folder);
    const files = missing ? [] : readdirSync(dir).filter((f) => /^c\d\d-.*\.json$/.test(f)).sort();
    const resp3 = folder.endsWith("resp3");
    tallies.set(folder, { exact: 0, relaxed: 0, unsupported: 0 });

    describe(folder, () => {
      for (const file of files) {
        it(`replays cluster scenario ${file}`, async () => {
          const scenario = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Scenario;
          const tally = tallies.get(folder) as Tally;
          const nodeValues = cluster.nodes.map((n) => ({ id: n.id, shardId: n.shardId, port: n.port, busPort: n.busPort }));
          const conns: RawRespClient[] = [];
          try {
            for (const node of cluster.nodes) {
              const conn = await connectRawResp(node.port);
              conns.push(conn);
              const [flushed] = await conn.send([[Buffer.from("FLUSHALL")]]);
              expect(flushed).toEqual({ status: "OK" });
              if (resp3) {
                const [hello] = await conn.send([[Buffer.from("HELLO"), Buffer.from("3")]]);
                expect(hello).toMatchObject({ map: expect.any(Array) as unknown });
              }
            }
            const mismatches: string[] = [];
            const replies: Encoded[] = [];
            const steps = scenario.steps;
            let i = 0;
            while (i < steps.length) {
              const first = steps[i] as Step;
              const n = first.pipelined && first.pipelined[0] === 1 ? first.pipelined[1] : 1;
              const batch = steps.slice(i, i + n);
              const commands = batch.map((step) => {
                let args = step.cmd.map(toArg);
                if (step.cursor_from !== undefined) {
                  // The recorded cursor id is replaced by the one the stand-in handed out.
                  const recordedId = cursorIdOf(steps[step.cursor_from - 1]?.reply);
                  const actualId = cursorIdOf(replies[step.cursor_from - 1]);
                  if (recordedId !== undefined && actualId !== undefined) {
                    args = args.map((a) => (a.toString("utf8") === String(recordedId) ? Buffer.from(String(actualId)) : a));
                  }
                }
                return args;
              });
              const conn = conns[first.node] as RawRespClient;
              const got = await conn.send(commands);
              batch.forEach((step, j) => {
                const index = i + j;
                const actual = got[j] as Encoded;
                replies[index] = actual;
                stepsSeen += 1;
                const cmd = step.cmd.map(text);
                const outcome = compareClusterReply(cmd, step.reply, actual, step, nodeValues);
                const reason = clusterUnsupportedReason(folder, file, index);
                const label = `${folder}/${file} step ${index} (node ${step.node}: ${cmd.slice(0, 3).join(" ")})`;
                if (reason !== undefined) {
                  tally.unsupported += 1;
                  unsupportedSeen.push(label);
                  if (outcome.kind !== "mismatch") unsupportedNowPassing.push(label);
                } else if (outcome.kind === "mismatch") {
                  mismatches.push(`${label}: ${(outcome.detail ?? "").slice(0, 700)}`);
                } else {
                  tally[outcome.kind] += 1;
                  if (verbose && outcome.kind === "relaxed") console.log(`[cluster conformance] relaxed: ${label}`);
                }
              });
              i += n;
            }
            expect(mismatches, mismatches.join("\n")).toEqual([]);
          } finally {
            for (const c of conns) await c.close();
          }
        });
      }
    });
  }

  it("has exactly the expected cluster unsupported steps, none of which secretly pass", () => {
    expect(unsupportedNowPassing, `remove these from cluster-unsupported-steps.ts:\n${unsupportedNowPassing.join("\n")}`).toEqual([]);
    expect(unsupportedSeen.length).toBe(EXPECTED_CLUSTER_UNSUPPORTED_COUNT);
    const matched = [...tallies.values()].reduce((s, t) => s + t.exact + t.relaxed, 0);
    // Both cluster folders hold 447 steps each; everything not listed as unsupported must have matched.
    expect(stepsSeen).toBe(2 * 447);
    expect(matched + unsupportedSeen.length).toBe(2 * 447);
  });
});
