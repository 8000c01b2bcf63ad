/**
 * What the filter limits (src/domain/filter/limits.ts) buy, on the embedded engine over gRPC on
 * loopback (server and client in this process, so a stalled event loop delays both):
 * - Search k=10 latency unfiltered, with a one-label filter, and with the costliest filters the limits
 *   allow (16 conditions, 128 values, 16 text words, matching nothing so that every row runs all of
 *   them), and each one's ratio to the unfiltered search. The data defeats the embedded matcher's
 *   shortcuts (column-filter.ts): every row has its own text and its own tag list (no answer shared
 *   between rows), every text word of the filters occurs in some row (none is ruled out before the
 *   scan), and each row lacks one of the common words, so a condition of 8 of them fails only at the
 *   word the row lacks;
 * - how long the 2,000-clause bombs of issue 11 take to be refused (typed any_of and filter string);
 * - health latency (grpc.health.v1 Check every 10 ms) while the costliest allowed search runs back to back;
 * - how far past its deadline a search goes on computing (the store's signal aborted by the deadline
 *   timer, measured when the scan gives up), on a larger index.
 *
 *   npx tsx bench/filter-cost.ts [items=50000] [dim=128] [rounds=30] [deadline-items=500000]
 */
import { credentials, Metadata, makeGenericClientConstructor, type Client, type ServiceError } from "@grpc/grpc-js";
import { service as healthServiceDefinition } from "grpc-health-check";
import { pino } from "pino";
import { MAX_FILTER_CLAUSES, MAX_FILTER_VALUES, MAX_FILTER_WORDS } from "../src/domain/filter/limits.js";
import type { FilterNode } from "../src/domain/filter/filter.js";
import { DeadlineExceededError } from "../src/domain/errors.js";
import { Filter, SearchRequest, VectorServiceClient, type SearchResponse } from "../src/gen/vecrec/v1/vecrec.js";
import { startServer } from "../src/main.js";
import { createEmbeddedStore } from "../src/store/embedded/embedded-store.js";
import type { VectorStore } from "../src/store/vector-store.js";
import { createRandom, fixed, median, quantile } from "./stats.js";

const ITEMS = Number(process.argv[2] ?? "50000");
const DIM = Number(process.argv[3] ?? "128");
const ROUNDS = Number(process.argv[4] ?? "30");
const DEADLINE_ITEMS = Number(process.argv[5] ?? "500000");
const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
const PER_CLAUSE = Math.floor(MAX_FILTER_VALUES / MAX_FILTER_CLAUSES);
/** Words per text clause when every clause is a text clause (the word bound shared among them). */
const WORDS_PER_CLAUSE = Math.max(1, Math.floor(MAX_FILTER_WORDS / MAX_FILTER_CLAUSES));

const random = createRandom(11);
const vector = () => Float32Array.from({ length: DIM }, () => random() - 0.5);

async function fill(store: VectorStore, name: string, items: number): Promise<void> {
  await store.createIndex({
    name,
    fields: [
      { name: "descr", type: "text", weight: 1 },
      { name: "labels", type: "tag", separator: ",", caseSensitive: false },
      { name: "time", type: "numeric" },
      { name: "vec", type: "vector", dimension: DIM, algorithm: "FLAT", metric: "COSINE", elementType: "FLOAT32" },
    ],
  } as never);
  for (let start = 0; start < items; start += 5_000) {
    const batch = Array.from({ length: Math.min(5_000, items - start) }, (_, j) => ({
      id: `i${start + j}`,
      vector: vector(),
      fields: {
        // Every item lacks one of the common words, and has a word and a tag of its own.
        descr: { type: "text" as const, value: `${WORDS.filter((_, w) => w !== (start + j) % WORDS.length).join(" ")} item${start + j}` },
        labels: { type: "tag" as const, values: [`l${(start + j) % 8}`, `u${start + j}`] },
        time: { type: "numeric" as const, value: start + j },
      },
    }));
    await store.upsert(name, batch);
  }
}

// The costliest allowed filters: every condition fails on every row, so none is skipped.
const tagClause = (c: number): Filter => ({
  condition: { $case: "tag", value: { field: "labels", values: Array.from({ length: PER_CLAUSE }, (_, v) => `none${c}x${v}`), match: 0 } },
});
// One-word text clauses: a word of one row each (item0, item1...), so each row checks every clause.
const textWords = (c: number, words: number): string[] =>
  words === 1 ? [`item${c}`] : Array.from({ length: words }, (_, w) => WORDS[(c + w) % WORDS.length] as string);
