/**
 * Comparison of a stand-in cluster's reply with a cluster recording (README "Cluster recordings"):
 * the placeholders `(idN)`, `(shardN)`, `(portN)`, `(busportN)` and `{"node_port": N}` are replaced
 * by the stand-in's values first (inside text and base64 replies too), then compare-reply.ts decides,
 * except for the replies it has no rule for: CLUSTER INFO / NODES / SHARDS (their varying parts),
 * SCAN (a multiset), cursor replies (the id only as 0 / not 0), and FT.INFO / _FT.INFO (the
 * implemented keys).
 */
import { type Encoded, encodeBulk } from "../support/redis-standin/raw-resp-client.js";
import { FT_INFO_COMPARED_KEYS, type Outcome, type StepFlags, compareReply, diff } from "./compare-reply.js";

export interface ClusterNodeValues {
  readonly id: string;
  readonly shardId: string;
  readonly port: number;
  readonly busPort: number;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

function substituteText(text: string, nodes: readonly ClusterNodeValues[]): string {
  return text.replace(/\((id|shard|port|busport)(\d+)\)/g, (whole, kind: string, n: string) => {
    const node = nodes[Number(n)];
    if (!node) return whole;
    if (kind === "id") return node.id;
    if (kind === "shard") return node.shardId;
    if (kind === "port") return String(node.port);
    return String(node.busPort);
  });
}

/** The recorded reply with the stand-in's ids and ports in place of the placeholders. */
export function substitutePlaceholders(x: unknown, nodes: readonly ClusterNodeValues[]): unknown {
  if (typeof x === "string") return substituteText(x, nodes);
  if (Array.isArray(x)) return x.map((e) => substitutePlaceholders(e, nodes));
  if (!isObj(x)) return x;
  if (typeof x.node_port === "number") return nodes[x.node_port]?.port ?? x;
  if (typeof x.base64 === "string" && Object.keys(x).length === 1) {
    return encodeBulk(Buffer.from(substituteText(Buffer.from(x.base64, "base64").toString("utf8"), nodes), "utf8"));
  }
  const out: Obj = {};
  for (const [k, v] of Object.entries(x)) out[k] = substitutePlaceholders(v, nodes);
  return out;
}

/** The raw client decodes a verbatim string to text; the recordings encode it like a bulk string. */
function normalizeActual(a: Encoded): unknown {
  if (Array.isArray(a)) return a.map(normalizeActual);
  if (a === null || typeof a !== "object") return a;
  if ("verbatim" in a) return { verbatim: encodeBulk(Buffer.from(a.verbatim, "utf8")), format: a.format };
  if ("map" in a) return { map: a.map.map(([k, v]) => [normalizeActual(k), normalizeActual(v)]) };
  if ("set" in a) return { set: a.set.map(normalizeActual) };
  return a;
}

/** The text of a bulk or verbatim reply (after normalizeActual / in a recording). */
function textOf(x: unknown): string | undefined {
  const inner = isObj(x) && "verbatim" in x ? x.verbatim : x;
  if (typeof inner === "string") return inner;
  if (isObj(inner) && typeof inner.base64 === "string") return Buffer.from(inner.base64, "base64").toString("utf8");
  return undefined;
}

const sameMultiset = (e: readonly unknown[], a: readonly unknown[]): boolean => {
  if (e.length !== a.length) return false;
  const used = new Set<number>();
  return e.every((x) => {
    const j = a.findIndex((y, i) => !used.has(i) && diff(x, y) === undefined);
    if (j >= 0) used.add(j);
    return j >= 0;
  });
};

/** The value of `key` in an FT.INFO reply (a RESP3 map or a RESP2 flat list). */
function valueOf(reply: unknown, key: string): unknown {
  const pairs: unknown[][] = isObj(reply) && Array.isArray(reply.map) ? (reply.map as unknown[][]) : [];
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i], reply[i + 1]]);
  const name = (k: unknown): unknown => (isObj(k) && "status" in k ? k.status : k);
  return pairs.find(([k]) => name(k) === key)?.[1];
}

const relaxed = (ok: boolean, detail: string): Outcome => (ok ? { kind: "relaxed" } : { kind: "mismatch", detail });

/** CLUSTER INFO lines without the message counters and epochs. */
function clusterInfoLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l !== "" && !/^(cluster_stats_messages_|cluster_current_epoch|cluster_my_epoch)/.test(l));
}

/** CLUSTER NODES lines without ping-sent, pong-recv and config-epoch. */
function clusterNodesLines(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split(" ").filter((_, i) => i < 4 || i > 6).join(" "));
}

