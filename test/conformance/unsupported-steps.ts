/**
 * THE list of recorded conformance steps the stand-in deliberately does not reproduce, each with its
 * reason. The replay test asserts the count per folder (EXPECTED_UNSUPPORTED_BY_FOLDER), so the list
 * cannot grow silently, and fails when a listed step starts to match (then remove it here).
 * Step indexes are 0-based positions in the scenario's `steps`. The 8.0.2 and 7.4.1 folders send the
 * same commands step for step in 00-10; 11-element-types exists only in the 7.4.1 folders.
 *
 * The stand-in follows Redis 8.0.2 (search 8.0.2). Where Redis 7.4.1 (RediSearch 2.10.32) answers
 * differently, the step is listed below for the 7.4.1 folders with `follows: "redis-8.0.2"`: the replay
 * then also checks that the stand-in's reply matches the same step recorded from 8.0.2 (same protocol),
 * so "the stand-in follows 8.0.2" is tested, not just claimed. VERSION-DIFFERENCES.md lists them.
 */
export interface UnsupportedRule {
  readonly file: string;
  readonly steps: readonly number[];
  /** Restricts the rule to these folders (exact names); all folders when absent. */
  readonly folder?: string | readonly string[];
  readonly reason: string;
  /**
   * The stand-in answers this step like the recording in this sibling (same protocol, same file, same
   * step index, same command): the replay asserts that it matches that recording instead.
   */
  readonly follows?: "redis-8.0.2";
  /**
   * Where there is no recording to follow: the reply the stand-in sends instead, derived from the
   * recorded one (the replay asserts that the stand-in's reply matches it under the step's flags).
   */
  readonly instead?: (recorded: unknown) => unknown;
}

const V741 = ["redis-7.4.1-search-2.10.32", "redis-7.4.1-search-2.10.32-resp3"] as const;

/** Steps where 7.4.1 differs from 8.0.2 and the stand-in answers like 8.0.2. */
const versionRule = (file: string, steps: readonly number[], reason: string): UnsupportedRule => ({
  file,
  steps,
  folder: V741,
  reason,
  follows: "redis-8.0.2",
});

const INDEXES_ALL_CORE =
  "FT.INFO index_definition: 7.4.1 has no `indexes_all` key (key_type, prefixes, default_score), 8.0.2 ends it with `indexes_all false`; the stand-in follows 8.0.2";
const INDEXES_ALL = `${INDEXES_ALL_CORE} (every other compared FT.INFO key is the same in both versions)`;
const FIELD_ERRORS =
  "a query naming an unknown field or a field of the wrong type: 7.4.1 returns an empty result (`[0]`), 8.0.2 fails with `Unknown field at offset N near F` / `Expected a VECTOR|TAG|NUMERIC field at offset N near F`; the stand-in follows 8.0.2";
const UNKNOWN_INDEX =
  "unknown index: 7.4.1 says `Unknown index name` (FT.INFO), `Unknown Index name` (FT.DROPINDEX) and `Unknown index name (or name is an alias itself)` (FT.ALIASADD/ALIASUPDATE), 8.0.2 says `<name>: no such index`; the stand-in follows 8.0.2";

export const UNSUPPORTED_STEPS: readonly UnsupportedRule[] = [
  // ---- every folder: deliberate gaps of the stand-in -----------------------------------------------
  {
    file: "05-filters",
    steps: [74, 75, 76, 77],
    reason: "exact phrases (@f:\"a b\") are outside vecrec's filter language; its parser rejects them",
  },
  {
    file: "06-range",
    steps: [24],
    reason:
      "Redis quirk: a negation written before a large VECTOR_RANGE drops the yielded distance from some rows; the stand-in yields it on every row in range",
  },

  // ---- Redis 7.4.1 + RediSearch 2.10.32 versus 8.0.2: the stand-in follows 8.0.2 ------------------
  versionRule("01-seed-blog", [25], INDEXES_ALL),
  versionRule("02-create-variants", [27, 28, 29, 30, 31, 32], INDEXES_ALL),
  versionRule("03-writes", [37, 42, 46, 54, 57], INDEXES_ALL),
  versionRule("08-lifecycle", [5, 37], INDEXES_ALL),
  versionRule("04-knn-shapes", [72, 73], FIELD_ERRORS),
  versionRule("05-filters", [132, 133, 134, 135, 136, 137, 138, 139, 140, 141], FIELD_ERRORS),
  versionRule("06-range", [30], FIELD_ERRORS),
  versionRule(
    "05-filters",
    [66, 67],
    "numeric range with min > max (`@n:[40 20]`): 7.4.1 returns an empty result (`[0]`), 8.0.2 fails with `Invalid numeric range (min > max): @n:[40.000000 20.000000]`; the stand-in follows 8.0.2",
  ),
  versionRule("08-lifecycle", [12, 20, 21, 22, 25, 41, 47], UNKNOWN_INDEX),
  versionRule(
    "08-lifecycle",
    [42],
    "FT.ALIASADD of an alias named like an existing index (`lc2`): 7.4.1 accepts it (`OK`), 8.0.2 fails with `Alias conflicts with an existing index name`; the stand-in follows 8.0.2",
  ),
  versionRule(
    "08-lifecycle",
    [60],
    "FT.ALIASADD live lc2 where lc2 is not an index: 7.4.1 says `Unknown index name (or name is an alias itself)` (lc2 is an alias there, after step 42), 8.0.2 says `lc2: no such index`; the stand-in follows 8.0.2",
  ),
  versionRule(
    "10-syntax-errors",
    [4],
    "CONFIG GET search-default-dialect: 7.4.1 has no such configuration parameter (empty reply), 8.0.2 answers `search-default-dialect 1`; the stand-in follows 8.0.2",
  ),
  versionRule(
    "10-syntax-errors",
    [6, 7],
    "FT.SEARCH/FT.AGGREGATE with only an index name: 7.4.1 says `No query string provided`, 8.0.2 says `ERR wrong number of arguments for 'FT.SEARCH'|'FT.AGGREGATE' command`; the stand-in follows 8.0.2",
  ),
  versionRule(
    "10-syntax-errors",
    [8],
    "FT.CREATE with only an index name: 7.4.1 says `ERR wrong number of arguments for 'FT.CREATE' command`, 8.0.2 names its internal command `'_FT.CREATE'`; the stand-in follows 8.0.2",
  ),

  // ---- 11-element-types (7.4.1 only; no 8.0.2 recording to follow) --------------------------------
  {
    file: "11-element-types",
    steps: [36, 37, 147, 148, 149],
    folder: V741,
    reason: `${INDEXES_ALL_CORE} (no 8.0.2 recording of this step; checked against the 7.4.1 reply with \`indexes_all false\` added)`,
    instead: withIndexesAll,
  },
];

