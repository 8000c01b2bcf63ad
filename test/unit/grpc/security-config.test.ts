// The front door's settings (TLS, tokens, reflection, call limit, Redis TLS and password) in src/config.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { createAuthority } from "../../support/test-certificates.js";

const argv = (...args: string[]): string[] => ["node", "main.js", ...args];
const dir = mkdtempSync(join(tmpdir(), "vecrec-config-"));
const file = (name: string, text = "x"): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadConfig: front door security", () => {
  it("reads TLS files from flags or the environment (the flag wins), with the client CA optional", () => {
    const cert = file("c.pem");
    const key = file("k.pem");
    const ca = file("ca.pem");
    expect(loadConfig(argv(), {}).tls).toBeUndefined();
    expect(loadConfig(argv("--tls-cert", cert, "--tls-key", key), {}).tls).toEqual({ certFile: cert, keyFile: key, clientCaFile: undefined });
    expect(loadConfig(argv("--tls-client-ca", ca), { VECREC_TLS_CERT: cert, VECREC_TLS_KEY: key, VECREC_TLS_CLIENT_CA: "/nope" }).tls).toEqual({
      certFile: cert,
      keyFile: key,
      clientCaFile: ca,
    });
  });

  it("refuses a certificate without its key, a client CA without TLS, and files it cannot read, naming each", () => {
    const cert = file("c2.pem");
    expect(() => loadConfig(argv("--tls-cert", cert), {})).toThrow(/--tls-cert \/ VECREC_TLS_CERT and --tls-key \/ VECREC_TLS_KEY: set both/);
    expect(() => loadConfig(argv("--tls-client-ca", cert), {})).toThrow(/--tls-client-ca \/ VECREC_TLS_CLIENT_CA: client certificates need TLS/);
    expect(() => loadConfig(argv("--tls-cert", cert, "--tls-key", join(dir, "missing.key")), {})).toThrow(
      /--tls-key \/ VECREC_TLS_KEY: cannot read ".*missing\.key" \(ENOENT\)/,
    );
    expect(() => loadConfig(argv("--auth-tokens-file", join(dir, "none")), {})).toThrow(/--auth-tokens-file \/ VECREC_AUTH_TOKENS_FILE: cannot read/);
  });

  it("reads --auth-tokens-file, --reflection (on, off, auth) and --max-concurrent-calls", () => {
    const tokens = file("tokens");
    const config = loadConfig(argv("--auth-tokens-file", tokens, "--reflection", "AUTH", "--max-concurrent-calls", "64"), {});
    expect(config).toMatchObject({ authTokensFile: tokens, reflection: "auth", maxConcurrentCalls: 64 });
    expect(loadConfig(argv(), { VECREC_REFLECTION: "off", VECREC_MAX_CONCURRENT_CALLS: "1" })).toMatchObject({ reflection: "off", maxConcurrentCalls: 1 });
    expect(() => loadConfig(argv("--reflection", "maybe"), {})).toThrow(/--reflection \/ VECREC_REFLECTION: must be one of on, off, auth/);
    expect(() => loadConfig(argv("--max-concurrent-calls", "0"), {})).toThrow(/--max-concurrent-calls \/ VECREC_MAX_CONCURRENT_CALLS: must be a whole number/);
  });

  it("reads --health-listen / VECREC_HEALTH_LISTEN (host:port), unset by default", () => {
    expect(loadConfig(argv(), {}).healthListen).toBeUndefined();
    expect(loadConfig(argv("--health-listen", "0.0.0.0:50052"), {}).healthListen).toBe("0.0.0.0:50052");
    expect(loadConfig(argv(), { VECREC_HEALTH_LISTEN: "[::]:8081" }).healthListen).toBe("[::]:8081");
    expect(() => loadConfig(argv("--health-listen", "8081"), {})).toThrow(/--health-listen \/ VECREC_HEALTH_LISTEN: must be host:port/);
  });

  it("reads the Redis TLS files (rediss:// only) and the password from a file or VECREC_REDIS_PASSWORD, never both", async () => {
    const authority = await createAuthority("redis test CA");
    const client = await authority.issue("vecrec", "client");
    const ca = file("redis-ca.pem", authority.cert);
    const cert = file("redis-c.pem", client.cert);
    const key = file("redis-k.pem", client.key);
    const password = file("redis-password", "p@ss:w/rd\n");
    const config = loadConfig(
      argv("--redis-url", "rediss://user@h:6380", "--redis-tls-ca", ca, "--redis-tls-cert", cert, "--redis-tls-key", key, "--redis-password-file", password),
      {},
    );
    expect(config).toMatchObject({ redisTls: { caFile: ca, certFile: cert, keyFile: key }, redisPassword: "p@ss:w/rd" });
    expect(loadConfig(argv("--redis-url", "redis://h"), { VECREC_REDIS_PASSWORD: "s3cret" }).redisPassword).toBe("s3cret");
    expect(() => loadConfig(argv("--redis-url", "redis://h", "--redis-tls-ca", ca), {})).toThrow(/every --redis-url must be rediss:\/\//);
    expect(() => loadConfig(argv("--redis-url", "rediss://h", "--redis-tls-cert", cert), {})).toThrow(/--redis-tls-key .*: set both/);
    expect(() => loadConfig(argv("--redis-url", "redis://h", "--redis-password-file", password), { VECREC_REDIS_PASSWORD: "other" })).toThrow(
      /give the password in one place/,
    );
    expect(() => loadConfig(argv("--redis-url", "redis://u:pw@h"), { VECREC_REDIS_PASSWORD: "other" })).toThrow(/the Redis URL holds a password too/);
    expect(() => loadConfig(argv(), { VECREC_REDIS_PASSWORD: "other" })).toThrow(/a Redis password needs --redis-url/);
  });

  it("refuses, as bad configuration, Redis TLS files that are not PEM, a directory as a file, and a password file of several lines", () => {
    const url = ["--redis-url", "rediss://h:6380"];
    expect(() => loadConfig(argv(...url, "--redis-tls-ca", file("garbage-ca.pem", "not a certificate")), {})).toThrow(
      /--redis-tls-ca \/ VECREC_REDIS_TLS_CA: .* does not hold PEM certificates/,
    );
    expect(() => loadConfig(argv(...url, "--redis-tls-cert", file("bad-c.pem", "x"), "--redis-tls-key", file("bad-k.pem", "x")), {})).toThrow(
      /--redis-tls-cert .* does not hold PEM certificates[\s\S]*--redis-tls-key .* is not a private key/,
    );
    expect(() => loadConfig(argv("--redis-url", "redis://h", "--redis-password-file", dir), {})).toThrow(/--redis-password-file .* is not a file/);
    expect(() => loadConfig(argv("--redis-url", "redis://h", "--redis-password-file", file("two-lines", "one\ntwo\n")), {})).toThrow(
      /the password must be the file's one line/,
    );
    expect(loadConfig(argv("--redis-url", "redis://h", "--redis-password-file", file("crlf", "secret\r\n\r\n")), {}).redisPassword).toBe("secret");
  });

  it("never echoes a password in its messages", () => {
    let message = "";
    try {
      loadConfig(argv("--redis-url", "redis://u:p@ssw0rdLEAK@h:6379", "--redis-tls-ca", file("ca2.pem")), { VECREC_REDIS_PASSWORD: "envLEAK" });
    } catch (error: unknown) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/invalid configuration/);
    expect(message).not.toMatch(/LEAK/);
  });
});
