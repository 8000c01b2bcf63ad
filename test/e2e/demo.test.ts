/**
 * `npm run demo` (scripts/demo.ts) runs to the end against its own in-process server and prints the
 * walk-through the README points to.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Outcome {
  readonly exitCode: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the demo the way `npm run demo` does (tsx, no build); resolves whatever its exit code. */
function runDemo(): Promise<Outcome> {
  // Without VECREC_ADDR the demo starts its own server on 127.0.0.1:0 and stops it before exiting.
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.VECREC_ADDR;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/demo.ts"],
      // SIGKILL on timeout: a hung demo must not outlive the test run.
      { cwd: ROOT, env, timeout: 60_000, killSignal: "SIGKILL", maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : (error.code ?? error.signal ?? "failed to run");
        resolve({ exitCode, stdout, stderr });
      },
    );
  });
}

/** The demo's output cut at its "== title" headings: title -> the lines under it (blank lines dropped). */
function sections(stdout: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split("\n")) {
    if (line.startsWith("== ")) {
      current = [];
      result.set(line.slice(3), current);
    } else if (line.trim() !== "") current?.push(line);
  }
  return result;
}

function section(all: Map<string, string[]>, titleStart: string): string[] {
  const entry = [...all.entries()].find(([title]) => title.startsWith(titleStart));
  if (!entry) throw new Error(`no section "${titleStart}..." in the demo output; sections: ${[...all.keys()].join(" | ")}`);
  return entry[1];
}

describe("npm run demo", () => {
  it("walks through index, search and recommendations, and exits 0", { timeout: 70_000 }, async () => {
    const { exitCode, stdout, stderr } = await runDemo();
    expect(exitCode, `demo output:\n${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/started an in-process server on 127\.0\.0\.1:\d+/);
    const all = sections(stdout);

    // user:2 ([0.8, 0.6, 0.1]) is the closest to user:1 ([0.9, 0.7, 0.2]), then user:6.
    const neighbours = section(all, "The 2 nearest neighbours of user:1");
    expect(neighbours).toHaveLength(2);
    expect(neighbours[0]).toMatch(/^\s*#1 user:2\s+distance \d/);
    expect(neighbours[1]).toMatch(/^\s*#2 user:\d+\s+distance \d/);

    // Each recommendation is explained: the neighbours it comes from, their similarity and share.
    const recommendations = section(all, "Recommendations for user:1");
    const items = recommendations.filter((l) => /^\s*#\d+ \S+\s+score \d/.test(l));
    expect(items.length).toBeGreaterThan(0);
    expect(items[0]).toMatch(/^\s*#1 /);
    recommendations.forEach((l, n) => {
      if (!items.includes(l)) return;
      expect(recommendations[n + 1], `an explanation under "${l.trim()}"`).toMatch(/\d+% from user:\d+ \(similarity [\d.]+, distance /);
    });
    expect(recommendations.join("\n")).not.toContain("book:the-hobbit"); // user:1 owns it

    expect(stdout.trimEnd().split("\n").at(-1)).toBe("demo finished");
  });
});
