/**
 * Incremental parser of client requests: RESP arrays of bulk strings (what clients send) and
 * inline commands (what `redis-cli`/telnet send). Feed bytes with `push`, then drain `next()`.
 */
export class RequestParser {
  private buf: Buffer = Buffer.alloc(0);

  push(data: Buffer): void {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
  }

  /**
   * Returns the next complete command's arguments, or undefined when more bytes are needed.
   * Throws Error on a protocol violation (the caller closes the connection, like Redis).
   */
  next(): Buffer[] | undefined {
    if (this.buf.length === 0) return undefined;
    if (this.buf[0] !== 0x2a /* '*' */) return this.inline();
    let pos = 0;
    const header = this.readLine(pos);
    if (!header) return undefined;
    const count = Number.parseInt(header.text.slice(1), 10);
    if (!Number.isFinite(count)) throw new Error("Protocol error: invalid multibulk length");
    pos = header.next;
    const args: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const l = this.readLine(pos);
      if (!l) return undefined;
      if (!l.text.startsWith("$")) throw new Error(`Protocol error: expected '$', got '${l.text.slice(0, 1)}'`);
      const len = Number.parseInt(l.text.slice(1), 10);
      if (!Number.isFinite(len) || len < 0) throw new Error("Protocol error: invalid bulk length");
      if (this.buf.length < l.next + len + 2) return undefined;
      args.push(Buffer.from(this.buf.subarray(l.next, l.next + len)));
      pos = l.next + len + 2;
    }
    this.buf = this.buf.subarray(pos);
    return args;
  }

  private inline(): Buffer[] | undefined {
    const l = this.readLine(0);
    if (!l) return undefined;
    this.buf = this.buf.subarray(l.next);
    const parts = l.text.trim().split(/\s+/).filter((p) => p.length > 0);
    if (parts.length === 0) return this.next();
    return parts.map((p) => Buffer.from(p, "utf8"));
  }

  private readLine(from: number): { text: string; next: number } | undefined {
    const idx = this.buf.indexOf("\r\n", from);
    if (idx < 0) return undefined;
    return { text: this.buf.toString("utf8", from, idx), next: idx + 2 };
  }
}