/** Compares a cursor reply `[page, id]`: the page as an FT.AGGREGATE reply, the id as 0 / not 0. */
function compareCursorReply(expected: unknown, actual: unknown, flags: StepFlags): Outcome {
  if (!Array.isArray(expected) || !Array.isArray(actual) || expected.length !== 2 || actual.length !== 2) {
    const d = diff(expected, actual);
    return d === undefined ? { kind: "exact" } : { kind: "mismatch", detail: d };
  }
  const [ePage, eId] = expected as [unknown, unknown];
  const [aPage, aId] = actual as [unknown, unknown];
  if ((eId === 0) !== (aId === 0)) return { kind: "mismatch", detail: `cursor id: expected ${String(eId)}, got ${String(aId)}` };
  const page = compareReply("FT.AGGREGATE", ePage, aPage as Encoded, { ...flags, nondeterministic: false });
  return page.kind === "mismatch" ? page : { kind: "relaxed" };
}

/**
 * Compares the stand-in's `actual` reply to step `cmd` with the `recorded` one under the step's flags.
 */
export function compareClusterReply(
  cmd: readonly string[],
  recorded: unknown,
  actualRaw: Encoded,
  flags: StepFlags,
  nodes: readonly ClusterNodeValues[],
): Outcome {
  const expected = substitutePlaceholders(recorded, nodes);
  const actual = normalizeActual(actualRaw);
  const name = (cmd[0] ?? "").toUpperCase();
  const sub = (cmd[1] ?? "").toUpperCase();
  const isError = isObj(expected) && "error" in expected;
  if (!isError && name === "CLUSTER" && (sub === "INFO" || sub === "NODES")) {
    const e = textOf(expected);
    const a = textOf(actual);
    if (e === undefined || a === undefined) return { kind: "mismatch", detail: `not a text reply: ${JSON.stringify(actual).slice(0, 200)}` };
    if (e === a) return { kind: "exact" };
    const lines = sub === "INFO" ? clusterInfoLines : clusterNodesLines;
    const ok = sub === "INFO" ? diff(lines(e), lines(a)) === undefined : sameMultiset(lines(e), lines(a));
    return relaxed(ok, `${sub}: expected ${JSON.stringify(lines(e))}, got ${JSON.stringify(lines(a))}`);
  }
  if (!isError && name === "CLUSTER" && sub === "SHARDS" && Array.isArray(expected) && Array.isArray(actual)) {
    if (diff(expected, actual) === undefined) return { kind: "exact" };
    return relaxed(sameMultiset(expected, actual), `shards: ${JSON.stringify(actual).slice(0, 400)}`);
  }
  if (!isError && name === "SCAN" && Array.isArray(expected) && Array.isArray(actual) && flags.nondeterministic) {
    const [eCursor, eKeys] = expected as [unknown, unknown[]];
    const [aCursor, aKeys] = actual as [unknown, unknown[]];
    if (diff(expected, actual) === undefined) return { kind: "exact" };
    return relaxed(eCursor === aCursor && Array.isArray(aKeys) && sameMultiset(eKeys, aKeys), `scan: ${JSON.stringify(actual)}`);
  }
  const withCursor = name === "FT.CURSOR" || (name === "FT.AGGREGATE" && cmd.some((c) => c.toUpperCase() === "WITHCURSOR"));
  if (!isError && withCursor && flags.nondeterministic) return compareCursorReply(expected, actual, flags);
  if (name === "FT.INFO" || name === "_FT.INFO") {
    if (flags.nondeterministic && flags.stable_keys === undefined) {
      // Taken while the shards scanned: only the definition and the errors are stable.
      const unstable = new Set(["num_docs", "indexing", "percent_indexed"]);
      const stable_keys = FT_INFO_COMPARED_KEYS.filter((k) => !unstable.has(k));
      return compareReply("FT.INFO", expected, actual as Encoded, { ...flags, stable_keys });
    }
    const outcome = compareReply("FT.INFO", expected, actual as Encoded, flags);
    if (outcome.kind === "mismatch" || !flags.stable_keys) return outcome;
    // Beyond compare-reply.ts's keys: the largest document id and the cursor statistics.
    for (const key of ["max_doc_id", "cursor_stats"].filter((k) => flags.stable_keys?.includes(k))) {
      const d = diff(valueOf(expected, key), valueOf(actual, key), `$.${key}`);
      if (d) return { kind: "mismatch", detail: d };
    }
    return outcome;
  }
  return compareReply(name, expected, actual as Encoded, flags);
}
