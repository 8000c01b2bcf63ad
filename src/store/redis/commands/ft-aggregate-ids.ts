/**
 * The id walk of ExportItems: `FT.AGGREGATE <index> <filter> LOAD 1 @__vecrec_id TIMEOUT <ms> SORTBY 2
 * @__vecrec_id ASC MAX <n> WITHCURSOR COUNT <page>`, then `FT.CURSOR READ` for each further page and `FT.CURSOR DEL`
 * when the walk stops early. Redis sorts the matching ids (UTF-8 byte order, the `UNF` sortable id tag);
 * each reply carries one page of ids only, so vecrec holds one page at a time however large the index.
 *
 * Checked on real Redis 7.4.1 + RediSearch 2.10.32, standalone and a 3-primary cluster: the cursor pages
 * come in global id order on both (on a cluster the coordinator merges the shards' sorted rows); SORTBY
 * without MAX keeps only 10 rows, so MAX is always sent; a FILTER expression cannot take `$params`
 * ("Missing (or badly formatted) value"), so a resumed walk skips the ids up to its cursor itself
 * rather than putting a user value in an expression. A cursor lives on the node that created it: the
 * commands of one walk are routed by the FT index name, to the same node.
 */
import type { FilterNode } from "../../../domain/filter/filter.js";
import type { RedisArg } from "../connection.js";
import { tagParamValue, toRedisQuery } from "../filter-query.js";
import { ID_FIELD, type RedisKeys } from "../redis-keys.js";
import { throwIfTimedOut } from "../redis-errors.js";
import { replyArray, replyMap, replyText, type Reply } from "../reply-parsers.js";

/** More rows than any index holds: SORTBY keeps at most MAX rows (10 without it). */
const SORT_MAX = String(2 ** 31 - 1);

/**
 * The walk's own query time limit (its TIMEOUT argument), ms: the first command gathers and sorts every
 * matching id before it answers, about 0.2 s per million on Redis 7.4.1 + RediSearch 2.10.32 here, and
 * under the server's default limit (500 ms) an index of 3,000,000 items could not be exported at all:
 * the walk was cut (DEADLINE_EXCEEDED after 2,367,000 ids) and a resumed walk, which sorts them all
 * again, was cut at the same place. 10 s, the longest vecrec waits for any command (connection.ts
 * DEFAULT_LIMITS), lets an export start over some 50 million matching items; Redis is busy with the sort
 * that long. Each FT.CURSOR READ gets the same limit afresh.
 */
export const WALK_TIMEOUT_MS = 10_000;

/** The first command of a walk, or undefined when the filter matches nothing. */
export function aggregateIdsArgs(keys: RedisKeys, index: string, filter: FilterNode, pageSize: number): RedisArg[] | undefined {
  const compiled = toRedisQuery(filter, {});
  if (compiled.matchesNothing) return undefined;
  const params: RedisArg[] = [];
  for (const [name, value] of compiled.params) params.push(name, compiled.tagParams.has(name) ? tagParamValue(value) : value);
  const command: RedisArg[] = ["FT.AGGREGATE", keys.ftIndex(index), compiled.query, "LOAD", "1", `@${ID_FIELD}`, "TIMEOUT", String(WALK_TIMEOUT_MS)];
  command.push("SORTBY", "2", `@${ID_FIELD}`, "ASC", "MAX", SORT_MAX, "WITHCURSOR", "COUNT", String(pageSize));
  if (params.length > 0) command.push("PARAMS", String(params.length), ...params);
  command.push("DIALECT", "2");
  return command;
}

export function cursorReadArgs(keys: RedisKeys, index: string, cursor: string): RedisArg[] {
  return ["FT.CURSOR", "READ", keys.ftIndex(index), cursor];
}

export function cursorDelArgs(keys: RedisKeys, index: string, cursor: string): RedisArg[] {
  return ["FT.CURSOR", "DEL", keys.ftIndex(index), cursor];
}

/**
 * Reads `[page, cursor]`: the page RESP3 `{results: [{extra_attributes: {__vecrec_id}}], ..., warning}` or
 * RESP2 `[total, [field, value, ...], ...]`; cursor "0" when the walk is over.
 * @throws DeadlineExceededError (queryTimeoutError) when the RESP3 page carries `Timeout limit was
 *   reached`: under ON_TIMEOUT RETURN (the default) a walk that outran the server's TIMEOUT (500 ms by
 *   default; the first command sorts every matching id) goes on with only the ids found so far, so an
 *   export would end early without a word. Measured on Redis 7.4.1 + RediSearch 2.10.32 with `TIMEOUT 1`
 *   over 100,000 items: 8,999 ids standalone, 1,000 through the cluster's coordinator, with the warning
 *   in the walk's replies.
 */
export function parseIdPage(reply: Reply): { ids: string[]; cursor: string } {
  const [page, cursor] = replyArray(reply);
  const ids: string[] = [];
  if (Array.isArray(page)) {
    for (const row of page.slice(1)) {
      const id = replyMap(row).get(ID_FIELD);
      if (id !== undefined && id !== null) ids.push(replyText(id));
    }
  } else {
    const map = replyMap(page);
    const warning = map.get("warning");
    throwIfTimedOut(warning === undefined || warning === null ? undefined : replyArray(warning).map(replyText));
    for (const result of replyArray(map.get("results") ?? [])) {
      const attributes = replyMap(result).get("extra_attributes");
      const id = attributes === undefined ? undefined : replyMap(attributes).get(ID_FIELD);
      if (id !== undefined && id !== null) ids.push(replyText(id));
    }
  }
  return { ids, cursor: replyText(cursor ?? 0) };
}
