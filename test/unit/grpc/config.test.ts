// Lives under test/unit/grpc/ because the transport engineer owns src/config.ts.
import os from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_LISTEN, MAX_WORKERS, loadConfig } from "../../../src/config.js";

const argv = (...args: string[]): string[] => ["node", "main.js", ...args];

describe("loadConfig", () => {
  it("uses the defaults when nothing is set", () => {
    expect(loadConfig(argv(), {})).toMatchObject({
      listen: DEFAULT_LISTEN,
      redisUrl: undefined,
      logLevel: "info",
      workers: 1,
      redisDurability: "none",
      dataDir: "vecrec-data",
    });
  });

  it("refuses a Redis URL that selects a database other than 0, as bad configuration", () => {
    for (const url of ["redis://h:6379/2", "redis://h:6379/abc", "redis://h:1,redis://g:2/1"]) {
      expect(() => loadConfig(argv("--redis-url", url), {}), url).toThrow(ConfigError);
      expect(() => loadConfig(argv("--redis-url", url), {}), url).toThrow(/database other than 0/);
    }
    for (const url of ["redis://h:6379", "redis://h:6379/", "redis://h:6379/0"]) expect(loadConfig(argv("--redis-url", url), {}).redisUrl).toBe(url);
  });

  it("reads the environment", () => {
    const config = loadConfig(argv(), {
      VECREC_LISTEN: "0.0.0.0:6000",
      VECREC_REDIS_URL: "redis://localhost:6379",
      VECREC_LOG_LEVEL: "debug",
      VECREC_WORKERS: "3",
    });
    expect(config).toMatchObject({ listen: "0.0.0.0:6000", redisUrl: "redis://localhost:6379", logLevel: "debug", workers: 3, redisDurability: "none" });
  });

  it("lets flags win over the environment", () => {
    const config = loadConfig(
      argv("--listen", "[::]:7000", "--redis-url", "rediss://h:6380", "--log-level", "warn", "--workers", "2"),
      { VECREC_LISTEN: "0.0.0.0:6000", VECREC_REDIS_URL: "redis://localhost:6379", VECREC_LOG_LEVEL: "debug", VECREC_WORKERS: "5" },
    );
    expect(config).toMatchObject({ listen: "[::]:7000", redisUrl: "rediss://h:6380", logLevel: "warn", workers: 2, redisDurability: "none" });
  });

  it("reads --redis-durability / VECREC_REDIS_DURABILITY (default none; the flag wins), refuses other values and any but none on the embedded engine", () => {
    const redis = "redis://localhost:6379";
    expect(loadConfig(argv("--redis-url", redis), {}).redisDurability).toBe("none");
    expect(loadConfig(argv("--redis-url", redis), { VECREC_REDIS_DURABILITY: "local" }).redisDurability).toBe("local");
    expect(loadConfig(argv("--redis-url", redis, "--redis-durability", "replicas"), { VECREC_REDIS_DURABILITY: "local" }).redisDurability).toBe(
      "replicas",
    );
    expect(loadConfig(argv("--redis-url", redis, "--redis-durability", "LOCAL"), {}).redisDurability).toBe("local");
    expect(() => loadConfig(argv("--redis-url", redis, "--redis-durability", "always"), {})).toThrow(
      /--redis-durability \/ VECREC_REDIS_DURABILITY: must be one of none, local, replicas \(got "always"\)/,
    );
    expect(() => loadConfig(argv("--redis-durability", "local"), {})).toThrow(ConfigError);
    expect(() => loadConfig(argv(), { VECREC_REDIS_DURABILITY: "replicas" })).toThrow(/embedded engine keeps its data in memory only/);
    expect(loadConfig(argv("--redis-durability", "none"), {}).redisDurability).toBe("none");
  });

  it("reads --redis-key-prefix / VECREC_REDIS_KEY_PREFIX (default vecrec:; the flag wins), refuses braces and spaces, and any on the embedded engine", () => {
    const redis = "redis://localhost:6379";
    expect(loadConfig(argv("--redis-url", redis), {}).redisKeyPrefix).toBe("vecrec:");
    expect(loadConfig(argv(), {}).redisKeyPrefix).toBe("vecrec:");
    expect(loadConfig(argv("--redis-url", redis), { VECREC_REDIS_KEY_PREFIX: "shop-a:" }).redisKeyPrefix).toBe("shop-a:");
    expect(loadConfig(argv("--redis-url", redis, "--redis-key-prefix", "shop.b:"), { VECREC_REDIS_KEY_PREFIX: "shop-a:" }).redisKeyPrefix).toBe("shop.b:");
    expect(() => loadConfig(argv("--redis-url", redis, "--redis-key-prefix", "{tenant}:"), {})).toThrow(
      /--redis-key-prefix \/ VECREC_REDIS_KEY_PREFIX: must be 1 to 64 letters, digits and \. _ - : \(no braces/,
    );
    expect(() => loadConfig(argv("--redis-url", redis, "--redis-key-prefix", "a b"), {})).toThrow(ConfigError);
    expect(() => loadConfig(argv("--redis-url", redis, "--redis-key-prefix", "x".repeat(65)), {})).toThrow(ConfigError);
    expect(() => loadConfig(argv("--redis-key-prefix", "shop-a:"), {})).toThrow(/--redis-key-prefix .*only used on Redis/);
  });

  it("reads --metrics-listen / VECREC_METRICS_LISTEN (unset = no metrics) and --slow-call-ms / VECREC_SLOW_CALL_MS (default 1000)", () => {
    expect(loadConfig(argv(), {})).toMatchObject({ metricsListen: undefined, slowCallMs: 1000 });
    expect(loadConfig(argv(), { VECREC_METRICS_LISTEN: "0.0.0.0:9464", VECREC_SLOW_CALL_MS: "250" })).toMatchObject({
      metricsListen: "0.0.0.0:9464",
      slowCallMs: 250,
    });
    expect(loadConfig(argv("--metrics-listen", "127.0.0.1:0", "--slow-call-ms", "0"), { VECREC_METRICS_LISTEN: "0.0.0.0:9464" })).toMatchObject({
      metricsListen: "127.0.0.1:0",
      slowCallMs: 0,
    });
    expect(() => loadConfig(argv("--metrics-listen", "9464"), {})).toThrow(/--metrics-listen \/ VECREC_METRICS_LISTEN: must be host:port/);
    expect(() => loadConfig(argv("--slow-call-ms", "1s"), {})).toThrow(/--slow-call-ms \/ VECREC_SLOW_CALL_MS: must be a whole number/);
  });

  it("reads --scan-threads / VECREC_SCAN_THREADS for the embedded engine (unset = the store's default) and refuses it on Redis", () => {
    expect(loadConfig(argv(), {}).scanThreads).toBeUndefined();
    expect(loadConfig(argv(), { VECREC_SCAN_THREADS: "3" }).scanThreads).toBe(3);
    expect(loadConfig(argv("--scan-threads", "0"), { VECREC_SCAN_THREADS: "3" }).scanThreads).toBe(0);
    expect(() => loadConfig(argv("--scan-threads", "two"), {})).toThrow(/--scan-threads \/ VECREC_SCAN_THREADS: must be a whole number from 0 to 16/);
    expect(() => loadConfig(argv("--scan-threads", "17"), {})).toThrow(/--scan-threads \/ VECREC_SCAN_THREADS: must be a whole number from 0 to 16/);
    expect(() => loadConfig(argv("--redis-url", "redis://localhost:6379", "--scan-threads", "1"), {})).toThrow(/--scan-threads .*only used by the embedded engine/);
  });

  it("accepts comma-separated Redis URLs (cluster seeds) and refuses a list with one bad entry", () => {
    const seeds = "redis://a:7000, redis://b:7001,rediss://c:7002";
    expect(loadConfig(argv("--redis-url", seeds), {}).redisUrl).toBe(seeds);
    expect(() => loadConfig(argv("--redis-url", "redis://a:7000,http://b:7001"), {})).toThrow(/cluster seeds/);
    expect(() => loadConfig(argv("--redis-url", " , "), {})).toThrow(/VECREC_REDIS_URL/);
  });

  it("treats an empty VECREC_REDIS_URL as unset (embedded)", () => {
    expect(loadConfig(argv(), { VECREC_REDIS_URL: "" }).redisUrl).toBeUndefined();
  });

  it("rejects every bad value at once, naming the settings", () => {
    let error: unknown;
    try {
      loadConfig(argv("--listen", "nowhere"), { VECREC_REDIS_URL: "http://user:hunter2@x", VECREC_LOG_LEVEL: "loud" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("--listen / VECREC_LISTEN");
    expect(message).toContain("--redis-url / VECREC_REDIS_URL");
    expect(message).toContain("--log-level / VECREC_LOG_LEVEL");
    // A URL may carry a password: it is never echoed.
    expect(message).not.toContain("hunter2");
    expect(ConfigError.EXIT_CODE).toBe(2);
  });

  describe("--workers / VECREC_WORKERS", () => {
    const redis = { VECREC_REDIS_URL: "redis://localhost:6379" };

    it("defaults to one per core on Redis and to 1 on the embedded engine; 0 means the default", () => {
      const cores = Math.min(os.availableParallelism(), MAX_WORKERS);
      expect(loadConfig(argv(), redis).workers).toBe(cores);
      expect(loadConfig(argv("--workers", "0"), redis).workers).toBe(cores);
      expect(loadConfig(argv(), { ...redis, VECREC_WORKERS: "" }).workers).toBe(cores);
      expect(loadConfig(argv(), {}).workers).toBe(1);
      expect(loadConfig(argv("--workers", "0"), {}).workers).toBe(1);
    });

    it("takes any count from 1 to the maximum on Redis, and 1 on the embedded engine", () => {
      expect(loadConfig(argv("--workers", "1"), redis).workers).toBe(1);
      expect(loadConfig(argv("--workers", " 4 "), redis).workers).toBe(4);
      expect(loadConfig(argv("--workers", String(MAX_WORKERS)), redis).workers).toBe(MAX_WORKERS);
      expect(loadConfig(argv("--workers", "1"), {}).workers).toBe(1);
    });

    it("refuses more than 1 on the embedded engine, whose data lives in one process", () => {
      expect(() => loadConfig(argv("--workers", "2"), {})).toThrow(ConfigError);
      expect(() => loadConfig(argv(), { VECREC_WORKERS: "4" })).toThrow(/--workers \/ VECREC_WORKERS: the embedded engine keeps its data inside one process/);
    });

    it.each(["-1", "two", "1.5", "1e2", String(MAX_WORKERS + 1), "99999"])("refuses %j, naming the setting", (value) => {
      expect(() => loadConfig(argv("--workers", value), redis)).toThrow(/--workers \/ VECREC_WORKERS: must be a whole number from 0 to 256/);
    });

    it("reports a bad count together with the other bad settings", () => {
      expect(() => loadConfig(argv("--listen", "nowhere"), { VECREC_WORKERS: "many" })).toThrow(/VECREC_LISTEN[\s\S]*VECREC_WORKERS/);
    });
  });

  it("rejects a port above 65535 and an unknown flag", () => {
    expect(() => loadConfig(argv("--listen", "127.0.0.1:70000"), {})).toThrow(ConfigError);
    expect(() => loadConfig(argv("--bogus"), {})).toThrow(/unknown option/);
  });
});
