/**
 * Query Engine commands: FT._LIST, FT.CREATE, FT.ALTER, FT.DROPINDEX, FT.INFO, FT.SEARCH, FT.AGGREGATE,
 * FT.ALIASADD/ALIASUPDATE/ALIASDEL, FT.CONFIG. Indexes live in ../search-index.ts; the search and
 * aggregate pipelines in ../ft-search.ts and ../ft-aggregate.ts. A cluster node hands these to its
 * coordinator first (../coordinator.ts), which calls back here for each node's own index.
 */
import type { AggregateCursor, ClusterNode } from "../cluster-topology.js";
import { coordinatorAggregate, cursorCommand } from "../coordinator-aggregate.js";
import { ftAggregate } from "../ft-aggregate.js";
import { ftSearch } from "../ft-search.js";
import { OK, type Reply, arr, bulk, err, map, set, simple, smap } from "../resp.js";
import { SearchIndex, infoReply, parseCreate, parseSchema } from "../search-index.js";
import type { Call, Command } from "./command.js";

/** The error texts of an unknown index: FT.INFO and FT.DROPINDEX say one thing, FT.SEARCH and FT.AGGREGATE another. */
const noSuchIndex = (name: string): string => `${name}: no such index`;
const noSuchIndexQuery = (name: string): string => `No such index ${name}`;

/** A handler that runs `body` on the index (or alias) named by argv[1], or answers `missing(name)`. */
function onIndex(missing: (name: string) => string, body: (idx: SearchIndex, call: Call) => Reply): (call: Call) => Reply {
  return (call) => {
    const idx = call.state.resolveIndex(call.s(1));
    return idx ? body(idx, call) : err(missing(call.s(1)));
  };
}

/** The WITHCURSOR results of one standalone server (FT.AGGREGATE WITHCURSOR, FT.CURSOR READ/DEL). */
const standaloneCursors = new WeakMap<object, { cursors: Map<number, AggregateCursor> }>();
function cursorHolder(state: object): ClusterNode {
  let holder = standaloneCursors.get(state);
  if (holder === undefined) {
    holder = { cursors: new Map() };
    standaloneCursors.set(state, holder);
  }
  return holder as unknown as ClusterNode;
}

const aliasAddOrUpdate = ({ state, cmd, s }: Call): Reply => {
  const alias = s(1);
  const idx = state.indexes.get(s(2));
  if (!idx) return err(noSuchIndex(s(2)));
  if (cmd === "FT.ALIASADD") {
    if (state.indexes.has(alias)) return err("Alias conflicts with an existing index name");
    if (state.aliases.has(alias)) return err("Alias already exists");
  }
  state.aliases.set(alias, idx.name);
  return OK;
};

export const QUERY_ENGINE_COMMANDS: readonly Command[] = [
  { name: "FT._LIST", arity: -1, run: ({ state }) => set([...state.indexes.keys()].map((n) => simple(n))) },
  {
    name: "FT.CREATE",
    arity: -3,
    run: ({ state, conn, argv, s }) => {
      // RediSearch's CreateIndexCommand checks the database before anything else.
      if ((conn.db ?? 0) !== 0) return err("Cannot create index on db != 0");
      const name = s(1);
      if (state.indexes.has(name)) return err("Index already exists");
      const def = parseCreate(argv.slice(2).map((a) => a.toString("utf8")));
      const idx = new SearchIndex(name, def.prefixes, def.fields);
      state.indexes.set(name, idx);
      if (!def.skipInitialScan) state.scanExisting(idx);
      return OK;
    },
  },
  {
    name: "FT.ALTER",
    arity: -5,
    run: onIndex(
      () => "Unknown index name",
      (idx, { state, argv, s }) => {
        let i = 2;
        const skipInitialScan = s(i).toUpperCase() === "SKIPINITIALSCAN";
        if (skipInitialScan) i += 1;
        if (s(i).toUpperCase() !== "SCHEMA" || s(i + 1).toUpperCase() !== "ADD") return err("ERR syntax error");
        const added = parseSchema(argv.slice(i + 2).map((a) => a.toString("utf8")), idx.fields);
        idx.fields = [...idx.fields, ...added];
        if (!skipInitialScan) state.scanExisting(idx);
        return OK;
      },
    ),
  },
  {
    name: "FT.DROPINDEX",
    arity: -2,
    run: onIndex(noSuchIndex, (idx, { state, ks, s }) => {
      state.indexes.delete(idx.name);
      for (const [alias, target] of [...state.aliases]) if (target === idx.name) state.aliases.delete(alias);
      if (s(2).toUpperCase() === "DD") for (const key of [...idx.docs.keys()]) ks.delete(key);
      return OK;
    }),
  },
  { name: "FT.INFO", arity: 2, run: onIndex(noSuchIndex, (idx, { proto }) => infoReply(idx, proto)) },
  {
    name: "FT.SEARCH",
    arity: -3,
    run: onIndex(noSuchIndexQuery, (idx, { ks, proto, argv }) => ftSearch(ks, idx, argv[2] as Buffer, argv.slice(3), proto)),
  },
  {
    name: "FT.AGGREGATE",
    arity: -3,
    run: onIndex(noSuchIndexQuery, (idx, { ks, proto, argv, state }) =>
      // WITHCURSOR: paged as the cluster coordinator pages it, over this server's one shard.
      argv.some((a) => a.toString("utf8").toUpperCase() === "WITHCURSOR")
        ? coordinatorAggregate([state], cursorHolder(state), argv, proto)
        : ftAggregate(ks, idx, argv[2] as Buffer, argv.slice(3), proto),
    ),
  },
  { name: "FT.CURSOR", arity: -4, run: ({ state, argv, proto }) => cursorCommand(cursorHolder(state), argv, proto) },
  { name: "FT.ALIASADD", arity: 3, run: aliasAddOrUpdate },
  { name: "FT.ALIASUPDATE", arity: 3, run: aliasAddOrUpdate },
  {
    name: "FT.ALIASDEL",
    arity: 2,
    run: ({ state, s }) => {
      if (!state.aliases.delete(s(1))) return err("Alias does not exist");
      return OK;
    },
  },
  {
    name: "FT.CONFIG",
    arity: -3,
    run: ({ proto, s }) => {
      if (s(1).toUpperCase() === "GET" && s(2).toUpperCase() === "DEFAULT_DIALECT") {
        return proto === 3 ? smap([["DEFAULT_DIALECT", bulk("1")]]) : arr([arr([simple("DEFAULT_DIALECT"), bulk("1")])]);
      }
      return proto === 3 ? map([]) : arr([]);
    },
  },
];
