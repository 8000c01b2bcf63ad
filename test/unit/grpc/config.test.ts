// Lives under test/unit/grpc/ because the transport engineer owns src/config.ts.
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_LISTEN, loadConfig } from "../../../src/config.js";

const argv = (...args: string[]): string[] => ["node", "main.js", ...args];

describe("loadConfig", () => {
  it("uses the defaults when nothing is set", () => {
    expect(loadConfig(argv(), {})).toEqual({ listen: DEFAULT_LISTEN, redisUrl: undefined, logLevel: "info" });
  });

  it("reads the environment", () => {
    const config = loadConfig(argv(), {
      VECREC_LISTEN: "0.0.0.0:6000",
      VECREC_REDIS_URL: "redis://localhost:6379",
      VECREC_LOG_LEVEL: "debug",
    });
    expect(config).toEqual({ listen: "0.0.0.0:6000", redisUrl: "redis://localhost:6379", logLevel: "debug" });
  });

  it("lets flags win over the environment", () => {
    const config = loadConfig(argv("--listen", "[::]:7000", "--redis-url", "rediss://h:6380", "--log-level", "warn"), {
      VECREC_LISTEN: "0.0.0.0:6000",
      VECREC_REDIS_URL: "redis://localhost:6379",
      VECREC_LOG_LEVEL: "debug",
    });
    expect(config).toEqual({ listen: "[::]:7000", redisUrl: "rediss://h:6380", logLevel: "warn" });
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

  it("rejects a port above 65535 and an unknown flag", () => {
    expect(() => loadConfig(argv("--listen", "127.0.0.1:70000"), {})).toThrow(ConfigError);
    expect(() => loadConfig(argv("--bogus"), {})).toThrow(/unknown option/);
  });
});
