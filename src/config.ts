/**
 * Configuration, read once at startup from flags and environment (a flag wins over its variable) and
 * validated as a whole: `loadConfig` either returns a complete Config or throws ConfigError naming
 * every bad setting.
 */
import { Command, CommanderError } from "commander";
import os from "node:os";
import { z } from "zod";
import { DURABILITIES, type Durability } from "./domain/durability.js";
import { packageVersion } from "./version.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_LISTEN = "127.0.0.1:50051";
/** The embedded engine's data directory when none is given (relative to the working directory). */
export const DEFAULT_DATA_DIR = "vecrec-data";
/** The most worker processes `--workers` accepts. */
export const MAX_WORKERS = 256;

export interface Config {
  /** host:port the gRPC server binds. */
  readonly listen: string;
  /**
   * redis:// or rediss:// URL, or several separated by commas (seeds of a Redis Cluster); undefined
   * means the embedded in-memory engine. Whether Redis is a cluster is found out on connecting.
   */
  readonly redisUrl: string | undefined;
  readonly logLevel: LogLevel;
  /**
   * Processes serving the port (src/workers.ts), resolved: `--workers 0` or unset means
   * os.availableParallelism() on Redis and 1 on the embedded engine, whose data lives in one process
   * (more than 1 there is a ConfigError). 1 = this process serves, as it always did.
   */
  readonly workers: number;
  /**
   * The durability of a write that does not ask for one (a write request's durability UNSPECIFIED):
   * `none` (default) acknowledges once Redis applied it; `local` also waits until it is fsynced to
   * Redis's append-only file (WAITAOF 1 0), `replicas` also to a replica's (WAITAOF 1 1). Other than
   * `none` needs Redis (a ConfigError on the embedded engine) with appendonly yes.
   */
  readonly redisDurability: Durability;
  /**
   * The embedded engine's data directory (`--data-dir`, default `vecrec-data` in the working
   * directory): where it keeps its data across restarts. undefined = in memory only (`--in-memory`),
   * and always on Redis.
   */
  readonly dataDir: string | undefined;
}

/** A bad setting: the message names each one; the process should exit with EXIT_CODE. */
export class ConfigError extends Error {
  static readonly EXIT_CODE = 2;
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** `--help` or `--version` was given: the text is printed already; exit with this code. */
export class ConfigExitRequest extends Error {
  constructor(readonly exitCode: number) {
    super("exit requested");
    this.name = "ConfigExitRequest";
  }
}

/** `host:port`, `[ipv6]:port`; port 0..65535. */
const LISTEN_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

const configSchema = z.object({
  listen: z
    .string()
    .regex(LISTEN_PATTERN, { error: "must be host:port, e.g. 127.0.0.1:50051 or [::]:50051" })
    .refine((value) => Number(LISTEN_PATTERN.exec(value)?.[2]) <= 65535, { error: "port must be 0..65535" }),
  redisUrl: z
    .string()
    .refine(
      (value) => {
        const urls = value
          .split(",")
          .map((url) => url.trim())
          .filter((url) => url !== "");
        return urls.length > 0 && urls.every((url) => z.url({ protocol: /^rediss?$/ }).safeParse(url).success);
      },
      { error: "must be a redis:// or rediss:// URL, or several separated by commas (cluster seeds); unset for the embedded engine" },
    )
    .optional(),
  logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }),
  workers: z
    .string()
    .regex(/^\d{1,4}$/, { error: `must be a whole number from 0 to ${MAX_WORKERS} (0 = one per core on Redis)` })
    .transform(Number)
    .refine((value) => value <= MAX_WORKERS, { error: `must be a whole number from 0 to ${MAX_WORKERS} (0 = one per core on Redis)` }),
  redisDurability: z.enum(DURABILITIES, { error: `must be one of ${DURABILITIES.join(", ")}` }),
});

