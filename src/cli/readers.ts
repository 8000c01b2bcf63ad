/**
 * Input rows of `vecrec load`, streamed from a file (gzip when the name ends in `.gz`): JSON Lines, CSV
 * with a vector column, or a `.npy` float matrix beside an ids/metadata file. Each row carries the line
 * (or matrix row) it came from, so that a bad row is reported by line; a row that cannot be read at all
 * is a `RowError`, the rest go on.
 */
import { parse as parseCsv, type CsvError } from "csv-parse";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/**
 * The longest JSON Lines line read, bytes: a longer one is reported as a bad row and skipped (read
 * whole it would take that much memory, and past about 512 MiB no JavaScript string can hold it). The
 * server takes messages of up to 128 MiB; an item whose JSON is 64 MiB is not a mistake-free one.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export type InputFormat = "jsonl" | "csv" | "npy";

/** One input row: where it came from, and its content. */
export interface Row {
  /** 1-based line of the file (CSV: the line the record starts on; npy: the matrix row). */
  readonly line: number;
  readonly id: unknown;
  readonly vector: unknown;
  readonly fields: Record<string, unknown> | undefined;
}

/** A row that could not be read. */
export interface RowError {
  readonly line: number;
  readonly error: string;
}

export interface ReadOptions {
  readonly format: InputFormat;
  /** CSV: the column holding the id. */
  readonly idColumn: string;
  /** CSV: the column holding the vector (`[0.1, 0.2]`, or numbers separated by spaces, commas or `;`). */
  readonly vectorColumn: string;
  /** npy: the file of ids (one id a line, or JSON Lines `{"id", "fields"}`), row i of the matrix = line i. */
  readonly idsFile?: string;
  /** Called with the number of bytes of the (compressed) input read so far. */
  readonly onBytes?: (bytes: number) => void;
}

export function formatOf(file: string, explicit: string | undefined): InputFormat {
  if (explicit !== undefined) {
    if (explicit === "jsonl" || explicit === "csv" || explicit === "npy") return explicit;
    throw new Error(`unknown --format ${explicit}: use jsonl, csv or npy`);
  }
  const name = file.replace(/\.gz$/i, "").toLowerCase();
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".npy")) return "npy";
  return "jsonl";
}

/** The file's bytes, gunzipped when its name ends in .gz; `onBytes` follows the file itself. */
function open(file: string, onBytes?: (bytes: number) => void): Readable {
  const raw = createReadStream(file);
  if (onBytes !== undefined) raw.on("data", () => onBytes(raw.bytesRead));
  return file.toLowerCase().endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
}

export function readRows(file: string, options: ReadOptions): AsyncGenerator<Row | RowError> {
  switch (options.format) {
    case "jsonl":
      return readJsonLines(open(file, options.onBytes));
    case "csv":
      return readCsv(open(file, options.onBytes), options);
    case "npy":
      if (options.idsFile === undefined) throw new Error("a .npy matrix needs --ids FILE (one id a line, or JSON Lines with id and fields)");
      return readNpy(open(file, options.onBytes), options.idsFile);
  }
}

/** A line of the input, or how long it was when it ran past `maxBytes` (its bytes then dropped). */
type Line = { readonly text: string } | { readonly tooLong: number };

/**
 * The lines of a byte stream, split at `\n` (a `\r` before it dropped), decoded as UTF-8 (a byte-order
 * mark at the start dropped), each at most `maxBytes`: past that, the rest of the line is skipped
 * without being kept. By hand rather than node:readline, which holds a line whole whatever its length
 * (a 600 MiB line ended the CLI with "Invalid string length"), and split2's maxLength, which skips an
 * overlong line without telling which.
 */
