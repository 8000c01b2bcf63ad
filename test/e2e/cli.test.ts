/**
 * The `vecrec` CLI end to end against a real server on every backend of the stand-in suite (embedded,
 * Redis stand-in standalone and cluster; real servers when configured): load of a 100k-item JSON Lines
 * file (4 dimensions, to keep the stand-in fast) with the non-terminal summary line, bad rows reported
 * by line while the good ones load, export re-loaded into another index giving identical Search results,
 * a load that fails midway resumed from its checkpoint, `npx vecrec` through the bin shim, and the
 * progress bar drawn on a pseudo-terminal (util-linux `script`).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/domain/errors.js";
import { runCli } from "../../src/cli/main.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { BACKENDS, overrideStore, startHarness, type Harness } from "./harness.js";

const run = promisify(execFile);
const ITEMS = 100_000;
const DIM = 4;

/** Runs the CLI in this process; returns its exit code and output lines. */
async function cli(address: string, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["node", "vecrec", "--address", address, ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

function vectorOf(i: number): number[] {
  return [Math.sin(i), Math.cos(i * 0.7), ((i % 97) - 48) / 50, (i % 13) / 13 + 0.01];
}

// Every backend: the embedded engine, the stand-in standalone and cluster, real servers when configured.
const CLI_BACKENDS = BACKENDS;

describe.each(CLI_BACKENDS)("vecrec CLI ($name)", { timeout: 180_000 }, (backend) => {
  let h: Harness;
  let dir: string;
  let failAfter: number | undefined;
  let upserts = 0;
  const index = `cli_${Date.now().toString(36)}`;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "vecrec-cli-"));
    h = await startHarness(backend, {
      wrapStore: (store: VectorStore) =>
        overrideStore(store, {
          async upsert(name, items, options) {
            upserts++;
            if (failAfter !== undefined && upserts > failAfter) throw new UnavailableError("Redis is not answering (test)");
            return store.upsert(name, items, options);
          },
        }),
    });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`loads ${ITEMS} items from JSON Lines, printing one summary line off a terminal`, async () => {
    const file = path.join(dir, "items.jsonl");
    const lines: string[] = [];
    for (let i = 0; i < ITEMS; i++) {
      lines.push(JSON.stringify({ id: `item-${i}`, vector: vectorOf(i), fields: { labels: [`c${i % 8}`], time: i, descr: `item number ${i}` } }));
    }
    writeFileSync(file, `${lines.join("\n")}\n`);
    const loaded = await cli(h.address, "load", index, file, "--create-index", "--dim", String(DIM), "--tag", "labels", "--numeric", "time", "--text", "descr");
    expect(loaded.err.filter((l) => !l.startsWith("created index"))).toEqual([]);
    expect(loaded.code).toBe(0);
    expect(loaded.out).toHaveLength(1);
    expect(loaded.out[0]).toMatch(new RegExp(`^loaded ${ITEMS} items into ${index} from .*items\\.jsonl, 0 rejected, in [\\d.]+ s \\(\\d+ items/s\\)$`));
    expect(existsSync(`${file}.vecrec-checkpoint.json`)).toBe(false);
    const listed = await cli(h.address, "--json", "indexes", "list");
    const info = (JSON.parse(listed.out[0] ?? "[]") as { indexName: string; itemCount: number | string }[]).find((i) => i.indexName === index);
    expect(Number(info?.itemCount)).toBe(ITEMS);
  });

  it("loads the good rows of a file with bad ones and reports the bad ones by line", async () => {
    const file = path.join(dir, "bad.jsonl");
    writeFileSync(
      file,
      [
        JSON.stringify({ id: "good-1", vector: [1, 0, 0, 0], fields: { time: 1 } }),
        "{not json",
        JSON.stringify({ id: "short", vector: [1, 0] }),
        JSON.stringify({ id: "good-2", vector: [0, 1, 0, 0], fields: { labels: "a,b" } }),
        JSON.stringify({ id: "nan-time", vector: [0, 0, 1, 0], fields: { time: "soon" } }),
        JSON.stringify({ id: "unknown-field", vector: [0, 0, 1, 0], fields: { nope: "x" } }),
        JSON.stringify({ id: "good-3", vector: [0, 0, 0, 1] }),
      ].join("\n"),
    );
    const result = await cli(h.address, "load", index, file);
    expect(result.code).toBe(2);
    expect(result.out[0]).toMatch(/^loaded 3 items into .* 4 rejected/);
    // Rows that cannot be read are reported at once, the server's rejections when acknowledged.
    const byLine = [...result.err].sort();
    expect(byLine.map((l) => /^line (\d+)/.exec(l)?.[1])).toEqual(["2", "3", "5", "6"]);
    expect(byLine[0]).toContain("not JSON");
    expect(byLine[1]).toMatch(/^line 3 \(id "short"\): items\[\d+\]\.vector: /);
    expect(byLine[2]).toContain('field "time" is NUMERIC');
    expect(byLine[3]).toContain('unknown field "nope"');
    const got = await cli(h.address, "--json", "search", index, "--filter", "@labels:{b}", "-k", "5");
    expect(got.out.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(["good-2"]);
  });

  it("lists an index with its aliases, and gets it through one", async () => {
    const alias = `${index}_live`;
    await h.store.createAlias(alias, index);
    try {
      const listed = await cli(h.address, "indexes", "list");
      expect(listed.out.find((l) => l.startsWith(`${index}\t`))).toMatch(new RegExp(`\taliases: ${alias}$`));
      const got = await cli(h.address, "--json", "indexes", "get", alias);
      expect(JSON.parse(got.out.join("\n"))).toMatchObject({ indexName: index, aliases: [alias] });
    } finally {
      await h.store.deleteAlias(alias);
    }
  });

  it("exports an index (filtered: one label of 8) and re-loads it into another with identical Search results", async () => {
    const exported = path.join(dir, "export.jsonl.gz");
    const out = await cli(h.address, "export", index, exported, "--filter", "@labels:{c3}");
    expect(out.code).toBe(0);
    expect(out.err[0]).toMatch(new RegExp(`^exported ${ITEMS / 8} items of ${index} to `));
    const copy = `${index}_copy`;
    const reloaded = await cli(h.address, "load", copy, exported, "--create-index", "--dim", String(DIM), "--tag", "labels", "--numeric", "time", "--text", "descr");
    expect(reloaded.code).toBe(0);
    expect(reloaded.out[0]).toMatch(new RegExp(`^loaded ${ITEMS / 8} items into ${copy}`));
    for (const [i, filter] of [[5, "@labels:{c3}"], [77, "@labels:{c3} @time:[100 50000]"], [4242, "@labels:{c3} -@time:[0 9000]"]] as const) {
      const query = ["--vector", JSON.stringify(vectorOf(i + 0.5)), "-k", "10", "--filter", filter, "--with-vectors"];
      const a = await cli(h.address, "--json", "search", index, ...query);
      const b = await cli(h.address, "--json", "search", copy, ...query);
      expect(a.out.length).toBe(10);
      expect(b.out).toEqual(a.out);
    }
  });

  it("resumes a load that failed midway from its checkpoint, without duplicates", async () => {
    const file = path.join(dir, "resume.jsonl");
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: `r-${i}`, vector: vectorOf(i), fields: { time: i } }));
    writeFileSync(file, lines.join("\n"));
    const target = `${index}_resume`;
    upserts = 0;
    failAfter = 2;
    const first = await cli(h.address, "load", target, file, "--create-index", "--dim", String(DIM), "--numeric", "time", "--batch", "1000");
    failAfter = undefined;
    expect(first.code).toBe(1);
    expect(first.err.at(-1)).toMatch(/^vecrec: (UNAVAILABLE|CANCELLED): .*everything up to line 2000 is stored; run the same command again to resume/);
    expect(JSON.parse(readFileSync(`${file}.vecrec-checkpoint.json`, "utf8"))).toMatchObject({ line: 2000 });
    const second = await cli(h.address, "load", target, file, "--batch", "1000");
    expect(second.code).toBe(0);
    expect(second.err[0]).toMatch(/^resuming after line 2000/);
    expect(second.out[0]).toMatch(/^loaded 5000 items into .*, 0 rejected, resumed after line 2000/);
    const info = await cli(h.address, "indexes", "get", target);
    expect(Number((JSON.parse(info.out.join("\n")) as { itemCount: string }).itemCount)).toBe(5000);
  });
});

