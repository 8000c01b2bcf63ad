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
import { emptyToUndefined, readFileSettings, securitySettings, type FileSetting } from "./file-settings.js";
import { ConfigError, ConfigExitRequest } from "./config-errors.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_LISTEN = "127.0.0.1:50051";
/** The embedded engine's data directory when none is given (relative to the working directory). */
export const DEFAULT_DATA_DIR = "vecrec-data";
/** Default of --slow-call-ms. */
export const DEFAULT_SLOW_CALL_MS = 1000;
/** The most threads `--scan-threads` accepts (a search uses at most 4: THREAD_REGIONS). */
export const MAX_SCAN_THREADS = 16;

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
   * What every Redis key and index name vecrec writes starts with (default `vecrec:`): deployments that
   * share one Redis each keep their own (`--redis-key-prefix`). Only with `--redis-url`.
   */
  readonly redisKeyPrefix: string;
  /**
   * The embedded engine's data directory (`--data-dir`, default `vecrec-data` in the working
   * directory): where it keeps its data across restarts. undefined = in memory only (`--in-memory`),
   * and always on Redis.
   */
  readonly dataDir: string | undefined;
  /**
   * TLS on the gRPC listener (README "Security"): PEM certificate chain and key files, re-read when
   * they change; with `clientCaFile`, clients must present a certificate signed by that CA (mTLS).
   * Undefined: plaintext.
   */
  readonly tls: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile: string | undefined } | undefined;
  /** `<token> <role>` lines (re-read when the file changes or on SIGHUP); undefined: no authentication. */
  readonly authTokensFile: string | undefined;
  /** Server reflection: `on` (open), `off` (not served) or `auth` (needs a token of any role); undefined = `on`. */
  readonly reflection?: ReflectionMode | undefined;
  /**
   * The most calls served at once by one server process (health excepted); more get RESOURCE_EXHAUSTED
   * at once; undefined = the server's default (1,000).
   */
  readonly maxConcurrentCalls?: number | undefined;
  /** TLS material for Redis (needs `rediss://` URLs): CA to trust, and a client certificate and key. */
  readonly redisTls: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string } | undefined;
  /** The Redis password, from --redis-password-file or VECREC_REDIS_PASSWORD (not from the process arguments). */
  readonly redisPassword: string | undefined;
  /** host:port of the Prometheus `/metrics` HTTP listener; undefined = no metrics. */
  readonly metricsListen: string | undefined;
  /** Calls lasting this long or longer log their access line at warn; 0 = never. */
  readonly slowCallMs: number;
  /**
   * Threads besides the main one that the embedded engine shares its large exact scans with
   * (`--scan-threads`); undefined = its default (one per core beyond the first, at most 4), 0 = the
   * main thread only. Only on the embedded engine.
   */
  readonly scanThreads: number | undefined;
  /** host:port of a plaintext listener serving gRPC health only (probes without TLS or tokens); undefined: none. */
  readonly healthListen?: string | undefined;
}

export const REFLECTION_MODES = ["on", "off", "auth"] as const;
export type ReflectionMode = (typeof REFLECTION_MODES)[number];
export const MAX_MAX_CONCURRENT_CALLS = 1_000_000;

export { ConfigError, ConfigExitRequest } from "./config-errors.js";

