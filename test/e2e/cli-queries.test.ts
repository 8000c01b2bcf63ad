/**
 * `vecrec search`, `recommend` and `indexes` on the embedded engine: conflicting flags and values
 * past the server's bounds are refused in words before any call, and `--json` index listings carry
 * their figures even when zero.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { BACKENDS, startHarness, type Harness } from "./harness.js";

async function cli(address: string, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["node", "vecrec", "--address", address, ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe("vecrec search, recommend and indexes (embedded engine)", { timeout: 60_000 }, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(BACKENDS[0]!);
    await h.store.createIndex({ name: "q", fields: [{ name: "vec", type: "vector", dimension: 3, algorithm: "FLAT", metric: "COSINE", elementType: "FLOAT32" }] });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("refuses --vector with --item, with or without --filter", async () => {
    for (const filter of [[], ["--filter", "*"]]) {
      const both = await cli(h.address, "search", "q", "--vector", "[1, 0, 0]", "--item", "x", ...filter);
      expect(both.code).toBe(1);
      expect(both.err).toEqual(["vecrec: give --vector or --item, not both"]);
    }
  });

  it("refuses -k, --limit and --neighbors past the server's bounds in words", async () => {
    const k = await cli(h.address, "search", "q", "--vector", "[1, 0, 0]", "-k", "4294967296");
    expect(k.code).toBe(1);
    expect(k.err.join("\n")).toMatch(/-k must be at most 10000, got 4294967296/);
    const limit = await cli(h.address, "recommend", "q", "--user", "x", "--limit", "1001");
    expect(limit.err.join("\n")).toMatch(/--limit must be at most 1000, got 1001/);
    const neighbors = await cli(h.address, "recommend", "q", "--user", "x", "--neighbors", "5000");
    expect(neighbors.err.join("\n")).toMatch(/--neighbors must be at most 1000, got 5000/);
  });

  it("lists an empty index with --json with its item count and aliases present", async () => {
    const listed = await cli(h.address, "--json", "indexes", "list");
    expect(listed.code).toBe(0);
    const [info] = JSON.parse(listed.out[0] ?? "[]") as Record<string, unknown>[];
    expect(info).toMatchObject({ indexName: "q", itemCount: 0, indexing: false, indexingFailures: 0, aliases: [] });
    const got = await cli(h.address, "indexes", "get", "q");
    expect(JSON.parse(got.out.join("\n"))).toMatchObject({ indexName: "q", itemCount: 0 });
  });
});