const SETTING_NAMES: Record<string, string> = {
  listen: "--listen / VECREC_LISTEN",
  redisUrl: "--redis-url / VECREC_REDIS_URL",
  logLevel: "--log-level / VECREC_LOG_LEVEL",
  workers: "--workers / VECREC_WORKERS",
  redisDurability: "--redis-durability / VECREC_REDIS_DURABILITY",
  dataDir: "--data-dir / VECREC_DATA_DIR",
  inMemory: "--in-memory / VECREC_IN_MEMORY",
};

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/**
 * Reads flags from `argv` (process.argv shape: node, script, ...args) and `env`.
 * @throws ConfigError on an unknown flag or a bad value; ConfigExitRequest after --help / --version.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const program = new Command()
    .name("vecrec")
    .description("A gRPC vector database for recommendations, on Redis or in memory")
    .version(packageVersion(), "-V, --version", "print the version and exit")
    .option("--listen <host:port>", `address to bind (env VECREC_LISTEN, default ${DEFAULT_LISTEN})`)
    .option(
      "--redis-url <url>",
      "redis:// or rediss:// URL, or comma-separated cluster seeds (env VECREC_REDIS_URL); a cluster is detected; unset = embedded, in memory",
    )
    .option("--log-level <level>", `one of ${LOG_LEVELS.join(", ")} (env VECREC_LOG_LEVEL, default info)`)
    .option(
      "--workers <n>",
      "processes serving the port (env VECREC_WORKERS); 0 or unset = one per core on Redis, 1 on the embedded engine (its only value)",
    )
    .option(
      "--redis-durability <level>",
      `none, local or replicas: how durable a write that does not ask must be before it is acknowledged (env VECREC_REDIS_DURABILITY, default none); local = fsynced to Redis's append-only file, replicas = also to a replica's (needs appendonly yes)`,
    )
    .option(
      "--data-dir <dir>",
      `where the embedded engine keeps its data across restarts (env VECREC_DATA_DIR, default ./${DEFAULT_DATA_DIR}); not used with --redis-url`,
    )
    .option("--in-memory", "embedded engine with data in memory only, lost on exit (env VECREC_IN_MEMORY=true)")
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  try {
    program.parse([...argv]);
  } catch (error: unknown) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) throw new ConfigExitRequest(0);
      throw new ConfigError(error.message.replace(/^error: /, ""));
    }
    throw error;
  }
  const flags = program.opts<{
    listen?: string;
    redisUrl?: string;
    logLevel?: string;
    workers?: string;
    redisDurability?: string;
    dataDir?: string;
    inMemory?: boolean;
  }>();
  const raw = {
    listen: flags.listen ?? emptyToUndefined(env.VECREC_LISTEN) ?? DEFAULT_LISTEN,
    redisUrl: emptyToUndefined(flags.redisUrl ?? env.VECREC_REDIS_URL),
    logLevel: flags.logLevel ?? emptyToUndefined(env.VECREC_LOG_LEVEL) ?? "info",
    workers: (flags.workers ?? emptyToUndefined(env.VECREC_WORKERS) ?? "0").trim(),
    redisDurability: (flags.redisDurability ?? emptyToUndefined(env.VECREC_REDIS_DURABILITY) ?? "none").trim().toLowerCase(),
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? "");
      const value = (raw as Record<string, unknown>)[key];
      // A Redis URL may hold a password: never echo it.
      const got = key === "redisUrl" ? "" : ` (got ${JSON.stringify(value)})`;
      return `${SETTING_NAMES[key] ?? key}: ${issue.message}${got}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const { listen, redisUrl, logLevel, workers, redisDurability } = parsed.data;
  const dataDir = resolveDataDir(redisUrl, flags.dataDir ?? emptyToUndefined(env.VECREC_DATA_DIR), flags.inMemory, env.VECREC_IN_MEMORY);
  if (redisUrl === undefined && redisDurability !== "none") {
    throw new ConfigError(
      `invalid configuration:\n  ${SETTING_NAMES.redisDurability}: the embedded engine keeps its data in memory only, so writes ` +
        `cannot be made durable; set --redis-url (a Redis with appendonly yes), or leave it none (got ${JSON.stringify(raw.redisDurability)})`,
    );
  }
  if (redisUrl === undefined && workers > 1) {
    throw new ConfigError(
      `invalid configuration:\n  ${SETTING_NAMES.workers}: the embedded engine keeps its data inside one process, so it is ` +
        `served by 1 worker only; set --redis-url to serve with several, or leave --workers unset (got ${JSON.stringify(raw.workers)})`,
    );
  }
  return { listen, redisUrl, logLevel, workers: workers === 0 ? defaultWorkers(redisUrl) : workers, redisDurability, dataDir };
}

/**
 * The embedded engine's data directory: undefined on Redis and with --in-memory / VECREC_IN_MEMORY=true
 * (1, yes), else --data-dir / VECREC_DATA_DIR or the default. The flag --in-memory with --data-dir is
 * a ConfigError (which one was meant?); the variable VECREC_IN_MEMORY yields to an explicit --data-dir.
 */
function resolveDataDir(
  redisUrl: string | undefined,
  dataDir: string | undefined,
  inMemoryFlag: boolean | undefined,
  inMemoryEnv: string | undefined,
): string | undefined {
  if (inMemoryFlag === true && dataDir !== undefined) {
    throw new ConfigError(
      `invalid configuration:\n  ${SETTING_NAMES.inMemory}: keeps the data in memory only, but ${SETTING_NAMES.dataDir} names a directory (got ${JSON.stringify(dataDir)}); give one of them`,
    );
  }
  const envInMemory = emptyToUndefined(inMemoryEnv)?.trim().toLowerCase();
  if (envInMemory !== undefined && !["true", "1", "yes", "false", "0", "no"].includes(envInMemory)) {
    throw new ConfigError(`invalid configuration:\n  ${SETTING_NAMES.inMemory}: must be true or false (got ${JSON.stringify(inMemoryEnv)})`);
  }
  if (redisUrl !== undefined || inMemoryFlag === true) return undefined;
  if (dataDir === undefined && (envInMemory === "true" || envInMemory === "1" || envInMemory === "yes")) return undefined;
  return dataDir ?? DEFAULT_DATA_DIR;
}

/** `--workers 0` / unset: one process per core on Redis; 1 on the embedded engine (its data lives in one process). */
export function defaultWorkers(redisUrl: string | undefined): number {
  return redisUrl === undefined ? 1 : Math.min(os.availableParallelism(), MAX_WORKERS);
}
