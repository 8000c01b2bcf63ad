/**
 * Items as the CLI reads and writes them, one JSON object a line: `{"id": "...", "vector": [floats],
 * "fields": {"name": value}}` with a string for TEXT, a list of strings (or one string, split at the
 * field's separator) for TAG, a number for NUMERIC. Converted through the index schema, so CSV cells
 * (always text) become the right kind.
 */
import type { FieldSchema, FieldValue, IndexInfo, Item } from "../gen/vecrec/v1/vecrec.js";

/** How each metadata field of the index is written. */
export type FieldKinds = ReadonlyMap<string, { kind: "text" | "tag" | "numeric"; separator: string }>;

export function fieldKinds(info: IndexInfo | undefined): FieldKinds {
  const kinds = new Map<string, { kind: "text" | "tag" | "numeric"; separator: string }>();
  for (const field of info?.fields ?? ([] as FieldSchema[])) {
    const type = field.type;
    if (type?.$case === "text") kinds.set(field.name, { kind: "text", separator: "," });
    else if (type?.$case === "tag") kinds.set(field.name, { kind: "tag", separator: type.value.separator || "," });
    else if (type?.$case === "numeric") kinds.set(field.name, { kind: "numeric", separator: "," });
  }
  return kinds;
}

/** Little-endian float32 bytes of a vector. */
export function float32Bytes(values: ArrayLike<number>): Buffer {
  const bytes = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i] as number, i * 4);
  return bytes;
}

/**
 * `text`, refused when it holds a lone surrogate (JSON's "\ud800"): sent as UTF-8 it would become
 * U+FFFD, silently, so that two distinct ids could become one item.
 */
const LONE_SURROGATE = /\p{Cs}/u;

function wellFormed(what: string, text: string | number): string {
  const value = String(text);
  if (LONE_SURROGATE.test(value)) throw new Error(`${what} is not well-formed Unicode (it holds a lone surrogate, such as \\ud800)`);
  return value;
}

/** One field value of an input row, by the field's kind (unknown fields are sent as text: the server names them). */
function fieldValue(name: string, raw: unknown, kinds: FieldKinds): FieldValue {
  const kind = kinds.get(name);
  if (kind?.kind === "tag") {
    const tags = Array.isArray(raw)
      ? raw.map((v) => String(v))
      : String(raw)
          .split(kind.separator)
          .map((t) => t.trim())
          .filter((t) => t !== "");
    const values = tags.map((tag) => wellFormed(`field "${name}"`, tag));
    return { kind: { $case: "tags", value: { values } } };
  }
  if (kind?.kind === "numeric") {
    const number = typeof raw === "number" ? raw : Number(String(raw).trim());
    if (typeof raw === "boolean" || String(raw).trim() === "" || !Number.isFinite(number)) {
      throw new Error(`field "${name}" is NUMERIC: ${JSON.stringify(raw)} is not a finite number`);
    }
    return { kind: { $case: "number", value: number } };
  }
  if (typeof raw === "object" && raw !== null) throw new Error(`field "${name}": expected a string, got ${JSON.stringify(raw)}`);
  return { kind: { $case: "text", value: wellFormed(`field "${name}"`, String(raw)) } };
}

/**
 * A parsed input row as a proto Item. `fields` values that are null, undefined or "" are left out.
 * @throws Error naming what is wrong (the caller prefixes the line)
 */
export function toProtoItem(row: { id: unknown; vector: unknown; fields?: unknown }, kinds: FieldKinds): Item {
  if (typeof row.id !== "string" && typeof row.id !== "number") throw new Error(`"id" must be a string, got ${JSON.stringify(row.id)}`);
  // JSON numbers past 2^53 have lost digits by the time they are read (12345678901234567890 reads as
  // 12345678901234567000): two such ids could become one item.
  if (typeof row.id === "number" && !Number.isSafeInteger(row.id)) {
    throw new Error(`"id" ${String(row.id)} is a number that is not an integer within ±(2^53 - 1): write the id as a string`);
  }
  wellFormed("id", row.id);
  if (!Array.isArray(row.vector) && !(row.vector instanceof Float32Array)) {
    throw new Error(`"vector" must be a list of numbers`);
  }
  const vector = row.vector as ArrayLike<unknown>;
  for (let i = 0; i < vector.length; i++) {
    if (typeof vector[i] !== "number") throw new Error(`"vector"[${i}] is not a number: ${JSON.stringify(vector[i])}`);
  }
  const fields: { [key: string]: FieldValue } = {};
  if (row.fields !== undefined && row.fields !== null) {
    if (typeof row.fields !== "object" || Array.isArray(row.fields)) throw new Error(`"fields" must be an object`);
    for (const [name, raw] of Object.entries(row.fields as Record<string, unknown>)) {
      if (raw === null || raw === undefined || raw === "") continue;
      fields[name] = fieldValue(name, raw, kinds);
    }
  }
  return { id: String(row.id), vector: { encoding: { $case: "float32Le", value: float32Bytes(vector as ArrayLike<number>) } }, fields };
}

/** The shortest decimal that reads back as the same float32 (0.1f is `0.1`, not `0.10000000149011612`). */
export function shortFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/** An item read from the server as one JSON line (vector values as float32, shortest form). */
export function itemToJson(item: Item): string {
  const out: { id: string; vector?: number[]; fields: Record<string, unknown> } = { id: item.id, fields: {} };
  const encoding = item.vector?.encoding;
  if (encoding?.$case === "float32Le") {
    const bytes = encoding.value;
    const values: number[] = [];
    for (let i = 0; i + 4 <= bytes.length; i += 4) values.push(shortFloat32(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readFloatLE(i)));
    out.vector = values;
  } else if (encoding?.$case === "float32Values") out.vector = encoding.value.values.map((v) => shortFloat32(Math.fround(v)));
  out.fields = fieldsToJson(item.fields);
  return JSON.stringify(out);
}

export function fieldsToJson(fields: { [key: string]: FieldValue }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(fields).sort()) {
    const kind = fields[name]?.kind;
    if (kind?.$case === "text") out[name] = kind.value;
    else if (kind?.$case === "tags") out[name] = kind.value.values;
    else if (kind?.$case === "number") out[name] = kind.value;
  }
  return out;
}