describe("npx vecrec (the bin shim)", () => {
  it("runs from a clone through tsx, with one clear line and a non-zero exit on errors", async () => {
    const bin = path.resolve("bin/vecrec.mjs");
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { bin?: Record<string, string> };
    expect(pkg.bin?.vecrec).toBe("bin/vecrec.mjs");
    const help = await run(process.execPath, [bin, "--help"]);
    expect(help.stdout).toContain("load [options] <index> <file>");
    const failed = await run(process.execPath, [bin, "--address", "127.0.0.1:1", "indexes", "list"]).catch((e: { code: number; stderr: string }) => e);
    expect("code" in failed && failed.code).toBe(1);
    expect(failed.stderr.trim().split("\n")).toHaveLength(1);
    expect(failed.stderr).toMatch(/^vecrec: UNAVAILABLE: cannot reach a vecrec server at 127\.0\.0\.1:1/);
  });
});

// `script` (util-linux) runs the CLI on a pseudo-terminal and copies what it draws to its stdout.
const scriptBinary = ["/usr/bin/script", "/bin/script"].find((candidate) => existsSync(candidate));
const TERMINAL_SKIP = "no `script` (util-linux) on this machine: the progress bar on a terminal is not tested";
if (scriptBinary === undefined) console.log(`e2e: ${TERMINAL_SKIP}`);