export async function* splitLines(input: AsyncIterable<Buffer>, maxBytes = MAX_LINE_BYTES): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let length = 0;
  let overflow = 0; // the current line's length once it is too long (none of its bytes kept)
  let first = true;
  const finish = (): Line => {
    const wasFirst = first;
    first = false;
    if (overflow > 0) {
      const total = overflow;
      overflow = 0;
      return { tooLong: total };
    }
    let bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
    parts = [];
    length = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    const text = bytes.toString("utf8");
    return { text: wasFirst && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
  };
  const keep = (chunk: Buffer): void => {
    if (overflow === 0 && length + chunk.length <= maxBytes) {
      parts.push(chunk);
      length += chunk.length;
      return;
    }
    // Too long: its length is counted, its bytes are not kept.
    overflow += length + chunk.length;
    length = 0;
    parts = [];
  };
  for await (const chunk of input) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
      keep(chunk.subarray(start, end));
      yield finish();
      start = end + 1;
    }
    if (start < chunk.length) keep(start === 0 ? chunk : chunk.subarray(start));
  }
  if (length > 0 || overflow > 0) yield finish();
}

async function* readJsonLines(input: Readable): AsyncGenerator<Row | RowError> {
  let line = 0;
  for await (const read of splitLines(input as AsyncIterable<Buffer>)) {
    line++;
    if ("tooLong" in read) {
      yield { line, error: `the line is ${read.tooLong} bytes long, past the ${MAX_LINE_BYTES} read` };
      continue;
    }
    const text = read.text;
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield { line, error: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      yield { line, error: "expected an object {\"id\", \"vector\", \"fields\"}" };
      continue;
    }
    const row = value as Record<string, unknown>;
    yield { line, id: row.id, vector: row.vector, fields: row.fields as Record<string, unknown> | undefined };
  }
}

/** A vector cell: a JSON list, or numbers separated by spaces, commas or semicolons. */
function parseVectorCell(cell: string): number[] | string {
  const text = cell.trim();
  const inner = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (inner.trim() === "") return "the vector cell is empty";
  const values = inner.split(/[\s,;]+/).filter((t) => t !== "").map(Number);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  return bad >= 0 ? `the vector cell has a value that is not a number at position ${bad}` : values;
}

/**
 * CSV records as rows. A quote inside an unquoted cell (`the "best" shoe`) is kept as text; a row with
 * fewer cells than the header leaves the others empty; a record csv-parse cannot read (more cells than
 * the header, an unclosed quote, which runs on to the next quote) is a RowError at the line where it
 * ended, once, and the reading goes on from there.
 */
async function* readCsv(input: Readable, options: ReadOptions): AsyncGenerator<Row | RowError> {
  const parser = input.pipe(
    parseCsv({
      columns: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count_less: true,
      relax_quotes: true,
      bom: true,
      skip_records_with_error: true,
    }),
  );
  // Skipped records are reported in line order among the rows read: csv-parse parses ahead of what the
  // loop has taken, so a skip is held until the rows before it have been yielded.
  const skipped: RowError[] = [];
  parser.on("skip", (error: CsvError) => {
    const line = typeof error.lines === "number" ? error.lines : 0;
    if (skipped.at(-1)?.line !== line) skipped.push({ line, error: `cannot read this CSV record: ${error.message}` });
  });
  for await (const record of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    const { record: cells, info } = record;
    const line = info.lines;
    while (skipped.length > 0 && (skipped[0] as RowError).line < line) yield skipped.shift() as RowError;
    if (!(options.vectorColumn in cells)) {
      yield { line, error: `no "${options.vectorColumn}" column (set --vector-column)` };
      continue;
    }
    if (!(options.idColumn in cells)) {
      yield { line, error: `no "${options.idColumn}" column (set --id-column)` };
      continue;
    }
    const vector = parseVectorCell(cells[options.vectorColumn] ?? "");
    if (typeof vector === "string") {
      yield { line, error: vector };
      continue;
    }
    const fields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(cells)) {
      if (name !== options.idColumn && name !== options.vectorColumn && value !== "") fields[name] = value;
    }
    yield { line, id: cells[options.idColumn], vector, fields };
  }
  yield* skipped;
}

