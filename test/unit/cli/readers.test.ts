/**
 * The CLI's input readers (src/cli/readers.ts) on the files users have: lines split with a bound on
 * their length, a byte-order mark, CSV with stray quotes, extra cells or an unclosed quote, and a .npy
 * matrix whose ids file does not match it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { readRows, splitLines, type Row, type RowError } from "../../../src/cli/readers.js";

const dir = mkdtempSync(path.join(tmpdir(), "vecrec-readers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lines(chunks: string[], maxBytes: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const line of splitLines(Readable.from(chunks.map((chunk) => Buffer.from(chunk, "utf8"))), maxBytes)) out.push(line);
  return out;
}

async function rows(name: string, content: string | Buffer, options: Partial<Parameters<typeof readRows>[1]> = {}): Promise<(Row | RowError)[]> {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  const format = name.endsWith(".csv") ? "csv" : name.endsWith(".npy") ? "npy" : "jsonl";
  const out: (Row | RowError)[] = [];
  for await (const row of readRows(file, { format, idColumn: "id", vectorColumn: "vector", ...options })) out.push(row);
  return out;
}

describe("splitLines", () => {
  it("splits at \\n across chunks, drops a \\r before it, keeps a last line without a newline", async () => {
    expect(await lines(["ab", "c\r\nde\n", "\nf"], 100)).toEqual([{ text: "abc" }, { text: "de" }, { text: "" }, { text: "f" }]);
  });

  it("reports a line past the bound by its length, without keeping it, and reads on", async () => {
    expect(await lines(["short\n0123456", "789abcdef\nnext\n"], 10)).toEqual([{ text: "short" }, { tooLong: 16 }, { text: "next" }]);
    expect(await lines(["0123456789ab"], 10)).toEqual([{ tooLong: 12 }]);
  });

  it("drops a byte-order mark at the start of the first line only", async () => {
    expect(await lines(["\uFEFFa\n\uFEFFb\n"], 100)).toEqual([{ text: "a" }, { text: "\uFEFFb" }]);
  });

  it("decodes UTF-8 characters split across chunks", async () => {
    const bytes = Buffer.from("é😀\n", "utf8");
    const out: unknown[] = [];
    for await (const line of splitLines(Readable.from([...bytes].map((byte) => Buffer.from([byte]))), 100)) out.push(line);
    expect(out).toEqual([{ text: "é😀" }]);
  });
});

describe("readRows", () => {
  it("JSON Lines: a byte-order mark does not make line 1 bad", async () => {
    expect(await rows("bom.jsonl", '\uFEFF{"id": "a", "vector": [1, 2]}\n')).toEqual([{ line: 1, id: "a", vector: [1, 2], fields: undefined }]);
  });

  it("CSV: a quote inside an unquoted cell is text, a row with extra cells or an unclosed quote is one bad row at its line, in line order", async () => {
    const csv = [
      "id,vector,title",
      'a,"[1,2]",the "best" shoe',
      'b,"[1,2]",x,extra,cells',
      'c,"[1,2]",fine',
      'd,"[1,2]",short',
      "e,\"[1,2]\"",
      'f,"[1,2]","unclosed',
      'g,"[1,2]",after',
    ].join("\n");
    const read = await rows("quotes.csv", `${csv}\n`);
    expect(read.map((r) => ("error" in r ? `${r.line}: error` : `${r.line}: ${String(r.id)} ${JSON.stringify(r.fields)}`))).toEqual([
      '2: a {"title":"the \\"best\\" shoe"}',
      "3: error",
      '4: c {"title":"fine"}',
      '5: d {"title":"short"}',
      "6: e {}",
      "8: error", // the unclosed quote runs on to line 8 (whose row goes with it)
    ]);
    expect((read[1] as RowError).error).toMatch(/cannot read this CSV record: .*columns length is 3, got 5/);
  });

  it(".npy: an ids file with more or fewer lines than the matrix has rows is refused before any row", async () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    const padded = header.padEnd(118, " ") + "\n";
    const npy = Buffer.concat([Buffer.from([0x93]), Buffer.from("NUMPY"), Buffer.from([1, 0]), Buffer.from([padded.length, 0]), Buffer.from(padded, "latin1"), Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)]);
    const ids = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return { idsFile: path.join(dir, name) };
    };
    await expect(rows("m.npy", npy, ids("three.txt", "a\nb\nc\n"))).rejects.toThrow(/has 3 lines and the matrix 2 rows/);
    await expect(rows("m.npy", npy, ids("one.txt", "a\n"))).rejects.toThrow(/has 1 lines and the matrix 2 rows/);
    const read = await rows("m.npy", npy, ids("two.txt", "a\nb\n\n"));
    expect(read).toEqual([
      { line: 1, id: "a", vector: [1, 2], fields: undefined },
      { line: 2, id: "b", vector: [3, 4], fields: undefined },
    ]);
  });
});
