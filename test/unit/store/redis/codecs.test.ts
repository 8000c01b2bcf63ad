import { describe, expect, it } from "vitest";
import { ClientOfflineError, ErrorReply, SocketClosedUnexpectedlyError } from "redis";
import {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  IndexNotFoundError,
  UnavailableError,
} from "../../../../src/domain/errors.js";
import type { Item } from "../../../../src/domain/item.js";
import type { IndexSpec } from "../../../../src/domain/schema.js";
import {
  compareInteractions,
  decodeInteractionMember,
  encodeInteractionMember,
  interactionIdentity,
  interactionItemId,
} from "../../../../src/store/redis/interaction-codec.js";
import { hashToItem, itemHashArgs } from "../../../../src/store/redis/item-codec.js";
import { toDomainError } from "../../../../src/store/redis/redis-errors.js";
import { createRedisKeys, escapeGlob } from "../../../../src/store/redis/redis-keys.js";
import { buildSearchArgs, readSearchReply } from "../../../../src/store/redis/commands/ft-search.js";
import { createIndexArgs } from "../../../../src/store/redis/commands/ft-create.js";
import { alterAddFieldArgs } from "../../../../src/store/redis/commands/ft-alter.js";

const spec: IndexSpec = {
  name: "books",
  fields: [
    { name: "descr", type: "text", weight: 2.5 },
    { name: "labels", type: "tag", separator: ";", caseSensitive: true },
    { name: "time", type: "numeric" },
    {
      name: "vec",
      type: "vector",
      dimension: 2,
      algorithm: "HNSW",
      metric: "IP",
      elementType: "FLOAT32",
      hnsw: { m: 8, efConstruction: 100, efRuntime: 20 },
    },
  ],
};
const keys = createRedisKeys("t:");

describe("key layout", () => {
  it("namespaces keys and the FT index with the prefix", () => {
    expect(keys.item("books", "a:b")).toBe("t:books:item:a:b");
    expect(keys.itemPrefix("books")).toBe("t:books:item:");
    expect(keys.ftIndex("books")).toBe("t:idx:books");
    expect(keys.interactions("books", "u1")).toBe("t:books:interactions:u1");
    expect(keys.definitions).toBe("t:indexes");
    expect(createRedisKeys("a*[b]:").itemPattern("x")).toBe("a\\*\\[b\\]:x:item:*");
    const glob = createRedisKeys("a*[b]:");
    expect(glob.indexDataPattern("x")).toBe("a\\*\\[b\\]:x:i*");
    for (const key of ["a*[b]:x:item:1", "a*[b]:x:interactions:u", "a*[b]:x:item-users:1"]) expect(glob.isIndexData("x", key), key).toBe(true);
    // What the pattern also matches, or keys of other indexes and deployments: kept.
    for (const key of ["a*[b]:x:items", "a*[b]:x:indexes", "a*[b]:xy:item:1", "a*[b]:indexes", "other:x:item:1"]) expect(glob.isIndexData("x", key), key).toBe(false);
    expect(escapeGlob("?\\")).toBe("\\?\\\\");
  });
});

describe("schema arguments", () => {
  it("sends every option of every field type, plus the hidden id field", () => {
    expect(createIndexArgs(keys, spec)).toEqual([
      "FT.CREATE", "t:idx:books", "ON", "HASH", "PREFIX", "1", "t:books:item:", "SCHEMA",
      "__vecrec_id", "TAG", "SEPARATOR", "\u001f", "CASESENSITIVE", "SORTABLE", "UNF",
      "descr", "TEXT", "WEIGHT", "2.5",
      "labels", "TAG", "SEPARATOR", ";", "CASESENSITIVE",
      "time", "NUMERIC",
      "vec", "VECTOR", "HNSW", "12", "TYPE", "FLOAT32", "DIM", "2", "DISTANCE_METRIC", "IP",
      "M", "8", "EF_CONSTRUCTION", "100", "EF_RUNTIME", "20",
    ]);
  });

  it("puts SKIPINITIALSCAN before SCHEMA when asked, and nowhere otherwise", () => {
    const skipping = createIndexArgs(keys, spec, { skipInitialScan: true });
    expect(skipping.slice(0, 9)).toEqual(["FT.CREATE", "t:idx:books", "ON", "HASH", "PREFIX", "1", "t:books:item:", "SKIPINITIALSCAN", "SCHEMA"]);
    expect(skipping.filter((arg) => arg !== "SKIPINITIALSCAN")).toEqual(createIndexArgs(keys, spec));
    expect(createIndexArgs(keys, spec, { skipInitialScan: false })).toEqual(createIndexArgs(keys, spec));
  });

  it("counts 6 attribute tokens for FLAT", () => {
    const flat: IndexSpec = {
      name: "f",
      fields: [{ name: "v", type: "vector", dimension: 3, algorithm: "FLAT", metric: "L2", elementType: "FLOAT32" }],
    };
    expect(createIndexArgs(keys, flat).slice(-10)).toEqual(["v", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "3", "DISTANCE_METRIC", "L2"]);
    expect(alterAddFieldArgs(keys, "f", { name: "interests", type: "tag", separator: ",", caseSensitive: false })).toEqual([
      "FT.ALTER", "t:idx:f", "SKIPINITIALSCAN", "SCHEMA", "ADD", "interests", "TAG", "SEPARATOR", ",",
    ]);
  });
});

