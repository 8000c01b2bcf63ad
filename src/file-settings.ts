/**
 * The settings that name files (TLS, tokens, Redis TLS and password): each must be readable, and only
 * the combinations that make sense are accepted (config.ts calls these while loading the rest).
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { accessSync, constants as fsConstants, readFileSync, statSync } from "node:fs";
import { ConfigError } from "./config-errors.js";
import type { Config } from "./config.js";

/** File settings: flag, variable, what the file is. Each must name a readable file. */
const FILE_SETTINGS = {
  tlsCert: ["--tls-cert", "VECREC_TLS_CERT"],
  tlsKey: ["--tls-key", "VECREC_TLS_KEY"],
  tlsClientCa: ["--tls-client-ca", "VECREC_TLS_CLIENT_CA"],
  authTokensFile: ["--auth-tokens-file", "VECREC_AUTH_TOKENS_FILE"],
  redisTlsCa: ["--redis-tls-ca", "VECREC_REDIS_TLS_CA"],
  redisTlsCert: ["--redis-tls-cert", "VECREC_REDIS_TLS_CERT"],
  redisTlsKey: ["--redis-tls-key", "VECREC_REDIS_TLS_KEY"],
  redisPasswordFile: ["--redis-password-file", "VECREC_REDIS_PASSWORD_FILE"],
} as const;
export type FileSetting = keyof typeof FILE_SETTINGS;

function settingName(key: FileSetting): string {
  return `${FILE_SETTINGS[key][0]} / ${FILE_SETTINGS[key][1]}`;
}

/** The file settings given (flag wins over variable), with a problem per unreadable file. */
export function readFileSettings(
  flags: Partial<Record<FileSetting, string>>,
  env: NodeJS.ProcessEnv,
  problems: string[],
): Partial<Record<FileSetting, string>> {
  const files: Partial<Record<FileSetting, string>> = {};
  for (const key of Object.keys(FILE_SETTINGS) as FileSetting[]) {
    const path = emptyToUndefined(flags[key] ?? env[FILE_SETTINGS[key][1]]);
    if (path === undefined) continue;
    try {
      accessSync(path, fsConstants.R_OK);
      if (!statSync(path).isFile()) {
        problems.push(`${settingName(key)}: ${JSON.stringify(path)} is not a file`);
        continue;
      }
      files[key] = path;
    } catch (error: unknown) {
      problems.push(`${settingName(key)}: cannot read ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  return files;
}

/**
 * The Redis TLS files hold what they should: PEM certificates (the CA bundle, the client certificate)
 * and a private key. Checked at start: a bad one was otherwise found only at each connection attempt,
 * reported as "Redis is unreachable", retried forever (and a CA file Node cannot read was ignored).
 */
function checkRedisTlsFiles(files: Partial<Record<FileSetting, string>>, problems: string[]): void {
  const certificates = (key: "redisTlsCa" | "redisTlsCert"): void => {
    const file = files[key];
    if (file === undefined) return;
    const blocks = readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    try {
      if (blocks.length === 0) throw new Error("no PEM certificate in it");
      for (const block of blocks) new X509Certificate(block);
    } catch (error: unknown) {
      problems.push(`${settingName(key)}: ${JSON.stringify(file)} does not hold PEM certificates (${error instanceof Error ? error.message : String(error)})`);
    }
  };
  certificates("redisTlsCa");
  certificates("redisTlsCert");
  if (files.redisTlsKey !== undefined) {
    try {
      createPrivateKey(readFileSync(files.redisTlsKey));
    } catch (error: unknown) {
      problems.push(`${settingName("redisTlsKey")}: ${JSON.stringify(files.redisTlsKey)} is not a private key (${error instanceof Error ? error.message : String(error)})`);
    }
  }
}

export function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** TLS, tokens and Redis credentials: the combinations that make sense, else a ConfigError naming them. */
export function securitySettings(
  files: Partial<Record<FileSetting, string>>,
  redisUrl: string | undefined,
  env: NodeJS.ProcessEnv,
): Pick<Config, "tls" | "authTokensFile" | "redisTls" | "redisPassword"> {
  const problems: string[] = [];
  if ((files.tlsCert === undefined) !== (files.tlsKey === undefined)) {
    problems.push(`${settingName("tlsCert")} and ${settingName("tlsKey")}: set both (the certificate and its key) or neither`);
  }
  if (files.tlsClientCa !== undefined && files.tlsCert === undefined) {
    problems.push(`${settingName("tlsClientCa")}: client certificates need TLS: set --tls-cert and --tls-key too`);
  }
  if ((files.redisTlsCert === undefined) !== (files.redisTlsKey === undefined)) {
    problems.push(`${settingName("redisTlsCert")} and ${settingName("redisTlsKey")}: set both (the client certificate and its key) or neither`);
  }
  const redisTlsGiven = files.redisTlsCa !== undefined || files.redisTlsCert !== undefined;
  const urls = (redisUrl ?? "").split(",").map((url) => url.trim()).filter((url) => url !== "");
  if (redisTlsGiven && (urls.length === 0 || urls.some((url) => !url.startsWith("rediss:")))) {
    problems.push(`--redis-tls-ca / --redis-tls-cert / --redis-tls-key: need TLS to Redis: every --redis-url must be rediss://`);
  }
  if (redisTlsGiven) checkRedisTlsFiles(files, problems);
  let redisPassword = emptyToUndefined(env.VECREC_REDIS_PASSWORD);
  if (files.redisPasswordFile !== undefined) {
    if (redisPassword !== undefined) {
      problems.push(`${settingName("redisPasswordFile")}: VECREC_REDIS_PASSWORD is set too: give the password in one place`);
    }
    // One line; the line breaks after it (echo secret > file, an editor's last line) are not part of it.
    redisPassword = readFileSync(files.redisPasswordFile, "utf8").replace(/[\r\n]+$/, "");
    if (redisPassword === "") problems.push(`${settingName("redisPasswordFile")}: the file is empty`);
    else if (/[\r\n]/.test(redisPassword)) problems.push(`${settingName("redisPasswordFile")}: the password must be the file's one line (it has several)`);
  }
  if (redisPassword !== undefined && urls.length === 0) {
    problems.push(`VECREC_REDIS_PASSWORD / ${settingName("redisPasswordFile")}: a Redis password needs --redis-url`);
  }
  if (redisPassword !== undefined && urls.some((url) => URL.canParse(url) && new URL(url).password !== "")) {
    problems.push(`VECREC_REDIS_PASSWORD / ${settingName("redisPasswordFile")}: the Redis URL holds a password too: give it in one place`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  return {
    tls:
      files.tlsCert !== undefined && files.tlsKey !== undefined
        ? { certFile: files.tlsCert, keyFile: files.tlsKey, clientCaFile: files.tlsClientCa }
        : undefined,
    authTokensFile: files.authTokensFile,
    redisTls: redisTlsGiven
      ? {
          ...(files.redisTlsCa === undefined ? {} : { caFile: files.redisTlsCa }),
          ...(files.redisTlsCert === undefined ? {} : { certFile: files.redisTlsCert }),
          ...(files.redisTlsKey === undefined ? {} : { keyFile: files.redisTlsKey }),
        }
      : undefined,
    redisPassword,
  };
}