/** Reads exactly `n` bytes from an async byte iterator, keeping what is left over. */
class ByteReader {
  #pending: Buffer = Buffer.alloc(0);
  readonly #source: AsyncIterator<Buffer>;
  constructor(source: Readable) {
    this.#source = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }
  /** `n` bytes, or fewer at the end of the input. */
  async read(n: number): Promise<Buffer> {
    while (this.#pending.length < n) {
      const next = await this.#source.next();
      if (next.done === true) break;
      this.#pending = this.#pending.length === 0 ? next.value : Buffer.concat([this.#pending, next.value]);
    }
    const out = this.#pending.subarray(0, n);
    this.#pending = this.#pending.subarray(out.length);
    return out;
  }
}

/** The header of a .npy file: element type and shape (2-D, C order, little-endian float32 or float64). */
async function readNpyHeader(reader: ByteReader): Promise<{ bytes: 4 | 8; rows: number; dims: number }> {
  const magic = await reader.read(8);
  if (magic.length < 8 || magic[0] !== 0x93 || magic.subarray(1, 6).toString("latin1") !== "NUMPY") {
    throw new Error("not a .npy file (no \\x93NUMPY magic)");
  }
  const major = magic[6] as number;
  const lengthBytes = await reader.read(major === 1 ? 2 : 4);
  const length = major === 1 ? lengthBytes.readUInt16LE(0) : lengthBytes.readUInt32LE(0);
  const header = (await reader.read(length)).toString("latin1");
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*,?\s*\)/.exec(header);
  if (descr !== "<f4" && descr !== "<f8") throw new Error(`.npy element type ${String(descr)}: only little-endian float32 (<f4) or float64 (<f8)`);
  if (fortran !== "False") throw new Error(".npy in Fortran order: save it in C order (np.ascontiguousarray)");
  if (shape === null) throw new Error(".npy shape must be 2-D (rows, dimensions)");
  return { bytes: descr === "<f4" ? 4 : 8, rows: Number(shape[1]), dims: Number(shape[2]) };
}

/** How many lines the ids file has, trailing blank lines left out. */
async function countIdLines(idsFile: string): Promise<number> {
  let lines = 0;
  let lastFilled = 0;
  for await (const text of createInterface({ input: open(idsFile), crlfDelay: Infinity })) {
    lines++;
    if (text.trim() !== "") lastFilled = lines;
  }
  return lastFilled;
}

/**
 * Rows of a .npy matrix, row i with line i of the ids file. The ids file is counted first: one with
 * more or fewer lines than the matrix has rows is refused before anything is read (its lines would be
 * paired with the wrong rows, or some rows left without an id).
 */
async function* readNpy(matrix: Readable, idsFile: string): AsyncGenerator<Row | RowError> {
  const reader = new ByteReader(matrix);
  const { bytes, rows, dims } = await readNpyHeader(reader);
  const idLines = await countIdLines(idsFile);
  if (idLines !== rows) {
    throw new Error(`the ids file ${idsFile} has ${idLines} lines and the matrix ${rows} rows: each row needs the id on its line`);
  }
  const ids = createInterface({ input: open(idsFile), crlfDelay: Infinity })[Symbol.asyncIterator]();
  for (let row = 1; row <= rows; row++) {
    const data = await reader.read(bytes * dims);
    if (data.length < bytes * dims) {
      yield { line: row, error: `the matrix ends early: ${rows} rows announced` };
      return;
    }
    const vector = new Array<number>(dims);
    for (let d = 0; d < dims; d++) vector[d] = bytes === 4 ? data.readFloatLE(d * 4) : data.readDoubleLE(d * 8);
    const next = await ids.next();
    if (next.done === true) {
      yield { line: row, error: "the ids file has fewer lines than the matrix has rows" };
      return;
    }
    const text = next.value.trim();
    if (text.startsWith("{")) {
      try {
        const meta = JSON.parse(text) as { id?: unknown; fields?: Record<string, unknown> };
        yield { line: row, id: meta.id, vector, fields: meta.fields };
      } catch (error) {
        yield { line: row, error: `ids file line ${row} is not JSON: ${error instanceof Error ? error.message : String(error)}` };
      }
    } else yield { line: row, id: text, vector, fields: undefined };
  }
}