describe("item codec", () => {
  const item: Item = {
    id: "b,1",
    vector: new Float32Array([0.5, -2]),
    fields: {
      descr: { type: "text", value: "a book" },
      labels: { type: "tag", values: ["Sci-Fi", "x,y"] },
      time: { type: "numeric", value: 1e-7 },
    },
  };

  it("writes the id, little-endian vector bytes, joined tags and numbers as text", () => {
    const args = itemHashArgs(spec, item);
    expect(args.map((a) => (Buffer.isBuffer(a) ? `<${a.toString("hex")}>` : a))).toEqual([
      "__vecrec_id", "b,1", "descr", "a book", "labels", "Sci-Fi;x,y", "time", "1e-7", "vec", "<0000003f000000c0>",
    ]);
  });

  it("reads back what it wrote, the vector bit-exact even from an unaligned buffer", () => {
    const args = itemHashArgs(spec, item);
    const hash = new Map<string, unknown>();
    for (let i = 0; i < args.length; i += 2) {
      const value = args[i + 1] as string | Buffer;
      // Simulate a Buffer sliced at an odd offset of the socket chunk.
      const unaligned = Buffer.concat([Buffer.from([9]), Buffer.isBuffer(value) ? value : Buffer.from(value)]).subarray(1);
      hash.set(args[i] as string, unaligned);
    }
    expect(hashToItem(spec, "b,1", hash, { includeVector: true })).toEqual(item);
    const withoutVector = hashToItem(spec, "b,1", hash, { includeVector: false, onlyFields: new Set(["time"]) });
    expect(withoutVector).toEqual({ id: "b,1", fields: { time: { type: "numeric", value: 1e-7 } } });
  });

  it("round-trips an empty tag list", () => {
    const empty: Item = { id: "e", vector: new Float32Array([0, 0]), fields: { labels: { type: "tag", values: [] } } };
    const args = itemHashArgs(spec, empty);
    const hash = new Map<string, unknown>();
    for (let i = 0; i < args.length; i += 2) hash.set(args[i] as string, args[i + 1]);
    expect(hashToItem(spec, "e", hash, { includeVector: false }).fields).toEqual({ labels: { type: "tag", values: [] } });
  });
});

describe("interaction codec", () => {
  const a = { userId: "u", itemId: "it\u00e9m:1 x", kind: "add_to_cart" as const, weight: 2.5, occurredAtMs: 1700000000123 };

  it("round-trips every part of an interaction through the member", () => {
    const member = encodeInteractionMember(a);
    expect(decodeInteractionMember("u", member)).toEqual(a);
    expect(interactionItemId(member)).toBe(a.itemId);
    expect(interactionIdentity(member)).toBe(interactionIdentity(encodeInteractionMember({ ...a, weight: 9 })));
    expect(interactionIdentity(member)).not.toBe(interactionIdentity(encodeInteractionMember({ ...a, occurredAtMs: 1 })));
    expect(() => decodeInteractionMember("u", "garbage")).toThrow(RangeError);
  });

  it("orders newest first, then item id, then kind", () => {
    const at = (itemId: string, kind: "view" | "click", t: number) => ({ userId: "u", itemId, kind, weight: 1, occurredAtMs: t });
    const sorted = [at("b", "view", 5), at("a", "view", 5), at("c", "view", 9), at("a", "click", 5)].sort(compareInteractions);
    expect(sorted.map((x) => `${x.itemId}/${x.kind}`)).toEqual(["c/view", "a/click", "a/view", "b/view"]);
  });
});

