/**
 * Bearer tokens and their roles, read from the tokens file (`--auth-tokens-file`): one
 * `<token> <role>` pair per line separated by whitespace; blank lines and lines starting with `#`
 * are ignored. The file is re-read when it changes (and on SIGHUP); a file that does not parse is
 * refused at startup, and on a reload the tokens in force stay (the error is logged).
 *
 * Only SHA-256 digests of the tokens are kept, and a presented token is compared with every known
 * digest by crypto.timingSafeEqual, all of them each time: how long a lookup takes says nothing about
 * which token matched or how much of one. Tokens never appear in messages or logs (lines are named
 * by number).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { ROLES, type Role } from "./auth-roles.js";
import { DEFAULT_FILE_POLL_MS, watchFiles, type WatchedFiles } from "./watched-files.js";

/** Shorter tokens are refused: guessable. */
export const MIN_TOKEN_LENGTH = 16;

interface TokenEntry {
  readonly digest: Buffer;
  readonly role: Role;
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Parses a tokens file's text.
 * @throws Error listing each bad line by number (never its content)
 */
export function parseTokens(text: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const number = index + 1;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) {
      problems.push(`line ${number}: expected "<token> <role>" (2 words, got ${parts.length})`);
      return;
    }
    const [token, role] = parts as [string, string];
    if (!(ROLES as readonly string[]).includes(role)) {
      problems.push(`line ${number}: unknown role (one of ${ROLES.join(", ")})`);
      return;
    }
    if (token.length < MIN_TOKEN_LENGTH) {
      problems.push(`line ${number}: the token is shorter than ${MIN_TOKEN_LENGTH} characters`);
      return;
    }
    const key = digest(token).toString("hex");
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push(`line ${number}: the same token as line ${earlier}`);
      return;
    }
    seen.set(key, number);
    entries.push({ digest: digest(token), role: role as Role });
  });
  if (problems.length > 0) throw new Error(`bad tokens file: ${problems.join("; ")}`);
  return entries;
}

export interface TokenTable {
  /** The role of `token`, or undefined when it is not known. Constant time in the token's content. */
  roleOf(token: string): Role | undefined;
  /** How many tokens are in force. */
  readonly size: number;
  /** Re-reads the file now (SIGHUP). */
  reload(): void;
  close(): void;
}

/** The role of `token` among `entries`, comparing against every entry. */
export function lookUp(entries: readonly TokenEntry[], token: string): Role | undefined {
  const presented = digest(token);
  let found: Role | undefined;
  for (const entry of entries) {
    // No early exit: every digest is compared, whether or not one matched already.
    if (timingSafeEqual(entry.digest, presented)) found = entry.role;
  }
  return found;
}

/**
 * The tokens of `file`, re-read when it changes (looked at every `pollMs`).
 * @throws Error when the file cannot be read or does not parse
 */
export function loadTokenTable(file: string, logger: Logger, pollMs = DEFAULT_FILE_POLL_MS): TokenTable {
  const read = (): TokenEntry[] => {
    const text = readFileSync(file, "utf8");
    return parseTokens(text);
  };
  let entries = read();
  if (entries.length === 0) logger.warn({ file }, "the tokens file holds no token: every call but health is refused");
  const refresh = (): void => {
    try {
      entries = read();
      logger.info({ file, tokens: entries.length }, "tokens file reloaded");
    } catch (error: unknown) {
      logger.error(
        { file, err: error instanceof Error ? error.message : String(error) },
        "tokens file changed but cannot be used: the previous tokens stay in force",
      );
    }
  };
  const watched: WatchedFiles = watchFiles([file], refresh, pollMs);
  return {
    roleOf: (token) => lookUp(entries, token),
    get size() {
      return entries.length;
    },
    reload: () => watched.reload(),
    close: () => watched.close(),
  };
}
