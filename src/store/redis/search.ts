/**
 * Search on Redis: one FT.SEARCH (commands/ft-search.ts) sent to any node; on a cluster that node's
 * coordinator asks every shard and merges. Repairs a definition whose FT index went missing (see
 * index-operations.ts) and reports the rebuild instead of partial answers.
 */
import { RedisRoom, type StoreContext } from "./redis-room.js";
import { throwIfAborted } from "../../domain/errors.js";
import type { IndexSpec } from "../../domain/schema.js";
import type { SearchQuery, SearchResult } from "../vector-store.js";
import { buildSearchArgs, readSearchReply, sameDistance } from "./commands/ft-search.js";
import { isTagInexact } from "./filter-query.js";
import type { IndexOperations } from "./index-operations.js";
import { isUnknownIndexError } from "./redis-errors.js";
import type { Reply } from "./reply-parsers.js";

/** How many rows beyond k a KNN search may fetch to settle a tie at the k-th distance. */
const MAX_TIE_EXTRA = 10_000;

export class SearchOperations extends RedisRoom {
  readonly #indexes: IndexOperations;

  constructor(context: StoreContext, indexes: IndexOperations) {
    super(context);
    this.#indexes = indexes;
  }

  /**
   * KNN asks Redis for one neighbour more than k: when the (k+1)-th ties with the k-th, Redis chose
   * among the tied items by internal document id (a cluster: by merge order), so the query is repeated
   * with a larger k until the whole tie is inside (at most MAX_TIE_EXTRA extra rows), then hits are
   * ordered by (distance, id) and cut to k. Without a boundary tie this costs one extra row and no
   * extra round trip.
   */
  async search(index: string, query: SearchQuery): Promise<SearchResult> {
    throwIfAborted(query.signal);
    try {
      await this.#indexes.throwIfRebuilding(index, query.signal);
      return await this.#search(await this.definitions.get(index, query.signal), query);
    } catch (error) {
      if (!isUnknownIndexError(error)) throw error;
      // The FT index is gone: dropped by another replica (then the definition is gone too), or by
      // hand, leaving the definition: rebuild the FT index from it and try once more (Redis indexes
      // the stored items in the background: until it is done the search fails with UnavailableError).
      const spec = await this.definitions.read(index, query.signal);
      if (spec === undefined) throw await this.definitions.notFound(index, query.signal);
      await this.#indexes.ensureFtIndex(spec, query.signal);
      await this.#indexes.throwIfRebuilding(index, query.signal);
      return await this.#search(spec, query);
    }
  }

  /**
   * Sends an FT.SEARCH; its bulk strings come as JS strings unless it returns vectors (Route.text). The
   * call's signal goes with the command: the connection's bound (command-bound.ts) rejects the wait once
   * it aborts, with the call's own CancelledError or DeadlineExceededError.
   */
  #ask(command: readonly (string | Buffer)[], query: SearchQuery): Promise<Reply> {
    return this.connection.send(command, { signal: query.signal, text: !query.includeVectors });
  }

  async #search(spec: IndexSpec, query: SearchQuery): Promise<SearchResult> {
    // Ids the tag exclusion cannot match on a real server (edge whitespace, see isTagInexact): they
    // stay in the query (harmless there) and are dropped here.
    const inexact = new Set((query.excludeIds ?? []).filter(isTagInexact));
    if (query.vector === undefined) {
      const args = buildSearchArgs(this.keys, spec, query);
      if (args === undefined) return { hits: [], totalMatches: 0 };
      const { result } = readSearchReply(this.keys, spec, query, args.returned, await this.#ask(args.command, query));
      // The page may then be one short (only KNN searches exclude ids in vecrec's use cases).
      return inexact.size === 0 ? result : { ...result, hits: result.hits.filter((h) => !inexact.has(h.id)) };
    }
    // KNN: as many more rows fetched as inexact ids are dropped, so that k stays k.
    const limit = query.k + MAX_TIE_EXTRA + inexact.size;
    let fetch = query.k + 1 + inexact.size;
    for (;;) {
      const args = buildSearchArgs(this.keys, spec, query, fetch);
      if (args === undefined) return { hits: [], totalMatches: 0 };
      const reply = await this.#ask(args.command, query);
      const { result, rows } = readSearchReply(this.keys, spec, query, args.returned, reply);
      const hits = inexact.size === 0 ? result.hits : result.hits.filter((h) => !inexact.has(h.id));
      const dropped = result.hits.length - hits.length;
      const kth = hits[query.k - 1];
      const last = hits[hits.length - 1];
      const tieOpen = rows >= fetch && kth !== undefined && last !== undefined && sameDistance(kth.distance, last.distance);
      if (!tieOpen || fetch >= limit) {
        return { hits: hits.slice(0, query.k), totalMatches: Math.min(query.k, result.totalMatches - dropped) };
      }
      fetch = Math.min(limit, fetch * 2);
    }
  }
}
