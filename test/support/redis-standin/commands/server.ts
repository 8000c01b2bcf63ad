/**
 * Server commands: ACL WHOAMI, CONFIG GET (search-default-dialect, appendonly), CONFIG SET appendonly,
 * FLUSHALL/FLUSHDB, DBSIZE, INFO (Server, Cluster and Keyspace sections, as a standalone Redis 7.4.1
 * writes them: `# Cluster\r\ncluster_enabled:0\r\n`), and WAITAOF / WAIT (no replicas: they confirm none).
 */
import { OK, type Reply, arr, bulk, err, int, map, verbatim } from "../resp.js";
import type { Call, Command } from "./command.js";

const flush = ({ state }: Call): Reply => {
  state.flushAll();
  return OK;
};

export const SERVER_COMMANDS: readonly Command[] = [
  {
    name: "ACL",
    arity: -2,
    run: ({ s }) => {
      if (s(1).toUpperCase() === "WHOAMI") return bulk("default");
      return err(`ERR unknown subcommand '${s(1)}'. Try ACL HELP.`);
    },
  },
  {
    name: "CONFIG",
    arity: -2,
    run: ({ proto, s, state }) => {
      if (s(1).toUpperCase() === "GET" && s(2) === "search-default-dialect") {
        return map([[bulk("search-default-dialect"), bulk("1")]]);
      }
      if (s(1).toUpperCase() === "GET" && s(2).toLowerCase() === "appendonly") {
        const value = bulk(state.appendOnly ? "yes" : "no");
        return proto === 3 ? map([[bulk("appendonly"), value]]) : arr([bulk("appendonly"), value]);
      }
      if (s(1).toUpperCase() === "SET" && s(2).toLowerCase() === "appendonly") {
        const value = s(3).toLowerCase();
        if (value !== "yes" && value !== "no") {
          return err(`ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'`);
        }
        state.appendOnly = value === "yes";
        return OK;
      }
      return proto === 3 ? map([]) : arr([]);
    },
  },
  {
    // WAITAOF numlocal numreplicas timeout: [local fsyncs, replica fsyncs]. No replicas here, and
    // writes are "fsynced" at once when appendonly is on; a timeout of 0 would block forever on Redis.
    name: "WAITAOF",
    arity: 4,
    run: ({ s, state }) => {
      const numbers = [s(1), s(2), s(3)];
      if (!numbers.every((n) => /^-?\d+$/.test(n))) return err("ERR value is not an integer or out of range");
      if (Number(s(3)) < 0) return err("ERR timeout is negative");
      if (Number(s(1)) > 0 && !state.appendOnly) {
        return err("ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.");
      }
      return arr([int(state.appendOnly ? 1 : 0), int(0)]);
    },
  },
  {
    // WAIT numreplicas timeout: how many replicas acknowledged; the stand-in has none.
    name: "WAIT",
    arity: 3,
    run: ({ s }) => (/^\d+$/.test(s(1)) && /^\d+$/.test(s(2)) ? int(0) : err("ERR value is not an integer or out of range")),
  },
  { name: "FLUSHALL", arity: -1, run: flush },
  { name: "FLUSHDB", arity: -1, run: flush },
  { name: "DBSIZE", arity: 1, run: ({ ks }) => int(ks.size) },
  {
    name: "INFO",
    arity: -1,
    run: ({ ks, argv }) => infoReply("standalone", 0, ks.size, argv),
  },
];

/**
 * INFO [section ...] as Redis 7.4.1 writes it, for the sections the stand-in models (Server, Cluster,
 * Keyspace): every one for none asked, `default`, `all` or `everything`; `\r\n` line ends, a blank line
 * between sections. Shared by a standalone server and a cluster node (cluster-commands.ts).
 */
export function infoReply(mode: "standalone" | "cluster", port: number, keys: number, argv: readonly Buffer[]): Reply {
  const sections: Array<[string, string[]]> = [
    ["server", ["# Server", "redis_version:7.4.1", `redis_mode:${mode}`, ...(port > 0 ? [`tcp_port:${port}`] : [])]],
    ["cluster", ["# Cluster", `cluster_enabled:${mode === "cluster" ? 1 : 0}`]],
    ["keyspace", ["# Keyspace", ...(keys > 0 ? [`db0:keys=${keys},expires=0,avg_ttl=0`] : [])]],
  ];
  const asked = argv.slice(1).map((arg) => arg.toString("utf8").toLowerCase());
  const all = asked.length === 0 || asked.some((name) => ["", "default", "all", "everything"].includes(name));
  return verbatim(
    sections
      .filter(([name]) => all || asked.includes(name))
      .map(([, lines]) => lines.map((line) => line + "\r\n").join(""))
      .join("\r\n"),
  );
}
