/**
 * The reply readers against real Redis 8.0.2 replies (test/conformance/recordings), converted to what node-redis
 * hands over with vecrec's type mapping: maps as Map, bulk strings as Buffer, simple strings as string,
 * doubles and integers as number.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseInfoReply } from "../../../../src/store/redis/commands/ft-info.js";
import { parseSearchReply } from "../../../../src/store/redis/commands/ft-search.js";
import { parseScoredMembers, replyNumber, replyText } from "../../../../src/store/redis/reply-parsers.js";

const CONFORMANCE = fileURLToPath(new URL("../../../conformance/recordings", import.meta.url));

interface Step {
  cmd: unknown[];
  reply: unknown;
}

function steps(folder: string, file: string): Step[] {
  return (JSON.parse(readFileSync(`${CONFORMANCE}/${folder}/${file}`, "utf8")) as { steps: Step[] }).steps;
}

/** The recorded JSON encoding -> node-redis values (type mapping BLOB_STRING: Buffer, MAP: Map). */
function decode(value: unknown): unknown {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (typeof value === "number" || value === null) return value;
  if (Array.isArray(value)) return value.map(decode);
  const o = value as Record<string, unknown>;
  if ("base64" in o) return Buffer.from(o.base64 as string, "base64");
  if ("status" in o) return o.status;
  if ("map" in o) return new Map((o.map as [unknown, unknown][]).map(([k, v]) => [keyOf(k), decode(v)]));
  if ("set" in o) return (o.set as unknown[]).map(decode);
  if ("double" in o) return typeof o.double === "number" ? o.double : replyNumber(String(o.double));
  throw new Error(`unhandled encoding ${JSON.stringify(value)}`);
}

/** node-redis decodes simple- and bulk-string map keys as strings. */
function keyOf(key: unknown): unknown {
  if (typeof key === "string") return key;
  const o = key as Record<string, unknown>;
  if ("status" in o) return o.status;
  return decode(key);
}

function find(folder: string, file: string, predicate: (cmd: string) => boolean): Step {
  const step = steps(folder, file).find((s) => predicate(s.cmd.map((c) => (typeof c === "string" ? c : "<b>")).join(" ")));
  if (step === undefined) throw new Error("step not found");
  return step;
}

describe("parseSearchReply", () => {
  const knn = (folder: string) =>
    find(folder, "05-filters.json", (c) => c.startsWith("FT.SEARCH f (@codes:{$t1 | $t2})=>[KNN 3"));

  it("reads a RESP3 KNN reply: keys, fields and the total", () => {
    const parsed = parseSearchReply(decode(knn("redis-8.0.2-resp3").reply));
    expect(parsed.total).toBe(2);
    expect(parsed.rows.map((r) => r.key)).toEqual(["f:1", "f:3"]);
    const d = parsed.rows[0]?.fields.get("d");
    expect(replyNumber(d)).toBeCloseTo(0.0100000007078, 12);
  });

  it("reads the same reply recorded over RESP2 identically", () => {
    const resp3 = parseSearchReply(decode(knn("redis-8.0.2-resp3").reply));
    const resp2 = parseSearchReply(decode(knn("redis-8.0.2").reply));
    expect(resp2.total).toBe(resp3.total);
    expect(resp2.rows.map((r) => [r.key, replyText(r.fields.get("d"))])).toEqual(
      resp3.rows.map((r) => [r.key, replyText(r.fields.get("d"))]),
    );
  });

  it("reads NOCONTENT rows (no fields) and empty results", () => {
    const nocontent = parseSearchReply(
      decode(find("redis-8.0.2-resp3", "05-filters.json", (c) => c.startsWith("FT.SEARCH f @codes:{$t} PARAMS 2 t sci-fi NOCONTENT")).reply),
    );
    expect(nocontent.rows).toEqual([{ key: "f:1", fields: new Map() }]);
    const none = parseSearchReply(
      decode(find("redis-8.0.2-resp3", "05-filters.json", (c) => c.startsWith("FT.SEARCH f @labels:{nonexistent} NOCONTENT")).reply),
    );
    expect(none).toEqual({ total: 0, rows: [] });
  });

  it("keeps a returned vector as bytes", () => {
    const step = steps("redis-8.0.2-resp3", "04-knn-shapes.json").find((s) => {
      const reply = JSON.stringify(s.reply);
      return s.cmd[0] === "FT.SEARCH" && reply.includes('"f32"') && reply.includes("extra_attributes");
    });
    expect(step).toBeDefined();
    const parsed = parseSearchReply(decode(step?.reply));
    const blob = [...(parsed.rows[0]?.fields.values() ?? [])].find((v) => Buffer.isBuffer(v) && v.length % 4 === 0 && v.length >= 8);
    expect(Buffer.isBuffer(blob)).toBe(true);
  });
});

describe("parseInfoReply", () => {
  it("reads num_docs, indexing, percent_indexed and failures from a RESP3 FT.INFO", () => {
    const info = parseInfoReply(decode(find("redis-8.0.2-resp3", "02-create-variants.json", (c) => c === "FT.INFO idx_hnsw").reply));
    expect(info).toEqual({ numDocs: 0, indexing: false, percentIndexed: 1, hashIndexingFailures: 0 });
  });

  it("reads the same fields from a RESP2 FT.INFO (numbers as strings)", () => {
    const resp2 = parseInfoReply(decode(find("redis-8.0.2", "02-create-variants.json", (c) => c === "FT.INFO idx_hnsw").reply));
    expect(resp2).toEqual({ numDocs: 0, indexing: false, percentIndexed: 1, hashIndexingFailures: 0 });
  });

  it("counts indexing failures", () => {
    const infos = steps("redis-8.0.2-resp3", "03-writes.json").filter((s) => s.cmd[0] === "FT.INFO");
    const failures = infos.map((s) => parseInfoReply(decode(s.reply)).hashIndexingFailures);
    expect(Math.max(...failures)).toBeGreaterThan(0);
  });
});

describe("parseScoredMembers", () => {
  it("reads RESP3 [member, score] pairs and RESP2 flat lists", () => {
    expect(parseScoredMembers([[Buffer.from("a"), 1.5], [Buffer.from("b"), 2]])).toEqual([
      { member: "a", score: 1.5 },
      { member: "b", score: 2 },
    ]);
    expect(parseScoredMembers([Buffer.from("a"), Buffer.from("1.5"), Buffer.from("b"), Buffer.from("inf")])).toEqual([
      { member: "a", score: 1.5 },
      { member: "b", score: Infinity },
    ]);
    expect(parseScoredMembers([])).toEqual([]);
  });

  it("reads the recorded ZRANGE WITHSCORES of both protocols alike", () => {
    const pick = (folder: string) =>
      parseScoredMembers(decode(find(folder, "00-handshake.json", (c) => c.startsWith("ZRANGE") && c.includes("WITHSCORES")).reply));
    expect(pick("redis-8.0.2-resp3")).toEqual(pick("redis-8.0.2"));
    expect(pick("redis-8.0.2-resp3").length).toBeGreaterThan(0);
  });
});

describe("replyNumber", () => {
  it("understands Redis spellings of special values", () => {
    expect(replyNumber(Buffer.from("-nan"))).toBeNaN();
    expect(replyNumber("inf")).toBe(Infinity);
    expect(replyNumber(Buffer.from("5.96046447754e-08"))).toBeCloseTo(5.96046447754e-8, 20);
    expect(() => replyNumber("abc")).toThrow(TypeError);
  });
});