/** A Redis key prefix: printable, no spaces, no braces (cluster hash tags). */
const REDIS_KEY_PREFIX_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** The Redis key prefix when none is set. */
export const DEFAULT_REDIS_KEY_PREFIX = "vecrec:";

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
    .refine(
      (value) =>
        value
          .split(",")
          .map((url) => url.trim())
          .filter((url) => url !== "" && URL.canParse(url))
          .every((url) => ["", "/", "/0"].includes(new URL(url).pathname)),
      { error: "must not select a database other than 0 (the Query Engine indexes only database 0): leave the path out" },
    )
    .optional(),
  logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }),
  workers: z
    .string()
    .regex(/^\d{1,4}$/, { error: `must be a whole number from 0 to ${MAX_WORKERS} (0 = one per core on Redis)` })
    .transform(Number)
    .refine((value) => value <= MAX_WORKERS, { error: `must be a whole number from 0 to ${MAX_WORKERS} (0 = one per core on Redis)` }),
  redisDurability: z.enum(DURABILITIES, { error: `must be one of ${DURABILITIES.join(", ")}` }),
  redisKeyPrefix: z
    .string()
    .regex(REDIS_KEY_PREFIX_PATTERN, {
      error: "must be 1 to 64 letters, digits and . _ - : (no braces: a hash tag would put every key on one cluster slot)",
    })
    .optional(),
  healthListen: z
    .string()
    .regex(LISTEN_PATTERN, { error: "must be host:port, e.g. 0.0.0.0:50052" })
    .refine((value) => Number(LISTEN_PATTERN.exec(value)?.[2]) <= 65535, { error: "port must be 0..65535" })
    .optional(),
  reflection: z.enum(REFLECTION_MODES, { error: `must be one of ${REFLECTION_MODES.join(", ")}` }).optional(),
  maxConcurrentCalls: z
    .string()
    .regex(/^\d{1,7}$/, { error: `must be a whole number from 1 to ${MAX_MAX_CONCURRENT_CALLS}` })
    .transform(Number)
    .refine((value) => value >= 1 && value <= MAX_MAX_CONCURRENT_CALLS, { error: `must be a whole number from 1 to ${MAX_MAX_CONCURRENT_CALLS}` })
    .optional(),
  metricsListen: z
    .string()
    .regex(LISTEN_PATTERN, { error: "must be host:port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464" })
    .refine((value) => Number(LISTEN_PATTERN.exec(value)?.[2]) <= 65535, { error: "port must be 0..65535" })
    .optional(),
  scanThreads: z
    .string()
    .regex(/^\d{1,2}$/, { error: `must be a whole number from 0 to ${MAX_SCAN_THREADS}` })
    .transform(Number)
    .refine((value) => value <= MAX_SCAN_THREADS, { error: `must be a whole number from 0 to ${MAX_SCAN_THREADS}` })
    .optional(),
  slowCallMs: z
    .string()
    .regex(/^\d{1,9}$/, { error: "must be a whole number of milliseconds (0 = never)" })
    .transform(Number),
});

