/**
 * The replay comparer must catch real differences, or the replay test would pass vacuously.
 */
import { describe, expect, it } from "vitest";
import type { Encoded } from "../support/redis-standin/raw-resp-client.js";
import { compareReply } from "./compare-reply.js";

const search = (rows: Encoded[], total: number): Encoded => ({
  map: [
    [{ status: "attributes" }, []],
    [{ status: "format" }, { status: "STRING" }],
    [{ status: "results" }, rows],
    [{ status: "total_results" }, total],
    [{ status: "warning" }, []],
  ],
});
const row = (id: string, d: string): Encoded => ({
  map: [
    [{ status: "id" }, id],
    [{ status: "extra_attributes" }, { map: [["d", d]] }],
    [{ status: "values" }, []],
  ],
});

describe("compareReply", () => {
  it("keeps types apart: simple vs bulk string, map vs flat array, error texts", () => {
    expect(compareReply("PING", { status: "PONG" }, "PONG", {}).kind).toBe("mismatch");
    expect(compareReply("HGETALL", { map: [["a", "1"]] }, ["a", "1"], {}).kind).toBe("mismatch");
    expect(compareReply("FT.INFO", { error: "x: no such index" }, { error: "No such index x" }, {}).kind).toBe("mismatch");
    expect(compareReply("GET", { base64: Buffer.from("hi").toString("base64") }, "hi", {}).kind).toBe("exact");
  });

  it("compares distances as numbers within 1e-6 but not integers or ids loosely", () => {
    expect(compareReply("FT.SEARCH", search([row("a", "0.0299999881536")], 1), search([row("a", "0.0299999881537")], 1), {}).kind).toBe("exact");
    expect(compareReply("FT.SEARCH", search([row("a", "0.03")], 1), search([row("a", "0.031")], 1), {}).kind).toBe("mismatch");
    expect(compareReply("FT.SEARCH", search([row("a", "0")], 1), search([row("b", "0")], 1), {}).kind).toBe("mismatch");
    expect(compareReply("HGET", "1700000000", "1700000001", {}).kind).toBe("mismatch");
    expect(compareReply("FT.SEARCH", search([], 2), search([], 3), {}).kind).toBe("mismatch");
  });

  it("relaxes order only where flagged", () => {
    const e = search([row("a", "1"), row("b", "2")], 2);
    const swapped = search([row("b", "2"), row("a", "1")], 2);
    expect(compareReply("FT.SEARCH", e, swapped, {}).kind).toBe("mismatch");
    expect(compareReply("FT.SEARCH", e, swapped, { unordered: true, unordered_key: "results" }).kind).toBe("relaxed");
    const other = search([row("b", "2"), row("c", "1")], 2);
    expect(compareReply("FT.SEARCH", e, other, { unordered: true, unordered_key: "results" }).kind).toBe("mismatch");
    const tie = search([row("a", "1"), row("b", "1"), row("c", "2")], 3);
    const tieSwapped = search([row("b", "1"), row("a", "1"), row("c", "2")], 3);
    expect(compareReply("FT.SEARCH", tie, tieSwapped, { ties_unordered: ["d"] }).kind).toBe("relaxed");
    const crossTie = search([row("a", "1"), row("c", "2"), row("b", "1")], 3);
    expect(compareReply("FT.SEARCH", tie, crossTie, { ties_unordered: ["d"] }).kind).toBe("mismatch");
    expect(compareReply("FT._LIST", { set: [{ status: "a" }, { status: "b" }] }, { set: [{ status: "b" }, { status: "a" }] }, { unordered: true, skip: 0, group: 1 }).kind).toBe("relaxed");
  });

  it("compares only stable FT.INFO keys the stand-in implements, and their order", () => {
    const info = (docs: number, mem: number): Encoded => ({
      map: [
        [{ status: "index_name" }, { status: "i" }],
        [{ status: "num_docs" }, docs],
        [{ status: "vector_index_sz_mb" }, { double: mem }],
      ],
    });
    const flags = { nondeterministic: true, stable_keys: ["index_name", "num_docs"] };
    expect(compareReply("FT.INFO", info(3, 0.5), info(3, 0), flags).kind).toBe("relaxed");
    expect(compareReply("FT.INFO", info(3, 0.5), info(4, 0.5), flags).kind).toBe("mismatch");
  });
});