describe("error mapping", () => {
  it("maps unknown-index texts of every Redis version to IndexNotFoundError", () => {
    for (const text of ["books: no such index", "No such index books", "Unknown Index name", "Unknown index name (or name is an alias itself)"]) {
      const mapped = toDomainError(new ErrorReply(text), { indexName: "books" });
      expect(mapped).toBeInstanceOf(IndexNotFoundError);
      expect((mapped as IndexNotFoundError).indexName).toBe("books");
      expect(mapped.cause).toBeInstanceOf(ErrorReply);
    }
  });

  it("maps Index already exists, connection errors and aborts", () => {
    expect(toDomainError(new ErrorReply("Index already exists"), { indexName: "x" })).toBeInstanceOf(AlreadyExistsError);
    expect(toDomainError(new ClientOfflineError())).toBeInstanceOf(UnavailableError);
    expect(toDomainError(new SocketClosedUnexpectedlyError())).toBeInstanceOf(UnavailableError);
    expect(toDomainError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toBeInstanceOf(UnavailableError);
    expect(toDomainError(new ErrorReply("LOADING Redis is loading the dataset in memory"))).toBeInstanceOf(UnavailableError);
    const controller = new AbortController();
    controller.abort(new DeadlineExceededError());
    expect(toDomainError(new DOMException("aborted", "AbortError"), { signal: controller.signal })).toBeInstanceOf(DeadlineExceededError);
    const cancelled = new AbortController();
    cancelled.abort();
    expect(toDomainError(new DOMException("aborted", "AbortError"), { signal: cancelled.signal })).toBeInstanceOf(CancelledError);
  });

  it("keeps anything else a plain Error with the cause", () => {
    const cause = new ErrorReply("Syntax error at offset 3 near x");
    const mapped = toDomainError(cause, { indexName: "books" });
    expect(mapped.constructor).toBe(Error);
    expect(mapped.cause).toBe(cause);
  });
});

describe("search command", () => {
  const base = { k: 3, offset: 0, filter: { op: "all" } as const, includeVectors: false };

  it("builds a KNN query with every value in PARAMS, EF_RUNTIME only on HNSW, LIMIT 0 k and DIALECT 2", () => {
    const args = buildSearchArgs(keys, spec, { ...base, vector: new Float32Array([1, 0]), efRuntime: 50, returnFields: ["time"] });
    const shown = args?.command.map((a) => (Buffer.isBuffer(a) ? "<blob>" : a));
    expect(shown).toEqual([
      "FT.SEARCH", "t:idx:books", "*=>[KNN $knn_k @vec $knn_vec EF_RUNTIME $knn_ef AS __vecrec_distance]",
      "PARAMS", "6", "knn_ef", "50", "knn_k", "3", "knn_vec", "<blob>",
      "SORTBY", "__vecrec_distance",
      "RETURN", "3", "__vecrec_id", "time", "__vecrec_distance",
      "LIMIT", "0", "3", "DIALECT", "2",
    ]);
  });

  it("builds a filter-only query sorted by id with the offset", () => {
    const args = buildSearchArgs(keys, spec, { ...base, offset: 4, filter: { op: "tag", field: "labels", values: ["x"] }, includeVectors: true });
    expect(args?.command).toEqual([
      "FT.SEARCH", "t:idx:books", "@labels:{$p0}", "PARAMS", "2", "p0", "x",
      "SORTBY", "__vecrec_id", "ASC",
      "RETURN", "5", "__vecrec_id", "descr", "labels", "time", "vec",
      "LIMIT", "4", "3", "DIALECT", "2",
    ]);
  });

  it("skips the search when the filter matches nothing", () => {
    expect(buildSearchArgs(keys, spec, { ...base, filter: { op: "not", child: { op: "all" } } })).toBeUndefined();
  });

  it("orders equal distances by id and parses distances as numbers", () => {
    const row = (id: string, d: string) =>
      new Map<string, unknown>([["id", Buffer.from(`t:books:item:${id}`)], ["extra_attributes", new Map([["__vecrec_distance", Buffer.from(d)], ["__vecrec_id", Buffer.from(id)]])]]);
    const reply = new Map<string, unknown>([
      ["results", [row("m", "0.5"), row("b", "0.5"), row("z", "0"), row("n", "nan")]],
      ["total_results", 4],
    ]);
    const { result, rows } = readSearchReply(keys, spec, { ...base, vector: new Float32Array([0, 0]) }, new Set(), reply);
    expect(rows).toBe(4);
    expect(result.hits.map((h) => [h.id, h.distance])).toEqual([["z", 0], ["b", 0.5], ["m", 0.5], ["n", NaN]]);
    expect(result.totalMatches).toBe(4);
  });
});
