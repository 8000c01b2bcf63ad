/**
 * The node flags the server runs with (the young generation's size: README "Memory and the young
 * generation") are written in two places a user starts it from, package.json's start script and the
 * Dockerfile's CMD, and the bench reads them from the former to run its servers as shipped: the two must
 * say the same.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseServerNodeFlags, serverNodeFlags } from "../../../bench/child-process.js";

const root = path.resolve(import.meta.dirname, "../../..");

/** The exec form of the Dockerfile's CMD. */
function dockerCmd(): string[] {
  const line = readFileSync(path.join(root, "Dockerfile"), "utf8")
    .split("\n")
    .find((l) => l.startsWith("CMD "));
  if (line === undefined) throw new Error("the Dockerfile has no CMD");
  return JSON.parse(line.slice("CMD ".length)) as string[];
}

describe("the server's node flags", () => {
  it("npm start sets the young generation's size", () => {
    expect(serverNodeFlags()).toContain("--max-semi-space-size=64");
  });

  it("the Docker image runs node with the same flags as npm start", () => {
    expect(dockerCmd()).toEqual(["node", ...serverNodeFlags(), "dist/src/main.js"]);
  });

  it("reads the flags between `exec node` and dist/src/main.js, and refuses another shape", () => {
    expect(parseServerNodeFlags("node scripts/build-if-stale.mjs && exec node dist/src/main.js")).toEqual([]);
    expect(parseServerNodeFlags("x && exec node --max-semi-space-size=64 --no-warnings dist/src/main.js")).toEqual(["--max-semi-space-size=64", "--no-warnings"]);
    expect(() => parseServerNodeFlags("node dist/src/main.js")).toThrow(/start script/);
    expect(() => parseServerNodeFlags("exec node dist/src/main.js --workers 2")).toThrow(/start script/);
  });
});
