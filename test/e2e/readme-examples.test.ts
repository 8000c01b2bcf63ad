/**
 * The README's "Call it with grpcurl" block, run as written against a real server (embedded store,
 * 127.0.0.1 port 0). grpcurl is not installed on CI, so each command is translated to `buf curl`, which
 * takes the same JSON (protojson, snake_case or camelCase names) and also resolves everything through
 * reflection. Commands run in README order, since each example builds on the previous ones.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/main.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import type { VectorStore } from "../../src/store/vector-store.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const README_PATH = path.join(ROOT, "README.md");
const BUF = path.join(ROOT, "node_modules/.bin/buf");
const BUF_CURL = ["curl", "--protocol", "grpc", "--http2-prior-knowledge"];

/** A README shell block this test cannot run as written (a syntax or a command it does not know). */
class ReadmeExampleError extends Error {
  override name = "ReadmeExampleError";
}

// ---- extraction: the block, then its commands ----

/**
 * The body of the first ```sh block after the heading `## Call it with grpcurl`, and the README line
 * number of its first line. Throws ReadmeExampleError when the heading or the block is missing.
 */
function grpcurlBlock(markdown: string): { text: string; firstLine: number } {
  const lines = markdown.split("\n");
  const heading = lines.findIndex((l) => /^#+\s+Call it with grpcurl\s*$/.test(l));
  if (heading < 0) throw new ReadmeExampleError('README has no "Call it with grpcurl" section');
  const open = lines.findIndex((l, i) => i > heading && /^```(sh|bash|shell)\s*$/.test(l));
  if (open < 0) throw new ReadmeExampleError('no ```sh block in "Call it with grpcurl"');
  const close = lines.findIndex((l, i) => i > open && /^```\s*$/.test(l));
  if (close < 0) throw new ReadmeExampleError("the ```sh block is not closed");
  return { text: lines.slice(open + 1, close).join("\n"), firstLine: open + 2 };
}

interface ShellCommand {
  /** README line the command starts on. */
  readonly line: number;
  /** Its words after quote removal and variable expansion. */
  readonly words: string[];
}

/**
 * Splits `text` into commands the way sh would, for the subset a README uses: '...', "...", backslash
 * escapes and line continuations, `$NAME` / `${NAME}`, `#` comments, `;` and newlines. Commands made only
 * of NAME=VALUE words set variables and are not returned; `overrides` are set from the start and win over
 * those assignments. Throws
 * ReadmeExampleError on an unterminated quote, an unset variable, or any other shell feature (pipes,
 * redirections, command substitution...), so a README example that a shell would run differently fails.
 */
function shellCommands(text: string, firstLine: number, overrides: Readonly<Record<string, string>> = {}): ShellCommand[] {
  const variables = new Map<string, string>(Object.entries(overrides));
  const commands: ShellCommand[] = [];
  let words: string[] = [];
  let word: string | undefined; // undefined = between words
  let line = firstLine;
  let commandLine = firstLine;
  let i = 0;

  const fail = (message: string): never => {
    throw new ReadmeExampleError(`README line ${line}: ${message}`);
  };
  const append = (s: string): void => {
    if (word === undefined) {
      if (words.length === 0) commandLine = line;
      word = "";
    }
    word += s;
  };
  const endWord = (): void => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = (): void => {
    endWord();
    if (words.length === 0) return;
    const assignments = words.map((w) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w));
    if (assignments.every((m) => m !== null)) {
      for (const m of assignments) {
        const [, name = "", value = ""] = m ?? [];
        variables.set(name, overrides[name] ?? value);
      }
    } else {
      commands.push({ line: commandLine, words });
    }
    words = [];
  };
  const expand = (): string => {
    // text[i] is "$"
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(text.slice(i));
    const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
    const match = braced ?? plain;
    if (!match) return fail(`unsupported expansion "${text.slice(i, i + 4)}"`);
    const name = match[1] ?? "";
    const value = variables.get(name);
    if (value === undefined) return fail(`$${name} is not set`);
    i += match[0].length;
    return value;
  };

  while (i < text.length) {
    const c = text[i] ?? "";
    if (c === "\n") {
      endCommand();
      line += 1;
      i += 1;
    } else if (c === " " || c === "\t") {
      endWord();
      i += 1;
    } else if (c === ";") {
      endCommand();
      i += 1;
    } else if (c === "#" && word === undefined) {
      while (i < text.length && text[i] !== "\n") i += 1;
    } else if (c === "\\") {
      const next = text[i + 1];
      if (next === undefined) fail("a backslash ends the block");
      if (next === "\n") line += 1;
      else append(next ?? "");
      i += 2;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) fail("unterminated single quote");
      const quoted = text.slice(i + 1, end);
      append(quoted);
      line += quoted.split("\n").length - 1;
      i = end + 1;
    } else if (c === '"') {
      append("");
      i += 1;
      for (;;) {
        const d = text[i];
        if (d === undefined) fail("unterminated double quote");
        if (d === '"') break;
        if (d === "$") append(expand());
        else if (d === "`") fail("command substitution");
        else if (d === "\\" && ["$", "`", '"', "\\", "\n"].includes(text[i + 1] ?? "")) {
          if (text[i + 1] !== "\n") append(text[i + 1] ?? "");
          else line += 1;
          i += 2;
        } else {
          if (d === "\n") line += 1;
          append(d ?? "");
          i += 1;
        }
      }
      i += 1;
    } else if (c === "$") {
      // Unquoted expansions would be field-split by sh; README values have no blanks, so keep them whole
      // but refuse a value that would split.
      const value = expand();
      if (/\s/.test(value)) fail("an unquoted variable holding blanks");
      append(value);
    } else if ("|&<>`()".includes(c)) {
      fail(`unsupported shell syntax "${c}"`);
    } else {
      append(c);
      i += 1;
    }
  }
  endCommand();
  return commands;
}

// ---- translation: grpcurl -> buf curl ----

type BufCurlRun =
  | { readonly kind: "call"; readonly method: string; readonly request: unknown; readonly args: string[] }
  | { readonly kind: "list"; readonly args: string[] }
  | { readonly kind: "describe"; readonly symbol: string; readonly args: string[] };

/**
 * The `buf curl` arguments (after `buf`) doing what grpcurl `words` does. Knows `-plaintext` (required:
 * buf talks h2c), `-v` and `-d JSON`, then `ADDR list`, `ADDR describe SYMBOL` or `ADDR METHOD`. Throws
 * ReadmeExampleError on anything else, and when -d is not valid JSON (grpcurl would refuse it too).
 */
function toBufCurl(words: readonly string[]): BufCurlRun {
  if (words[0] !== "grpcurl") throw new ReadmeExampleError(`not a grpcurl command: ${words[0]}`);
  let plaintext = false;
  let verbose = false;
  let data: string | undefined;
  let at = 1;
  // Go's flag package: flags come first, "-x" and "--x" are the same, "-d=v" or "-d v".
  for (; at < words.length; at += 1) {
    const w = words[at] ?? "";
    if (!w.startsWith("-")) break;
    const [flag, inline] = w.replace(/^--?/, "").split(/=(.*)/s);
    if (flag === "plaintext" && inline === undefined) plaintext = true;
    else if (flag === "v" && inline === undefined) verbose = true;
    else if (flag === "d") {
      data = inline ?? words[(at += 1)];
      if (data === undefined) throw new ReadmeExampleError("-d without a value");
    } else throw new ReadmeExampleError(`unknown grpcurl flag ${w}`);
  }
  if (!plaintext) throw new ReadmeExampleError("only -plaintext examples can be run (buf curl over h2c)");
  const [address, ...rest] = words.slice(at);
  if (address === undefined || !/^[^/\s]+:\d+$/.test(address)) throw new ReadmeExampleError(`bad address ${address}`);
  const base = `http://${address}`;
  const common = [...BUF_CURL, ...(verbose ? ["-v"] : [])];
  const [verb, symbol, ...extra] = rest;
  if (extra.length > 0 || verb === undefined) throw new ReadmeExampleError(`unexpected arguments: ${rest.join(" ")}`);
  if (verb === "list" || verb === "describe") {
    if (data !== undefined) throw new ReadmeExampleError(`-d with ${verb}`);
    if (verb === "list" && symbol === undefined) return { kind: "list", args: [...common, "--list-methods", base] };
    if (verb === "describe" && symbol !== undefined) return { kind: "describe", symbol, args: [...common, "--list-methods", base] };
    throw new ReadmeExampleError(`unsupported: ${rest.join(" ")}`);
  }
  if (symbol !== undefined) throw new ReadmeExampleError(`unexpected arguments: ${rest.join(" ")}`);
  // grpcurl also accepts "pkg.Service.Method"; buf wants "pkg.Service/Method".
  const method = verb.includes("/") ? verb : verb.replace(/\.([^.]+)$/, "/$1");
  const body = data ?? "{}";
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch (error) {
    throw new ReadmeExampleError(`-d of ${method} is not JSON: ${(error as Error).message}`);
  }
  return { kind: "call", method, request, args: [...common, "-d", body, `${base}/${method}`] };
}

// ---- running ----

interface Outcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs buf with `args` (no shell); resolves with its exit code and output, whatever the code. */
function runBuf(args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // Asynchronous: the server runs in this process and must keep serving while buf talks to it.
    execFile(BUF, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        reject(new Error(`buf did not run: ${error.message}\n${stderr}`));
        return;
      }
      resolve({ exitCode: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** The JSON documents buf prints one after the other (one per streamed message). */
function jsonDocuments(text: string): unknown[] {
  const documents: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") {
      if (depth === 0) start = i;
      depth += 1;
    } else if (c === "}") {
      depth -= 1;
      if (depth === 0) documents.push(JSON.parse(text.slice(start, i + 1)));
    } else if (depth === 0 && !/\s/.test(c ?? "")) throw new Error(`not JSON output: ${text}`);
  }
  if (depth !== 0) throw new Error(`truncated JSON output: ${text}`);
  return documents;
}

interface Hit {
  id: string;
  distance?: number;
}

/**
 * Checks what the README promises for the key examples; returns the name of the promise checked, or
 * undefined for examples whose exit code is all that is checked.
 */
function checkPromise(run: BufCurlRun, outcome: Outcome): string | undefined {
  if (run.kind === "list") {
    expect(outcome.stdout).toContain("vecrec.v1.VectorService/Search");
    expect(outcome.stdout).toContain("grpc.health.v1.Health/Check");
    return "list";
  }
  if (run.kind === "describe") {
    const listed = outcome.stdout.split("\n").filter((m) => m.startsWith(`${run.symbol}/`));
    expect(listed.length, `${run.symbol} has methods`).toBeGreaterThan(0);
    return `describe ${run.symbol}`;
  }
  const request = run.request as Record<string, unknown>;
  const messages = jsonDocuments(outcome.stdout);
  switch (run.method) {
    case "grpc.health.v1.Health/Check":
      expect(messages).toEqual([{ status: "SERVING" }]);
      return "health SERVING";
    case "vecrec.v1.VectorService/Search": {
      const hits = messages as Hit[];
      if (typeof request.diversity === "number") {
        // MMR: user:1 (the query's own vector) first, then user:3 rather than user:2, a near duplicate of
        // user:1; every hit carries its MMR score and the pool (all 3 users) is in the trailer.
        expect(hits.map((h) => h.id)).toEqual(["user:1", "user:3"]);
        for (const hit of messages as { mmrScore?: number }[]) expect(typeof hit.mmrScore).toBe("number");
        if (run.args.includes("-v")) expect(outcome.stderr).toMatch(/vecrec-search-diversity-pool: 3\b/i);
        return "search with diversity";
      }
      const distances = hits.map((h) => h.distance ?? 0);
      expect(distances, "closest first").toEqual([...distances].sort((a, b) => a - b));
      if (typeof request.max_distance === "number") {
        // Range: user:1 (the same vector) and user:2 (cos ~0.997) are within 0.1, user:3 is not a book reader.
        const radius = request.max_distance;
        expect(hits.map((h) => h.id)).toEqual(["user:1", "user:2"]);
        for (const d of distances) expect(d).toBeLessThanOrEqual(radius);
        return "range search";
      }
      if (request.index_name === "people") {
        // Through the alias of users: the same answer as the index itself.
        expect(hits.map((h) => h.id)).toEqual(["user:1", "user:2"]);
        return "search through an alias";
      }
      if (request.vector !== undefined) {
        // The query is user:1's own vector: user:1 comes first, then user:2; the total is in the trailer.
        expect(hits.map((h) => h.id)).toEqual(["user:1", "user:2"]);
        if (run.args.includes("-v")) expect(outcome.stderr).toMatch(/vecrec-total-matches: 2\b/i);
        return "search by vector";
      }
      if (request.item_id !== undefined) {
        expect(hits.map((h) => h.id)).not.toContain(request.item_id);
        expect(hits.length).toBeGreaterThan(0);
        return "search by item";
      }
      expect(hits.map((h) => h.id)).toEqual(["user:3"]);
      return "filter-only search";
    }
    case "vecrec.v1.VectorService/GetItems": {
      const [response] = messages as { items?: { id: string }[]; missingIds?: string[] }[];
      expect(response?.missingIds).toEqual(["nope"]);
      expect(response?.items?.map((item) => item.id)).toEqual(["user:1"]);
      return "get items";
    }
    case "vecrec.v1.VectorService/Recommend": {
      const items = messages as { itemId: string; contributions?: { neighborId: string }[] }[];
      expect(items.map((item) => item.itemId)).toEqual(expect.arrayContaining(["book:dune", "comic:watchmen"]));
      for (const item of items) expect(item.contributions?.length, item.itemId).toBeGreaterThan(0);
      if (request.item_index_name !== undefined) {
        // Shaped by the catalogue: both items are in it, priced up to 20, of two categories.
        expect(items.map((item) => item.itemId).sort()).toEqual(["book:dune", "comic:watchmen"]);
        return "shaped recommend";
      }
      return "recommend";
    }
    case "vecrec.v1.VectorService/CreateAlias":
      expect(messages).toEqual([{ created: true }]);
      return "create alias";
    case "vecrec.v1.VectorService/UpdateAlias":
      expect(messages).toEqual([{ previousIndexName: "users" }]);
      return "move alias";
    case "vecrec.v1.VectorService/DeleteAlias":
      expect(messages).toEqual([{ indexName: "compact" }]);
      return "delete alias";
    default:
      return undefined;
  }
}

const EXPECTED_PROMISES = [
  "list",
  "describe vecrec.v1.VectorService",
  "health SERVING",
  "search by vector",
  "range search",
  "search with diversity",
  "search by item",
  "filter-only search",
  "get items",
  "recommend",
  "shaped recommend",
  "create alias",
  "search through an alias",
  "move alias",
  "delete alias",
];

// ---- the tests ----

const readme = readFileSync(README_PATH, "utf8");
const block = grpcurlBlock(readme);
// Collected with the README's own address, for the test names; beforeAll re-reads them with the server's.
const listed = shellCommands(block.text, block.firstLine);

describe("README grpcurl examples, translated", () => {
  it("extracts every command, joining continued lines and expanding $A and $S", () => {
    const commands = shellCommands(block.text, block.firstLine, { A: "127.0.0.1:9" });
    expect(commands.length).toBeGreaterThan(10);
    for (const c of commands) {
      expect(c.words[0]).toBe("grpcurl");
      expect(c.words).toContain("127.0.0.1:9");
      expect(c.words.join(" ")).not.toContain("$");
    }
    const upsert = commands.find((c) => c.words.at(-1) === "vecrec.v1.VectorService/Upsert");
    expect(upsert, "the Upsert example").toBeDefined();
    const body = JSON.parse(upsert?.words[upsert.words.indexOf("-d") + 1] ?? "") as {
      items: { id: string; vector: { float32_le?: string } }[];
    };
    expect(body.items.map((item) => item.id)).toEqual(["user:1", "user:2", "user:3"]);
    // The comment above the example says what the base64 holds.
    const le = Buffer.from(body.items[2]?.vector.float32_le ?? "", "base64");
    expect(le).toHaveLength(12);
    expect([0, 1, 2].map((k) => le.readFloatLE(k * 4))).toEqual([...Float32Array.from([0.1, 0.2, 0.9])]);
  });

  it("translates grpcurl to buf curl", () => {
    const [health, list, describeIt, noData] = shellCommands(
      [
        "A=h:1; S=p.S",
        `grpcurl -plaintext -v -d '{"a":`,
        ` 1}' $A grpc.health.v1.Health/Check`,
        "grpcurl -plaintext $A list",
        "grpcurl -plaintext \\",
        "  $A describe $S",
        "grpcurl --plaintext ${A} $S.M # a comment",
      ].join("\n"),
      1,
    ).map((c) => toBufCurl(c.words));
    expect(health).toEqual({
      kind: "call",
      method: "grpc.health.v1.Health/Check",
      request: { a: 1 },
      args: [...BUF_CURL, "-v", "-d", '{"a":\n 1}', "http://h:1/grpc.health.v1.Health/Check"],
    });
    expect(list).toEqual({ kind: "list", args: [...BUF_CURL, "--list-methods", "http://h:1"] });
    expect(describeIt).toEqual({ kind: "describe", symbol: "p.S", args: [...BUF_CURL, "--list-methods", "http://h:1"] });
    expect(noData).toEqual({ kind: "call", method: "p.S/M", request: {}, args: [...BUF_CURL, "-d", "{}", "http://h:1/p.S/M"] });
  });

  it("refuses what it cannot run as written", () => {
    const translate = (text: string): BufCurlRun[] => shellCommands(text, 1).map((c) => toBufCurl(c.words));
    expect(() => translate("grpcurl -plaintext -d '{\"a\": 1} h:1 x.S/M")).toThrow(/unterminated single quote/);
    expect(() => translate("grpcurl -plaintext $B list")).toThrow(/\$B is not set/);
    expect(() => translate("grpcurl -plaintext -d '{\"a\": }' h:1 x.S/M")).toThrow(/not JSON/);
    expect(() => translate("grpcurl -d '{}' h:1 x.S/M")).toThrow(/-plaintext/);
    expect(() => translate("grpcurl -plaintext -insecure h:1 list")).toThrow(/unknown grpcurl flag/);
    expect(() => translate("curl h:1")).toThrow(/not a grpcurl command/);
    expect(() => translate("grpcurl -plaintext h:1 list | head")).toThrow(/unsupported shell syntax/);
  });

  describe("against a real server", () => {
    let store: VectorStore;
    let server: RunningServer;
    let address: string;
    let runs: { command: ShellCommand; run: BufCurlRun }[] = [];
    const checked: string[] = [];

    beforeAll(async () => {
      store = createEmbeddedStore();
      server = await startServer({ store, listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
      address = `127.0.0.1:${server.port}`;
      runs = shellCommands(block.text, block.firstLine, { A: address }).map((command) => ({
        command,
        run: toBufCurl(command.words),
      }));
    });

    afterAll(async () => {
      await server?.close({ graceMs: 1_000 });
      await store?.close();
    });

    it("a corrupted copy of an example fails (wrong field name, wrong method)", async () => {
      // A copy of the README's GetIndex example with one field name misspelt: buf exits non-zero, as
      // grpcurl would, so the run below fails whenever the README gets an example wrong.
      const example = block.text.split("\n").find((l) => l.includes("$S/GetIndex"));
      expect(example, "the README's GetIndex example").toBeDefined();
      const variables = { A: address, S: "vecrec.v1.VectorService" };
      const [good] = shellCommands(example ?? "", 1, variables);
      const [misspelt] = shellCommands((example ?? "").replace('"index_name"', '"index_nam"'), 1, variables);
      const [wrongMethod] = shellCommands((example ?? "").replace("$S/GetIndex", "$S/GetIndexes"), 1, variables);
      if (!good || !misspelt || !wrongMethod) throw new Error("no command extracted");
      // The index does not exist yet: the good one reaches the server and gets NOT_FOUND (5 << 3).
      expect((await runBuf(toBufCurl(good.words).args)).exitCode).toBe(5 << 3);
      const misspeltOutcome = await runBuf(toBufCurl(misspelt.words).args);
      expect(misspeltOutcome.exitCode).not.toBe(0);
      expect(misspeltOutcome.exitCode).not.toBe(5 << 3);
      expect(misspeltOutcome.stderr).toContain("index_nam");
      expect((await runBuf(toBufCurl(wrongMethod.words).args)).exitCode).not.toBe(0);
    });

    listed.forEach((command, n) => {
      const name = command.words.filter((w) => !w.startsWith("-") && !w.startsWith("{") && w !== "grpcurl").slice(1).join(" ");
      it(`#${n + 1} (README line ${command.line}): ${name}`, async () => {
        const entry = runs[n];
        if (!entry) throw new Error("the README changed while the test ran");
        const outcome = await runBuf(entry.run.args);
        expect(outcome.exitCode, `buf curl ${entry.run.args.join(" ")}\n${outcome.stderr}`).toBe(0);
        const promise = checkPromise(entry.run, outcome);
        if (promise !== undefined) checked.push(promise);
      });
    });

    it("checked every promise the README makes", () => {
      expect([...checked].sort()).toEqual([...EXPECTED_PROMISES].sort());
    });
  });
});
