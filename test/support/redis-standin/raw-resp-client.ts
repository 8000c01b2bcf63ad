/**
 * A minimal raw-socket RESP client for tests that need the exact reply types (map vs array, simple vs
 * bulk string, double). Replies are decoded into the JSON encoding of shared/conformance/README.md:
 * bulk strings as JSON strings (valid printable UTF-8) or `{base64}`, `{status}`, `{error}`, numbers,
 * `null`, arrays, `{map}`, `{set}`, `{double}`, `{bool}`, `{bignum}`, `{verbatim, format}`,
 * `{nil: "bulk" | "array"}` for RESP2 nils received after HELLO 3 is not tracked: RESP2 nils decode to null.
 */
import net from "node:net";

export type Encoded =
  | null
  | number
  | string
  | Encoded[]
  | { base64: string }
  | { status: string }
  | { error: string; blob?: true }
  | { map: Array<[Encoded, Encoded]> }
  | { set: Encoded[] }
  | { double: number | "inf" | "-inf" | "nan"; text?: string }
  | { bool: boolean }
  | { bignum: string }
  | { verbatim: string; format: string };

/** A JSON string when the bytes are valid UTF-8 without control characters, else `{base64}`. */
export function encodeBulk(bytes: Buffer): Encoded {
  const text = bytes.toString("utf8");
  // eslint-disable-next-line no-control-regex
  if (Buffer.from(text, "utf8").equals(bytes) && !/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/.test(text)) return text;
  return { base64: bytes.toString("base64") };
}

class ReplyParser {
  private buf: Buffer = Buffer.alloc(0);
  push(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
  }
  /** Next complete reply, or undefined (the buffer is kept until a whole reply arrived). */
  next(): { value: Encoded } | undefined {
    const r = this.parse(0);
    if (!r) return undefined;
    this.buf = this.buf.subarray(r.end);
    return { value: r.value };
  }
  private line(pos: number): { text: string; end: number } | undefined {
    const i = this.buf.indexOf("\r\n", pos);
    if (i < 0) return undefined;
    return { text: this.buf.toString("utf8", pos + 1, i), end: i + 2 };
  }
  private parse(pos: number): { value: Encoded; end: number } | undefined {
    if (pos >= this.buf.length) return undefined;
    const type = String.fromCharCode(this.buf[pos] as number);
    const l = this.line(pos);
    if (!l) return undefined;
    const t = l.text;
    switch (type) {
      case "+":
        return { value: { status: t }, end: l.end };
      case "-":
        return { value: { error: t }, end: l.end };
      case ":":
        return { value: Number(t), end: l.end };
      case "_":
        return { value: null, end: l.end };
      case "#":
        return { value: { bool: t === "t" }, end: l.end };
      case "(":
        return { value: { bignum: t }, end: l.end };
      case ",": {
        const lower = t.toLowerCase();
        let v: number | "inf" | "-inf" | "nan";
        if (lower === "inf" || lower === "+inf") v = "inf";
        else if (lower === "-inf") v = "-inf";
        else if (lower === "nan" || lower === "-nan") v = "nan";
        else v = Number(t);
        const value: Encoded = typeof v === "number" && String(v) !== t ? { double: v, text: t } : { double: v };
        return { value, end: l.end };
      }
      case "$":
      case "!":
      case "=": {
        const len = Number(t);
        if (len < 0) return { value: null, end: l.end };
        if (this.buf.length < l.end + len + 2) return undefined;
        const bytes = this.buf.subarray(l.end, l.end + len);
        const end = l.end + len + 2;
        if (type === "!") return { value: { error: bytes.toString("utf8"), blob: true }, end };
        if (type === "=") return { value: { verbatim: bytes.toString("utf8", 4), format: bytes.toString("utf8", 0, 3) }, end };
        return { value: encodeBulk(Buffer.from(bytes)), end };
      }
      case "*":
      case "~":
      case ">":
      case "%": {
        const n = Number(t);
        if (n < 0) return { value: null, end: l.end };
        const count = type === "%" ? n * 2 : n;
        const items: Encoded[] = [];
        let p = l.end;
        for (let i = 0; i < count; i++) {
          const r = this.parse(p);
          if (!r) return undefined;
          items.push(r.value);
          p = r.end;
        }
        if (type === "%") {
          const pairs: Array<[Encoded, Encoded]> = [];
          for (let i = 0; i < items.length; i += 2) pairs.push([items[i] as Encoded, items[i + 1] as Encoded]);
          return { value: { map: pairs }, end: p };
        }
        return { value: type === "~" ? { set: items } : items, end: p };
      }
      default:
        throw new Error(`raw-resp-client: unknown reply type ${JSON.stringify(type)}`);
    }
  }
}

export interface RawRespClient {
  /** Writes the commands in one write and resolves with their replies, in order. */
  send(commands: ReadonlyArray<readonly Buffer[]>): Promise<Encoded[]>;
  close(): Promise<void>;
}

function encodeCommand(args: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), a, Buffer.from("\r\n"));
  return Buffer.concat(parts);
}

/** Connects to 127.0.0.1:`port`. Rejects when the connection fails. */
export async function connectRawResp(port: number): Promise<RawRespClient> {
  const socket = net.connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const parser = new ReplyParser();
  let waiting: { n: number; got: Encoded[]; resolve: (v: Encoded[]) => void; reject: (e: Error) => void } | undefined;
  const drain = (): void => {
    while (waiting) {
      const r = parser.next();
      if (!r) return;
      waiting.got.push(r.value);
      if (waiting.got.length === waiting.n) {
        const w = waiting;
        waiting = undefined;
        w.resolve(w.got);
      }
    }
  };
  socket.on("data", (d: Buffer) => {
    parser.push(d);
    drain();
  });
  const fail = (e: Error): void => {
    const w = waiting;
    waiting = undefined;
    w?.reject(e);
  };
  socket.on("error", fail);
  socket.on("close", () => fail(new Error("connection closed")));
  return {
    send: (commands) =>
      new Promise<Encoded[]>((resolve, reject) => {
        if (waiting) {
          reject(new Error("raw-resp-client: one request at a time"));
          return;
        }
        waiting = { n: commands.length, got: [], resolve, reject };
        socket.write(Buffer.concat(commands.map(encodeCommand)));
        drain();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) {
          resolve();
          return;
        }
        socket.once("close", () => resolve());
        socket.end();
      }),
  };
}