const textClause = (c: number): Filter => ({
  condition: { $case: "text", value: { field: "descr", words: textWords(c, WORDS_PER_CLAUSE).join(" ") } },
});
// Fewer, longer text clauses: the word bound spent on clauses of 8 common words; each row lacks one of them.
const longTextClause = (c: number): Filter => ({
  condition: { $case: "text", value: { field: "descr", words: textWords(c, 8).join(" ") } },
});
const anyOf = (filters: Filter[]): Filter => ({ condition: { $case: "anyOf", value: { filters } } });
const clauses = (make: (c: number) => Filter) => Array.from({ length: MAX_FILTER_CLAUSES }, (_, c) => make(c));
const textQuery = Array.from({ length: MAX_FILTER_CLAUSES }, (_, c) => `@descr:(${textWords(c, WORDS_PER_CLAUSE).join(" ")})`).join(" | ");

const logger = pino({ level: "silent" });
const store = createEmbeddedStore();
await fill(store, "bench", ITEMS);
const server = await startServer({ store, listen: "127.0.0.1:0", logger });
const address = `127.0.0.1:${server.port}`;
const client = new VectorServiceClient(address, credentials.createInsecure());
const Health = makeGenericClientConstructor(healthServiceDefinition, "Health");
const health = new Health(address, credentials.createInsecure()) as unknown as Client & {
  check(req: { service: string }, cb: (e: ServiceError | null, r: { status: string }) => void): void;
};

function search(request: Partial<SearchRequest>, deadlineMs = 60_000): Promise<{ ms: number; hits: number; code: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const call = client.search(
      SearchRequest.fromPartial({ indexName: "bench", k: 10, query: { $case: "vector", value: { encoding: { $case: "float32Le", value: Buffer.from(vector().buffer) } } }, ...request }),
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
    );
    let hits = 0;
    call.on("data", (_: SearchResponse) => hits++);
    call.on("error", (e: ServiceError) => resolve({ ms: performance.now() - started, hits, code: e.code }));
    call.on("end", () => resolve({ ms: performance.now() - started, hits, code: 0 }));
  });
}

const cases: [string, Partial<SearchRequest>][] = [
  ["no filter", {}],
  ["1 label of 8 (typed)", { filter: { condition: { $case: "tag", value: { field: "labels", values: ["l3"], match: 0 } } } }],
  [`${MAX_FILTER_CLAUSES} tag conditions x ${PER_CLAUSE} values, any_of, no match`, { filter: anyOf(clauses(tagClause)) }],
  [`${MAX_FILTER_CLAUSES} text conditions x ${WORDS_PER_CLAUSE} words, any_of, no match`, { filter: anyOf(clauses(textClause)) }],
  [
    `${MAX_FILTER_WORDS / 8} text conditions x 8 words + ${MAX_FILTER_CLAUSES - MAX_FILTER_WORDS / 8} tag conditions, any_of, no match`,
    { filter: anyOf([...Array.from({ length: MAX_FILTER_WORDS / 8 }, (_, c) => longTextClause(c)), ...Array.from({ length: MAX_FILTER_CLAUSES - MAX_FILTER_WORDS / 8 }, (_, c) => tagClause(c))]) },
  ],
  [`the same as a filter_query string`, { filterQuery: textQuery }],
];
// Warm up, then interleave the cases round by round so drift hits them alike.
for (const [, request] of cases) await search(request);
const times = cases.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, [, request]] of cases.entries()) {
    const { ms, code } = await search(request);
    if (code !== 0) throw new Error(`case ${i} failed with code ${code}`);
    times[i]?.push(ms);
  }
}
const base = median([...(times[0] ?? [])].sort((a, b) => a - b));
console.log(`\nSearch k=10 over ${ITEMS} x ${DIM} (embedded, FLAT COSINE, gRPC loopback), ${ROUNDS} rounds, limits ${MAX_FILTER_CLAUSES} conditions / ${MAX_FILTER_VALUES} values\n`);
console.log("| filter | median ms | p95 ms | / unfiltered (medians) |\n|---|---:|---:|---:|");
for (const [i, [name]] of cases.entries()) {
  const sorted = [...(times[i] ?? [])].sort((a, b) => a - b);
  console.log(`| ${name} | ${fixed(median(sorted))} | ${fixed(quantile(sorted, 0.95))} | ${fixed(median(sorted) / base, 1)}x |`);
}

