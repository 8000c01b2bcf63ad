/**
 * `vecrec load` and `vecrec export` when things go wrong, on the embedded engine (what is tested here is
 * the CLI's side: the checkpoint, its counts, the messages and exit codes): a load stopped by the server
 * and resumed counts each rejected row once; an input that cannot be read on keeps what was
 * acknowledged in the checkpoint; a checkpoint that cannot be written, or a batch the server would
 * refuse, fails before anything is sent; Ctrl-C stops at once with the line to resume after; export
 * --after adds to the file it resumes.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/domain/errors.js";
import { connect } from "../../src/cli/connection.js";
import { load, type LoadOptions } from "../../src/cli/load.js";
import { runCli } from "../../src/cli/main.js";
import type { VectorStore } from "../../src/store/vector-store.js";
import { BACKENDS, overrideStore, startHarness, type Harness } from "./harness.js";

async function cli(address: string, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["node", "vecrec", "--address", address, ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const item = (i: number) => JSON.stringify({ id: `r-${String(i).padStart(5, "0")}`, vector: [Math.sin(i) + 2, Math.cos(i), 1], fields: { time: i } });

describe("vecrec load and export when things go wrong (embedded engine)", { timeout: 120_000 }, () => {
  let h: Harness;
  let dir: string;
  let failAfter: number | undefined;
  let delayMs = 0;
  let upserts = 0;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "vecrec-cli-faults-"));
    h = await startHarness(BACKENDS[0]!, {
      wrapStore: (store: VectorStore) =>
        overrideStore(store, {
          async upsert(name, items, options) {
            upserts++;
            if (failAfter !== undefined && upserts > failAfter) throw new UnavailableError("Redis is not answering (test)");
            if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
            return store.upsert(name, items, options);
          },
        }),
    });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const count = async (index: string): Promise<number> => {
    const info = await cli(h.address, "indexes", "get", index);
    return Number((JSON.parse(info.out.join("\n")) as { itemCount: string }).itemCount);
  };
  const create = ["--create-index", "--dim", "3", "--numeric", "time"];

  it("a load stopped midway and resumed counts each rejected row once, in its checkpoint and its summary", async () => {
    const file = path.join(dir, "bad-rows.jsonl");
    // Every 50th line is not JSON: 100 bad rows among 5000.
    writeFileSync(file, Array.from({ length: 5000 }, (_, i) => ((i + 1) % 50 === 0 ? "{not json" : item(i))).join("\n"));
    upserts = 0;
    failAfter = 10;
    const first = await cli(h.address, "load", "faults_resume", file, ...create, "--batch", "100");
    failAfter = undefined;
    expect(first.code).toBe(1);
    const checkpoint = JSON.parse(readFileSync(`${file}.vecrec-checkpoint.json`, "utf8")) as { line: number; accepted: number; rejected: number };
    expect(checkpoint.line).toBeGreaterThan(0);
    // The reader ran ahead of the acknowledgements; the checkpoint counts only the bad rows up to its line.
    expect(checkpoint.rejected).toBe(Math.floor(checkpoint.line / 50));
    expect(checkpoint.accepted).toBe(checkpoint.line - checkpoint.rejected);
    expect(first.err.at(-1)).toContain(`everything up to line ${checkpoint.line} is stored`);
    const second = await cli(h.address, "--json", "load", "faults_resume", file, "--batch", "100");
    expect(second.code).toBe(2);
    expect(JSON.parse(second.out[0] ?? "{}")).toMatchObject({ accepted: 4900, rejected: 100, resumedAfterLine: checkpoint.line });
    expect(await count("faults_resume")).toBe(4900);
  });

  it("an input that cannot be read on (a .gz cut short) fails with what is stored, and its checkpoint says so", async () => {
    const file = path.join(dir, "cut.jsonl.gz");
    writeFileSync(file, gzipSync(Array.from({ length: 60_000 }, (_, i) => item(i)).join("\n")));
    truncateSync(file, Math.floor(readFileSync(file).length * 0.6));
    const loaded = await cli(h.address, "load", "faults_cut", file, ...create, "--batch", "1000");
    expect(loaded.code).toBe(1);
    const note = /^vecrec: cannot read .*cut\.jsonl\.gz: .* \(everything up to line (\d+) is stored; run the same command again to resume\)$/.exec(loaded.err.at(-1) ?? "");
    expect(note, loaded.err.join("\n")).not.toBeNull();
    const line = Number(note?.[1]);
    expect(line).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(`${file}.vecrec-checkpoint.json`, "utf8"))).toMatchObject({ line, accepted: line, rejected: 0 });
    expect(await count("faults_cut")).toBeGreaterThanOrEqual(line);
  });

  it("a checkpoint that cannot be written, or a --batch over 10000, fails before anything is sent", async () => {
    const file = path.join(dir, "small.jsonl");
    writeFileSync(file, [item(1), item(2)].join("\n"));
    const unwritable = await cli(h.address, "load", "faults_never", file, ...create, "--checkpoint", path.join(dir, "no-such-folder", "cp.json"));
    expect(unwritable.code).toBe(1);
    expect(unwritable.err).toEqual([expect.stringMatching(/^vecrec: cannot write the checkpoint .*cp\.json: ENOENT.*\(set --checkpoint to a writable path\)$/)]);
    const tooBig = await cli(h.address, "load", "faults_never", file, ...create, "--batch", "20000");
    expect(tooBig.code).toBe(1);
    expect(tooBig.err.join("\n")).toMatch(/--batch must be at most 10000, got 20000/);
    const listed = await cli(h.address, "--json", "indexes", "list");
    expect(listed.out.join("\n")).not.toContain("faults_never");
  });

  it("interrupted (its signal aborted), a load stops at once with the line it can resume after, exit code 130", async () => {
    const file = path.join(dir, "interrupted.jsonl");
    writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => item(i)).join("\n"));
    const checkpointFile = `${file}.vecrec-checkpoint.json`;
    delayMs = 40;
    const interrupt = new AbortController();
    const connection = connect({ address: h.address });
    const options: LoadOptions = {
      index: "faults_interrupted", file, idColumn: "id", vectorColumn: "vector", batch: 200, createIndex: true, dim: 3, metric: "cosine",
      algorithm: "flat", vectorField: "vec", text: [], tag: [], numeric: ["time"], restart: false, signal: interrupt.signal,
    };
    try {
      const loading = load(connection, options, () => undefined, () => undefined);
      const deadline = Date.now() + 20_000;
      while (!existsSync(checkpointFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      interrupt.abort();
      const error = (await loading.catch((e: unknown) => e)) as { exitCode?: number; message?: string; resumeNote?: string };
      expect(error.message).toBe("interrupted");
      expect(error.exitCode).toBe(130);
      const { line } = JSON.parse(readFileSync(checkpointFile, "utf8")) as { line: number };
      expect(line).toBeGreaterThan(0);
      expect(line).toBeLessThan(20_000);
      expect(error.resumeNote).toBe(`everything up to line ${line} is stored; run the same command again to resume`);
    } finally {
      delayMs = 0;
      connection.close();
    }
    const resumed = await cli(h.address, "load", "faults_interrupted", file, "--batch", "200");
    expect(resumed.code).toBe(0);
    expect(await count("faults_interrupted")).toBe(20_000);
  });

  it("Ctrl-C (SIGINT) on the vecrec command stops the load with one line saying where to resume, exit code 130", async () => {
    const file = path.join(dir, "sigint.jsonl");
    writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => item(i)).join("\n"));
    const checkpointFile = `${file}.vecrec-checkpoint.json`;
    delayMs = 40;
    try {
      const child = spawn(process.execPath, [path.resolve("bin/vecrec.mjs"), "--address", h.address, "load", "faults_sigint", file, ...create, "--batch", "200"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      const deadline = Date.now() + 60_000;
      while (!existsSync(checkpointFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      const { line } = JSON.parse(readFileSync(checkpointFile, "utf8")) as { line: number };
      expect(stderr.trim().split("\n").at(-1)).toBe(`vecrec: interrupted (everything up to line ${line} is stored; run the same command again to resume)`);
    } finally {
      delayMs = 0;
    }
  });

  it("export --after adds to the file it resumes (plain and .gz), which then holds every item once", async () => {
    const file = path.join(dir, "export-src.jsonl");
    writeFileSync(file, Array.from({ length: 3000 }, (_, i) => item(i)).join("\n"));
    expect((await cli(h.address, "load", "faults_export", file, ...create)).code).toBe(0);
    const whole = path.join(dir, "whole.jsonl");
    expect((await cli(h.address, "export", "faults_export", whole)).code).toBe(0);
    const all = readFileSync(whole, "utf8").trimEnd().split("\n");
    expect(all).toHaveLength(3000);
    // An export that stopped after 1234 items, resumed after the last id it wrote.
    const lastId = (JSON.parse(all[1233] as string) as { id: string }).id;
    const plain = path.join(dir, "resumed.jsonl");
    writeFileSync(plain, `${all.slice(0, 1234).join("\n")}\n`);
    expect((await cli(h.address, "export", "faults_export", plain, "--after", lastId)).code).toBe(0);
    expect(readFileSync(plain, "utf8").trimEnd().split("\n")).toEqual(all);
    const gz = path.join(dir, "resumed.jsonl.gz");
    writeFileSync(gz, gzipSync(`${all.slice(0, 1234).join("\n")}\n`));
    expect((await cli(h.address, "export", "faults_export", gz, "--after", lastId)).code).toBe(0);
    expect(gunzipSync(readFileSync(gz)).toString("utf8").trimEnd().split("\n")).toEqual(all);
    // vecrec load reads the two gzip members on.
    const reloaded = await cli(h.address, "load", "faults_export_copy", gz, ...create);
    expect(reloaded.code).toBe(0);
    expect(await count("faults_export_copy")).toBe(3000);
  });
});
