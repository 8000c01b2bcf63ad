/**
 * Behaviour of a real Redis 8 (Query Engine) that the conformance corpus does not record, taken from
 * the RediSearch source and the redis.io docs: the backend must not pass on the stand-in and fail on a
 * real server.
 */
import { ErrorReply, MultiErrorReply } from "redis";
import { describe, expect, it } from "vitest";
import {
  DeadlineExceededError,
  FailedPreconditionError,
  UnavailableError,
  type VecrecError,
} from "../../../../src/domain/errors.js";
import type { IndexSpec } from "../../../../src/domain/schema.js";
import { toDomainError } from "../../../../src/store/redis/redis-errors.js";
import { createRedisKeys } from "../../../../src/store/redis/redis-keys.js";
import { buildSearchArgs, parseSearchReply, readSearchReply } from "../../../../src/store/redis/commands/ft-search.js";
import { aggregateIdsArgs, parseIdPage, WALK_TIMEOUT_MS } from "../../../../src/store/redis/commands/ft-aggregate-ids.js";
import { toRedisQuery, isTagInexact, tagParamValue } from "../../../../src/store/redis/filter-query.js";
import { selectedDatabase } from "../../../../src/store/redis/connection-url.js";

const spec: IndexSpec = {
  name: "books",
  fields: [
    { name: "labels", type: "tag", separator: ",", caseSensitive: false },
    { name: "vec", type: "vector", dimension: 2, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" },
  ],
};

/** A RESP3 FT.SEARCH reply as node-redis hands it over with vecrec's type mapping. */
function resp3Reply(rows: [string, string][], warning: string[]): Map<string, unknown> {
  return new Map<string, unknown>([
    ["attributes", []],
    ["format", "STRING"],
    [
      "results",
      rows.map(
        ([id, distance]) =>
          new Map<string, unknown>([
            ["id", Buffer.from(`vecrec:books:item:${id}`)],
            [
              "extra_attributes",
              new Map<Buffer, Buffer>([
                [Buffer.from("__vecrec_id"), Buffer.from(id)],
                [Buffer.from("__vecrec_distance"), Buffer.from(distance)],
              ]),
            ],
            ["values", []],
          ]),
      ),
    ],
    ["total_results", rows.length],
    ["warning", warning.map((w) => Buffer.from(w))],
  ]);
}

/** A RESP3 FT.AGGREGATE WITHCURSOR reply of the export's id walk, as node-redis hands it over. */
function resp3IdPage(ids: string[], warning: string[], cursor: number): unknown[] {
  const page = new Map<string, unknown>([
    ["attributes", []],
    ["format", "STRING"],
    ["results", ids.map((id) => new Map<string, unknown>([["extra_attributes", new Map([[Buffer.from("__vecrec_id"), Buffer.from(id)]])], ["values", []]]))],
    ["total_results", ids.length],
    ["warning", warning.map((w) => Buffer.from(w))],
  ]);
  return [page, cursor];
}

describe("FT.AGGREGATE id walk (ExportItems) at the server's query timeout", () => {
  it("sends its own TIMEOUT (10 s), not the server's 500 ms default, which cut the sort of 3,000,000 ids on a real server", () => {
    const args = aggregateIdsArgs(createRedisKeys("t:"), "x", { op: "all" }, 1000);
    expect(WALK_TIMEOUT_MS).toBe(10_000);
    expect(args?.slice(0, 8)).toEqual(["FT.AGGREGATE", "t:idx:x", "*", "LOAD", "1", "@__vecrec_id", "TIMEOUT", "10000"]);
    expect(args?.slice(8, 13)).toEqual(["SORTBY", "2", "@__vecrec_id", "ASC", "MAX"]);
  });

  it("reads a page's ids and cursor, RESP3 and RESP2", () => {
    expect(parseIdPage(resp3IdPage(["a", "b"], [], 7))).toEqual({ ids: ["a", "b"], cursor: "7" });
    expect(parseIdPage([[2, [Buffer.from("__vecrec_id"), Buffer.from("a")], [Buffer.from("__vecrec_id"), Buffer.from("b")]], 0])).toEqual({
      ids: ["a", "b"],
      cursor: "0",
    });
  });

  it("refuses a page cut short by the server's TIMEOUT (ON_TIMEOUT RETURN): an export would otherwise end early, silently", () => {
    let error: unknown;
    try {
      parseIdPage(resp3IdPage(["a"], ["Timeout limit was reached"], 9));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toMatch(/time limit/);
  });

  it("keeps other warnings harmless", () => {
    expect(parseIdPage(resp3IdPage(["a"], ["Max prefix expansions limit was reached"], 0)).ids).toEqual(["a"]);
  });
});

describe("FT.SEARCH partial results at the server's query timeout", () => {
  it("reads the RESP3 warning list", () => {
    expect(parseSearchReply(resp3Reply([], ["Timeout limit was reached"])).warnings).toEqual(["Timeout limit was reached"]);
    expect(parseSearchReply(resp3Reply([], [])).warnings).toBeUndefined();
    expect(parseSearchReply([0]).warnings).toBeUndefined();
  });

  it("refuses a KNN reply cut short by the server's TIMEOUT (ON_TIMEOUT RETURN) instead of passing partial hits off as the neighbours", () => {
    const reply = resp3Reply([["a", "0.5"]], ["Timeout limit was reached"]);
    const query = { vector: new Float32Array([1, 0]), k: 5, offset: 0, filter: { op: "all" as const }, includeVectors: false };
    let error: unknown;
    try {
      readSearchReply(createRedisKeys(), spec, query, new Set(["labels"]), reply);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toMatch(/time limit/);
  });

  it("keeps other warnings harmless", () => {
    const reply = resp3Reply([["a", "0.5"]], ["Max prefix expansions limit was reached"]);
    const query = { vector: new Float32Array([1, 0]), k: 5, offset: 0, filter: { op: "all" as const }, includeVectors: false };
    expect(readSearchReply(createRedisKeys(), spec, query, new Set(["labels"]), reply).result.hits).toHaveLength(1);
  });

  it("maps the ON_TIMEOUT FAIL error reply to DeadlineExceededError", () => {
    expect(toDomainError(new ErrorReply("Timeout limit was reached"), { indexName: "books" })).toBeInstanceOf(
      DeadlineExceededError,
    );
  });
});

describe("error replies of a real server", () => {
  const kindOf = (text: string): string | undefined => {
    const mapped = toDomainError(new ErrorReply(text), { indexName: "books" });
    return (mapped as Partial<VecrecError>).kind;
  };

  it("READONLY (a replica, e.g. after a failover) is UNAVAILABLE, not INTERNAL", () => {
    const mapped = toDomainError(new ErrorReply("READONLY You can't write against a read only replica."));
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect(mapped.message).toMatch(/replica/);
  });

  it("OOM (maxmemory reached) is RESOURCE_EXHAUSTED", () => {
    expect(kindOf("OOM command not allowed when used memory > 'maxmemory'.")).toBe("resource_exhausted");
  });

  it("TRYAGAIN and MASTERDOWN are UNAVAILABLE", () => {
    expect(kindOf("TRYAGAIN Multiple keys request during rehashing of slot")).toBe("unavailable");
    expect(kindOf("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")).toBe("unavailable");
  });

  it("NOAUTH / WRONGPASS (the server's password changed under a running service) are UNAVAILABLE", () => {
    expect(kindOf("NOAUTH Authentication required.")).toBe("unavailable");
    expect(kindOf("WRONGPASS invalid username-password pair or user is disabled.")).toBe("unavailable");
  });

  it("CLUSTERDOWN and a redirection the cluster client did not follow are UNAVAILABLE; CROSSSLOT is FAILED_PRECONDITION", () => {
    expect(kindOf("CLUSTERDOWN The cluster is down")).toBe("unavailable");
    expect(toDomainError(new ErrorReply("CLUSTERDOWN The cluster is down")).message).toMatch(/Redis Cluster is down/);
    for (const text of ["MOVED 3999 127.0.0.1:6381", "ASK 3999 127.0.0.1:6381"]) {
      expect(kindOf(text)).toBe("unavailable");
      expect(toDomainError(new ErrorReply(text)).message).toMatch(/restart vecrec to detect the cluster/);
    }
    const crossSlot = toDomainError(new ErrorReply("CROSSSLOT Keys in request don't hash to the same slot"), { indexName: "books" });
    expect(crossSlot).toBeInstanceOf(FailedPreconditionError);
    expect(crossSlot.message).toMatch(/never sends/);
  });

  it("a run-time error inside EXEC (MultiErrorReply) is classified by the error inside", () => {
    const inner = new ErrorReply("OOM command not allowed when used memory > 'maxmemory'.");
    const multi = new MultiErrorReply(["OK" as unknown as ErrorReply, inner], [1]);
    const mapped = toDomainError(multi);
    expect((mapped as Partial<VecrecError>).kind).toBe("resource_exhausted");
    expect(mapped.message).toMatch(/maxmemory/);
  });
});

describe("the database of the URL", () => {
  it("reads the database of redis://, rediss:// and unix:// URLs (0 when absent)", () => {
    expect(selectedDatabase("redis://127.0.0.1:6379")).toBe(0);
    expect(selectedDatabase("redis://127.0.0.1:6379/")).toBe(0);
    expect(selectedDatabase("redis://user:pw@127.0.0.1:6379/0")).toBe(0);
    expect(selectedDatabase("rediss://user:pw@example.com:6380/3")).toBe(3);
    expect(selectedDatabase("unix:///run/redis.sock?db=2")).toBe(2);
    expect(selectedDatabase("unix:///run/redis.sock")).toBe(0);
  });
});

describe("tag values as a real server looks them up", () => {
  it("doubles backslashes on the wire (the server drops a backslash before punctuation or space, parameters included)", () => {
    expect(tagParamValue("a\\-b")).toBe("a\\\\-b");
    expect(tagParamValue("c:\\dir\\")).toBe("c:\\\\dir\\\\");
    expect(tagParamValue("plain")).toBe("plain");
    const compiled = toRedisQuery(
      { op: "and", children: [{ op: "tag", field: "labels", values: ["x\\-y"] }, { op: "text", field: "descr", terms: ["word"] }] },
      { excludeIds: ["id\\,1"] },
    );
    expect([...compiled.tagParams]).toEqual(["p0", "p2"]);
    const args = buildSearchArgs(
      createRedisKeys(),
      { ...spec, fields: [...spec.fields, { name: "descr", type: "text", weight: 1 }] },
      {
        vector: new Float32Array([1, 0]),
        k: 1,
        offset: 0,
        filter: { op: "and", children: [{ op: "tag", field: "labels", values: ["x\\-y"] }, { op: "text", field: "descr", terms: ["word"] }] },
        excludeIds: ["id\\,1"],
        includeVectors: false,
      },
    );
    const params = args?.command.slice(args.command.indexOf("PARAMS") + 2).map(String);
    expect(params?.slice(0, 6)).toEqual(["p0", "x\\\\-y", "p1", "word", "p2", "id\\\\,1"]);
  });

  it("knows which ids a tag lookup cannot match exactly (indexed tags are trimmed, lookups are not)", () => {
    expect(isTagInexact(" a")).toBe(true);
    expect(isTagInexact("a ")).toBe(true);
    expect(isTagInexact(" ")).toBe(true);
    expect(isTagInexact("a b")).toBe(false);
    expect(isTagInexact("\u00a0a")).toBe(false); // not C isspace: kept by the server
  });
});

describe("a Redis without the Query Engine", () => {
  it("says so when an FT.* command is unknown (Debian's Redis 8.0 and Redis 7 have no search module)", () => {
    const mapped = toDomainError(
      new ErrorReply("ERR unknown command 'FT.CREATE', with args beginning with: 'vecrec:idx:x' 'ON' "),
      { indexName: "x" },
    );
    expect(mapped).toBeInstanceOf(FailedPreconditionError);
    expect(mapped.message).toMatch(/Query Engine/);
    // Other unknown commands stay plain errors.
    expect(toDomainError(new ErrorReply("ERR unknown command 'FOO', with args beginning with: "))).not.toBeInstanceOf(
      FailedPreconditionError,
    );
  });
});
