/**
 * FT.INFO: the counters vecrec reports for an index. Standalone, the server's own; on a cluster, the
 * coordinator's sum over the shards (num_docs and hash_indexing_failures summed, `indexing` set while
 * any shard's scan runs; its layout puts gc_stats/cursor_stats/dialect_stats after `attributes`, which
 * a reader by key does not notice). Errors: `<name>: no such index` / `Unknown index name`.
 */
import type { RedisKeys } from "../redis-keys.js";
import { replyMap, replyNumber, type Reply } from "../reply-parsers.js";

export function ftInfoArgs(keys: RedisKeys, indexName: string): string[] {
  return ["FT.INFO", keys.ftIndex(indexName)];
}

export interface FtInfo {
  readonly numDocs: number;
  readonly indexing: boolean;
  /** 0..1 */
  readonly percentIndexed: number;
  readonly hashIndexingFailures: number;
}

/** Reads the FT.INFO fields vecrec reports (a map under RESP3, a flat array under RESP2). */
export function parseInfoReply(reply: Reply): FtInfo {
  const info = replyMap(reply);
  const number = (key: string, fallback: number): number => {
    const value = info.get(key);
    if (value === undefined || value === null) return fallback;
    const n = replyNumber(value);
    return Number.isNaN(n) ? fallback : n;
  };
  return {
    numDocs: number("num_docs", 0),
    indexing: number("indexing", 0) !== 0,
    percentIndexed: Math.min(1, Math.max(0, number("percent_indexed", 1))),
    hashIndexingFailures: number("hash_indexing_failures", 0),
  };
}