/**
 * Steps matched by the rules above, per folder. 8.0.2: 4 + 1 deliberate gaps. 7.4.1 (each protocol):
 * the same 5, plus 42 version differences in 00-10 (14 FT.INFO `indexes_all`, 13 field errors, 2 min >
 * max, 7 unknown-index texts, 1 alias conflict, 1 alias text, 1 CONFIG GET, 2 missing query, 1
 * `_FT.CREATE`) and 5 in 11-element-types (FT.INFO `indexes_all`; every FLOAT16/BFLOAT16 step replays).
 */
export const EXPECTED_UNSUPPORTED_BY_FOLDER: Readonly<Record<string, number>> = {
  "redis-8.0.2-resp3": 5,
  "redis-8.0.2": 5,
  "redis-7.4.1-search-2.10.32-resp3": 5 + 42 + 5,
  "redis-7.4.1-search-2.10.32": 5 + 42 + 5,
};

/** Steps matched by the rules above, summed over every replayed folder. */
export const EXPECTED_UNSUPPORTED_COUNT = Object.values(EXPECTED_UNSUPPORTED_BY_FOLDER).reduce((a, b) => a + b, 0);

/** An FT.INFO reply (RESP2 flat list or RESP3 map) with `indexes_all false` appended to its index_definition. */
export function withIndexesAll(reply: unknown): unknown {
  const key = { status: "indexes_all" };
  const value = { status: "false" };
  const isDefinitionKey = (k: unknown): boolean =>
    typeof k === "object" && k !== null && (k as { status?: unknown }).status === "index_definition";
  if (Array.isArray(reply)) {
    const items = reply as unknown[];
    return items.map((v, i): unknown => (i % 2 === 1 && isDefinitionKey(items[i - 1]) && Array.isArray(v) ? [...(v as unknown[]), key, value] : v));
  }
  const map = (reply as { map?: unknown } | null)?.map;
  if (Array.isArray(map)) {
    return {
      map: (map as Array<[unknown, unknown]>).map(([k, v]) => {
        const inner = (v as { map?: unknown } | null)?.map;
        return isDefinitionKey(k) && Array.isArray(inner) ? [k, { map: [...(inner as unknown[]), [key, value]] }] : [k, v];
      }),
    };
  }
  return reply;
}

function inFolder(rule: UnsupportedRule, folder: string): boolean {
  if (rule.folder === undefined) return true;
  return typeof rule.folder === "string" ? rule.folder === folder : rule.folder.includes(folder);
}

/** The rule that lists this step, if any. */
export function unsupportedRule(folder: string, file: string, step: number): UnsupportedRule | undefined {
  return UNSUPPORTED_STEPS.find((r) => file.startsWith(r.file) && r.steps.includes(step) && inFolder(r, folder));
}

export function unsupportedReason(folder: string, file: string, step: number): string | undefined {
  return unsupportedRule(folder, file, step)?.reason;
}

/** The folder a `follows` rule points to for `folder`: the 8.0.2 recording of the same protocol. */
export function followedFolder(rule: UnsupportedRule, folder: string): string | undefined {
  if (rule.follows === undefined) return undefined;
  return folder.endsWith("-resp3") ? `${rule.follows}-resp3` : rule.follows;
}