// The bombs of issue 11: 2,000 OR'ed tag clauses.
const bombTyped = anyOf(Array.from({ length: 2_000 }, (_, c) => ({ condition: { $case: "tag", value: { field: "labels", values: [`b${c}`], match: 0 } } })));
const bombQuery = Array.from({ length: 2_000 }, (_, c) => `@labels:{b${c}}`).join(" | ");
const bombWide = anyOf(Array.from({ length: 2_000 }, (_, c) => ({ condition: { $case: "tag", value: { field: "labels", values: Array.from({ length: 100 }, (_, v) => `b${c}x${v}`), match: 0 } } })));
console.log("\n| bomb | request bytes | refused in (median ms, gRPC round trip) | code |\n|---|---:|---:|---|");
for (const [name, request] of [
  ["2,000 tag clauses, typed any_of", { filter: bombTyped }],
  ["2,000 tag clauses, filter_query", { filterQuery: bombQuery }],
  ["2,000 clauses x 100 values, typed", { filter: bombWide }],
] as [string, Partial<SearchRequest>][]) {
  const bytes = SearchRequest.encode(SearchRequest.fromPartial({ indexName: "bench", k: 10, ...request })).finish().length;
  const runs: number[] = [];
  let code = 0;
  for (let i = 0; i < 11; i++) {
    const result = await search(request);
    runs.push(result.ms);
    code = result.code;
  }
  console.log(`| ${name} | ${bytes} | ${fixed(median(runs.sort((a, b) => a - b)))} | ${code === 3 ? "INVALID_ARGUMENT" : code} |`);
}

// Health while the costliest allowed search runs back to back for ~3 s.
const worst = cases.reduce((a, b, i) => (median([...(times[i] ?? [])].sort((x, y) => x - y)) > median([...(times[cases.indexOf(a)] ?? [])].sort((x, y) => x - y)) ? b : a));
let busy = true;
const searching = (async () => {
  const end = performance.now() + 3_000;
  let n = 0;
  while (performance.now() < end) {
    await search(worst[1]);
    n++;
  }
  busy = false;
  return n;
})();
const healthMs: number[] = [];
while (busy) {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => health.check({ service: "" }, (e) => (e ? reject(e) : resolve())));
  healthMs.push(performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const searches = await searching;
healthMs.sort((a, b) => a - b);
console.log(
  `\nHealth Check while "${worst[0]}" ran ${searches} times back to back (3 s): ${healthMs.length} checks, ` +
    `median ${fixed(median(healthMs))} ms, p99 ${fixed(quantile(healthMs, 0.99))} ms, max ${fixed(healthMs[healthMs.length - 1] ?? NaN)} ms`,
);

// Deadline overrun inside one scan, on the store directly (no transport in between).
if (DEADLINE_ITEMS > 0) {
  const big = createEmbeddedStore();
  await fill(big, "big", DEADLINE_ITEMS);
  const worstNode: FilterNode = {
    op: "or",
    children: [
      ...Array.from({ length: MAX_FILTER_WORDS / 8 }, (_, c): FilterNode => ({ op: "text", field: "descr", terms: textWords(c, 8) })),
      ...Array.from({ length: MAX_FILTER_CLAUSES - MAX_FILTER_WORDS / 8 }, (_, c): FilterNode => ({ op: "tag", field: "labels", values: Array.from({ length: PER_CLAUSE }, (_, v) => `none${c}x${v}`) })),
    ],
  };
  const overruns: number[] = [];
  let full = 0;
  for (let i = 0; i < 10; i++) {
    const deadline = 20 + i * 10;
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(new DeadlineExceededError()), deadline);
    try {
      await big.search("big", { vector: vector(), k: 10, offset: 0, filter: worstNode, returnFields: [], includeVectors: false, signal: controller.signal });
      full = performance.now() - started;
    } catch (error) {
      if (!(error instanceof DeadlineExceededError)) throw error;
      overruns.push(performance.now() - started - deadline);
    }
  }
  overruns.sort((a, b) => a - b);
  console.log(
    `Deadline overrun (${DEADLINE_ITEMS} x ${DIM}, costliest text filter, deadlines 20..110 ms): ${overruns.length} of 10 stopped, ` +
      `overrun past the deadline median ${fixed(median(overruns))} ms, max ${fixed(overruns[overruns.length - 1] ?? NaN)} ms` +
      (full > 0 ? ` (a search that finished took ${fixed(full)} ms)` : ""),
  );
  await big.close();
}

client.close();
health.close();
await server.close({ graceMs: 1_000 });
await store.close();