describe.skipIf(scriptBinary === undefined)(`vecrec load on a terminal${scriptBinary === undefined ? ` (${TERMINAL_SKIP})` : ""}`, { timeout: 120_000 }, () => {
  it("draws a progress bar with the items loaded, their rate and an ETA, and ends at 100%", async () => {
    const h = await startHarness(BACKENDS[0]!); // the embedded engine
    const dir = mkdtempSync(path.join(tmpdir(), "vecrec-cli-tty-"));
    try {
      const items = 20_000;
      const file = path.join(dir, "items.jsonl");
      const lines = Array.from({ length: items }, (_, i) => JSON.stringify({ id: `item-${i}`, vector: vectorOf(i), fields: { labels: [`c${i % 8}`] } }));
      writeFileSync(file, `${lines.join("\n")}\n`);
      const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`;
      const command = [process.execPath, path.resolve("bin/vecrec.mjs"), "--address", h.address, "load", "tty_index", file, "--create-index", "--dim", String(DIM), "--tag", "labels", "--batch", "500"]
        .map(quote)
        .join(" ");
      // -q: no "Script started" lines; -e: its exit code is the command's; -f: flush as it is drawn.
      const { stdout } = await run(scriptBinary!, ["-qefc", command, "/dev/null"], { maxBuffer: 16 * 1024 * 1024 });
      // Each frame is redrawn from column 1 (ESC [1G): escape sequences become line breaks.
      const escape = new RegExp(`${String.fromCharCode(27)}(\\[[0-9;?]*[A-Za-z]|[78])`, "g");
      const screen = stdout.replace(escape, "\n");
      const frames = screen.split(/[\r\n]+/).filter((frame) => /^\S+ \d+% \| \d+ items \| \d+ items\/s \| ETA \S+$/.test(frame));
      expect(frames.length).toBeGreaterThan(0);
      expect(frames.at(-1)).toMatch(new RegExp(`^\\S+ 100% \\| ${items} items \\| [1-9]\\d* items/s \\| ETA `));
      expect(screen).toMatch(new RegExp(`loaded ${items} items into tty_index from .*items\\.jsonl, 0 rejected`));
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