const SETTING_NAMES: Record<string, string> = {
  listen: "--listen / VECREC_LISTEN",
  redisUrl: "--redis-url / VECREC_REDIS_URL",
  logLevel: "--log-level / VECREC_LOG_LEVEL",
  workers: "--workers / VECREC_WORKERS",
  redisDurability: "--redis-durability / VECREC_REDIS_DURABILITY",
  redisKeyPrefix: "--redis-key-prefix / VECREC_REDIS_KEY_PREFIX",
  dataDir: "--data-dir / VECREC_DATA_DIR",
  inMemory: "--in-memory / VECREC_IN_MEMORY",
  reflection: "--reflection / VECREC_REFLECTION",
  healthListen: "--health-listen / VECREC_HEALTH_LISTEN",
  maxConcurrentCalls: "--max-concurrent-calls / VECREC_MAX_CONCURRENT_CALLS",
  metricsListen: "--metrics-listen / VECREC_METRICS_LISTEN",
  slowCallMs: "--slow-call-ms / VECREC_SLOW_CALL_MS",
  scanThreads: "--scan-threads / VECREC_SCAN_THREADS",
};

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
      "--redis-key-prefix <prefix>",
      `what every Redis key and index name of this deployment starts with (env VECREC_REDIS_KEY_PREFIX, default ${DEFAULT_REDIS_KEY_PREFIX}); deployments sharing one Redis each need their own`,
    )
    .option(
      "--data-dir <dir>",
      `where the embedded engine keeps its data across restarts (env VECREC_DATA_DIR, default ./${DEFAULT_DATA_DIR}); not used with --redis-url`,
    )
    .option("--in-memory", "embedded engine with data in memory only, lost on exit (env VECREC_IN_MEMORY=true)")
    .option("--tls-cert <file>", "PEM certificate chain: serve TLS only (env VECREC_TLS_CERT; with --tls-key; re-read when it changes)")
    .option("--tls-key <file>", "PEM private key of --tls-cert (env VECREC_TLS_KEY)")
    .option("--tls-client-ca <file>", "PEM CA: require client certificates signed by it, mTLS (env VECREC_TLS_CLIENT_CA)")
    .option("--auth-tokens-file <file>", "'<token> <role>' lines, role read, write or admin: require 'authorization: Bearer <token>' (env VECREC_AUTH_TOKENS_FILE; re-read when it changes or on SIGHUP)")
    .option("--health-listen <host:port>", "also serve gRPC health alone, in plaintext, here: for probes without TLS or tokens (env VECREC_HEALTH_LISTEN)")
    .option("--reflection <mode>", `server reflection: ${REFLECTION_MODES.join(", ")} (auth = needs a token; env VECREC_REFLECTION, default on)`)
    .option("--max-concurrent-calls <n>", `calls served at once per process, more get RESOURCE_EXHAUSTED (env VECREC_MAX_CONCURRENT_CALLS, default 1000)`)
    .option("--redis-tls-ca <file>", "PEM CA to verify Redis's certificate (rediss:// URLs; env VECREC_REDIS_TLS_CA)")
    .option("--redis-tls-cert <file>", "PEM client certificate for Redis (rediss://; env VECREC_REDIS_TLS_CERT; with --redis-tls-key)")
    .option("--redis-tls-key <file>", "PEM private key of --redis-tls-cert (env VECREC_REDIS_TLS_KEY)")
    .option("--redis-password-file <file>", "file holding the Redis password (env VECREC_REDIS_PASSWORD_FILE; or the password itself in env VECREC_REDIS_PASSWORD)")
    .option("--metrics-listen <host:port>", "serve Prometheus metrics over HTTP at http://<host:port>/metrics (env VECREC_METRICS_LISTEN); unset = no metrics")
    .option(
      "--scan-threads <n>",
      `threads besides the main one that the embedded engine's large exact scans are shared with (env VECREC_SCAN_THREADS, default one per core beyond the first, at most ${MAX_SCAN_THREADS}); 0 = main thread only; not used with --redis-url`,
    )
    .option("--slow-call-ms <ms>", `calls lasting this long or longer log their access line at warn (env VECREC_SLOW_CALL_MS, default ${DEFAULT_SLOW_CALL_MS}); 0 = never`)
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
  const flags = program.opts<
    {
      listen?: string;
      redisUrl?: string;
      logLevel?: string;
      workers?: string;
      redisDurability?: string;
      redisKeyPrefix?: string;
      dataDir?: string;
      inMemory?: boolean;
      reflection?: string;
      maxConcurrentCalls?: string;
      metricsListen?: string;
      slowCallMs?: string;
      scanThreads?: string;
      healthListen?: string;
    } & Partial<Record<FileSetting, string>>
  >();
  const raw = {
    listen: flags.listen ?? emptyToUndefined(env.VECREC_LISTEN) ?? DEFAULT_LISTEN,
    redisUrl: emptyToUndefined(flags.redisUrl ?? env.VECREC_REDIS_URL),
    logLevel: flags.logLevel ?? emptyToUndefined(env.VECREC_LOG_LEVEL) ?? "info",
    workers: (flags.workers ?? emptyToUndefined(env.VECREC_WORKERS) ?? "0").trim(),
    redisDurability: (flags.redisDurability ?? emptyToUndefined(env.VECREC_REDIS_DURABILITY) ?? "none").trim().toLowerCase(),
    redisKeyPrefix: flags.redisKeyPrefix ?? emptyToUndefined(env.VECREC_REDIS_KEY_PREFIX),
    reflection: (flags.reflection ?? emptyToUndefined(env.VECREC_REFLECTION))?.trim().toLowerCase(),
    healthListen: (flags.healthListen ?? emptyToUndefined(env.VECREC_HEALTH_LISTEN))?.trim(),
    maxConcurrentCalls: (flags.maxConcurrentCalls ?? emptyToUndefined(env.VECREC_MAX_CONCURRENT_CALLS))?.trim(),
    metricsListen: emptyToUndefined(flags.metricsListen ?? env.VECREC_METRICS_LISTEN),
    slowCallMs: (flags.slowCallMs ?? emptyToUndefined(env.VECREC_SLOW_CALL_MS) ?? String(DEFAULT_SLOW_CALL_MS)).trim(),
    scanThreads: (flags.scanThreads ?? emptyToUndefined(env.VECREC_SCAN_THREADS))?.trim(),
  };
  const problems: string[] = [];
  const files = readFileSettings(flags, env, problems);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success || problems.length > 0) {
    const lines = (parsed.error?.issues ?? []).map((issue) => {
      const key = String(issue.path[0] ?? "");
      const value = (raw as Record<string, unknown>)[key];
      // A Redis URL may hold a password: never echo it.
      const got = key === "redisUrl" ? "" : ` (got ${JSON.stringify(value)})`;
      return `${SETTING_NAMES[key] ?? key}: ${issue.message}${got}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${[...lines, ...problems].join("\n  ")}`);
  }
  const { listen, redisUrl, logLevel, workers, redisDurability, redisKeyPrefix, reflection, maxConcurrentCalls, metricsListen, slowCallMs, healthListen, scanThreads } =
    parsed.data;
  const dataDir = resolveDataDir(redisUrl, flags.dataDir ?? emptyToUndefined(env.VECREC_DATA_DIR), flags.inMemory, env.VECREC_IN_MEMORY);
  const security = securitySettings(files, redisUrl, env);
  if (redisUrl === undefined && redisDurability !== "none") {
    throw new ConfigError(
      `invalid configuration:\n  ${SETTING_NAMES.redisDurability}: the embedded engine keeps its data in memory only, so writes ` +
        `cannot be made durable; set --redis-url (a Redis with appendonly yes), or leave it none (got ${JSON.stringify(raw.redisDurability)})`,
    );
  }
  if (redisUrl === undefined && redisKeyPrefix !== undefined) {
    throw new ConfigError(
      `invalid configuration:\n  ${SETTING_NAMES.redisKeyPrefix}: only used on Redis; set --redis-url, or leave it unset (got ${JSON.stringify(raw.redisKeyPrefix)})`,
    );
  }
  if (redisUrl !== undefined && scanThreads !== undefined) {
    throw new ConfigError(
      `invalid configuration:\n  ${SETTING_NAMES.scanThreads}: only used by the embedded engine; leave it unset with --redis-url (got ${JSON.stringify(raw.scanThreads)})`,
    );
  }
  if (redisUrl === undefined && workers > 1) {
    throw new ConfigError(
      `invalid configuration:\n  ${SETTING_NAMES.workers}: the embedded engine keeps its data inside one process, so it is ` +
        `served by 1 worker only; set --redis-url to serve with several, or leave --workers unset (got ${JSON.stringify(raw.workers)})`,
    );
  }
  return {
    listen,
    redisUrl,
    logLevel,
    workers: workers === 0 ? defaultWorkers(redisUrl) : workers,
    redisDurability,
    redisKeyPrefix: redisKeyPrefix ?? DEFAULT_REDIS_KEY_PREFIX,
    dataDir,
    reflection,
    maxConcurrentCalls,
    ...(healthListen === undefined ? {} : { healthListen }),
    ...security,
    metricsListen,
    slowCallMs,
    scanThreads,
  };
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
