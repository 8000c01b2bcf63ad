/**
 * `npm run demo`: the vecrec walk-through, over gRPC.
 *
 * With VECREC_ADDR=host:port it talks to that server (whatever its backend); otherwise it starts an
 * in-process server on 127.0.0.1:0 with the embedded store and stops it at the end. Re-running it against
 * the same server is safe: Index is idempotent, upserts replace, interactions are deduplicated on
 * (user, item, kind, time) and the demo dates them from the start of the day.
 */
import { credentials, type ClientReadableStream, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { pino } from "pino";
import {
  InteractionKind,
  VectorServiceClient,
  type FieldValue,
  type GetInteractionsResponse,
  type IndexResponse,
  type Interaction,
  type RecordInteractionsResponse,
  type UpsertResponse,
  type Item,
  type RecommendRequest,
  type RecommendResponse,
  type SearchRequest,
  type SearchResponse,
} from "../src/gen/vecrec/v1/vecrec.js";
import { startServer, type RunningServer } from "../src/main.js";
import { createEmbeddedStore } from "../src/store/embedded/embedded-store.js";
import type { VectorStore } from "../src/store/vector-store.js";

const INDEX = "walkthrough";
const CATEGORIES = ["books", "comics", "computers"];
/**
 * Today, 00:00 UTC: interactions are dated "n days before today", so the recency half-life means something,
 * and re-runs on the same day record the same interactions (deduplicated on user, item, kind, time).
 */
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000;
const DAY = 86_400_000;

function vector(values: number[]): Item["vector"] {
  return { encoding: { $case: "float32Le", value: Buffer.from(new Float32Array(values).buffer) } };
}
const tags = (...values: string[]): FieldValue => ({ kind: { $case: "tags", value: { values } } });
const text = (value: string): FieldValue => ({ kind: { $case: "text", value } });
const num = (value: number): FieldValue => ({ kind: { $case: "number", value } });

const USERS: { id: string; vec: number[]; labels: string[]; descr: string; since: number }[] = [
  { id: "user:1", vec: [0.9, 0.7, 0.2], labels: ["books", "comics"], descr: "reads fantasy novels and graphic novels", since: 2019 },
  { id: "user:2", vec: [0.8, 0.6, 0.1], labels: ["books", "comics"], descr: "collects comics, reads science fiction", since: 2020 },
  { id: "user:3", vec: [0.1, 0.2, 0.9], labels: ["computers"], descr: "builds gaming computers", since: 2021 },
  { id: "user:4", vec: [0.7, 0.1, 0.8], labels: ["books", "computers"], descr: "reads programming books", since: 2018 },
  { id: "user:5", vec: [0.2, 0.9, 0.3], labels: ["comics"], descr: "manga and webcomics every day", since: 2022 },
  { id: "user:6", vec: [0.85, 0.8, 0.3], labels: ["books", "comics"], descr: "fantasy sagas and superhero comics", since: 2023 },
];

/** [user, item, kind, days before T0] */
const PURCHASES: [string, string, InteractionKind, number][] = [
  ["user:1", "book:the-hobbit", InteractionKind.INTERACTION_KIND_PURCHASE, 40],
  ["user:2", "book:dune", InteractionKind.INTERACTION_KIND_PURCHASE, 3],
  ["user:2", "comic:watchmen", InteractionKind.INTERACTION_KIND_PURCHASE, 10],
  ["user:2", "comic:saga-vol-1", InteractionKind.INTERACTION_KIND_VIEW, 1],
  ["user:6", "book:dune", InteractionKind.INTERACTION_KIND_PURCHASE, 5],
  ["user:6", "book:the-hobbit", InteractionKind.INTERACTION_KIND_PURCHASE, 30],
  ["user:6", "comic:saga-vol-1", InteractionKind.INTERACTION_KIND_LIKE, 2],
  ["user:4", "book:clean-code", InteractionKind.INTERACTION_KIND_PURCHASE, 7],
  ["user:4", "computer:raspberry-pi", InteractionKind.INTERACTION_KIND_ADD_TO_CART, 1],
  ["user:3", "computer:raspberry-pi", InteractionKind.INTERACTION_KIND_PURCHASE, 4],
  ["user:5", "comic:one-piece-1", InteractionKind.INTERACTION_KIND_PURCHASE, 6],
];

/** A unary call as a promise: `unary<Res>((cb) => client.method(request, cb))`. */
function unary<Res>(start: (callback: (error: ServiceError | null, response: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    start((error, response) => {
      if (error) reject(error);
      else resolve(response);
    });
  });
}

/** Reads a server stream to the end; returns the messages and the final status (with trailers). */
async function collect<T>(call: ClientReadableStream<T>): Promise<{ messages: T[]; status: StatusObject }> {
  const status = new Promise<StatusObject>((resolve) => call.on("status", resolve));
  const messages: T[] = [];
  for await (const message of call) messages.push(message as T);
  return { messages, status: await status };
}

const heading = (title: string): void => console.log(`\n== ${title}`);
const fmt = (x: number): string => x.toPrecision(4);

async function main(): Promise<number> {
  let server: RunningServer | undefined;
  let store: VectorStore | undefined;
  let address = process.env.VECREC_ADDR;
  if (!address) {
    store = createEmbeddedStore();
    server = await startServer({ store, listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
    address = `127.0.0.1:${server.port}`;
    console.log(`vecrec demo: started an in-process server on ${address} (embedded store, in memory)`);
  } else {
    console.log(`vecrec demo: talking to ${address}`);
  }
  const client = new VectorServiceClient(address, credentials.createInsecure());
  try {
    heading(`Index "${INDEX}": default schema (descr TEXT, labels TAG, time NUMERIC, vec VECTOR 3 COSINE), interests ${CATEGORIES.join("/")}`);
    const created = await unary<IndexResponse>((cb) => client.index({
      indexName: INDEX,
      fields: [],
      defaultVectorDimension: 3,
      interests: { categoryNames: CATEGORIES, threshold: 0.4, tagField: "" },
    }, cb));
    console.log(created.created ? "created" : "already there (same schema): reused");
    console.log(`fields: ${created.index?.fields.map((f) => `${f.name} ${f.type?.$case ?? "?"}`).join(", ")}`);

    heading("Upsert users: interest vector [books, comics, computers], labels, description, member since");
    const upserted = await unary<UpsertResponse>((cb) => client.upsert({
      indexName: INDEX,
      items: USERS.map((u) => ({
        id: u.id,
        vector: vector(u.vec),
        fields: { labels: tags(...u.labels), descr: text(u.descr), time: num(u.since) },
      })),
    }, cb));
    console.log(`upserted ${upserted.upsertedCount} users`);
    for (const u of USERS) console.log(`  ${u.id.padEnd(7)} [${u.vec.join(", ")}]  labels ${u.labels.join(",")}  "${u.descr}"`);

    const search = (request: Partial<SearchRequest>) =>
      collect<SearchResponse>(
        client.search({
          indexName: INDEX,
          query: undefined,
          k: 10,
          filter: undefined,
          filterQuery: "",
          returnFields: [],
          includeVectors: false,
          efRuntime: 0,
          offset: 0,
          omitFields: [],
          ...request,
        }),
      );
    const interestsOf = (hit: SearchResponse): string => {
      const value = hit.fields.interests?.kind;
      return value?.$case === "tags" ? value.value.values.join(",") : "";
    };

    heading("Users labelled books AND comics (filter-only Search, by id)");
    const labelled = await search({ filterQuery: "@labels:{books} @labels:{comics}", k: 100, returnFields: ["labels", "interests"] });
    for (const hit of labelled.messages) console.log(`  ${hit.id}  interests: ${interestsOf(hit)}`);
    console.log(`  total matches: ${labelled.status.metadata.get("vecrec-total-matches").join("")}`);

    heading("Users whose derived interests include computers (@interests:{computers})");
    const computers = await search({ filterQuery: "@interests:{computers}", k: 100, returnFields: ["interests"] });
    for (const hit of computers.messages) console.log(`  ${hit.id}  interests: ${interestsOf(hit)}`);

    heading("The 2 nearest neighbours of user:1 (closest first; COSINE distance 1 - cos, lower = closer)");
    const nearest = await search({ query: { $case: "itemId", value: "user:1" }, k: 2, returnFields: ["labels"] });
    for (const hit of nearest.messages) console.log(`  #${hit.rank} ${hit.id}  distance ${hit.distance.toPrecision(6)}`);

    heading("Record purchases and other interactions");
    const interactions: Interaction[] = PURCHASES.map(([userId, itemId, kind, daysAgo]) => ({
      userId,
      itemId,
      kind,
      weight: 1,
      occurredAt: new Date(T0 - daysAgo * DAY),
    }));
    const recorded = await unary<RecordInteractionsResponse>((cb) => client.recordInteractions({ indexName: INDEX, interactions }, cb));
    console.log(`recorded ${recorded.recordedCount} interactions`);
    const history = await unary<GetInteractionsResponse>((cb) => client.getInteractions({ indexName: INDEX, userId: "user:2", limit: 10, offset: 0 }, cb));
    console.log(`user:2, newest first (${history.totalCount} in all):`);
    for (const i of history.interactions) {
      console.log(`  ${i.occurredAt?.toISOString().slice(0, 10) ?? "?"}  ${kindName(i.kind).padEnd(11)} ${i.itemId}`);
    }

    const recommend = async (title: string, request: Partial<RecommendRequest>): Promise<void> => {
      heading(title);
      const { messages, status } = await collect<RecommendResponse>(
        client.recommend({
          indexName: INDEX,
          user: undefined,
          neighborCount: 3,
          neighborFilter: undefined,
          neighborFilterQuery: "",
          itemIndexName: "",
          itemFilterQuery: "",
          excludeItemIds: [],
          limit: 5,
          interactionWeights: [],
          recencyHalfLifeSeconds: 0,
          includeOwned: false,
          ...request,
        }),
      );
      for (const item of messages) {
        console.log(`  #${item.rank} ${item.itemId}  score ${fmt(item.score)}`);
        for (const c of item.contributions) {
          const shared = c.sharedInterests.length > 0 ? `, shares ${c.sharedInterests.join("+")}` : "";
          console.log(
            `       ${(c.scoreShare * 100).toFixed(0).padStart(3)}% from ${c.neighborId} (similarity ${fmt(c.similarity)}, distance ${c.distance.toPrecision(4)}${shared})`,
          );
        }
      }
      const short = status.metadata.get("vecrec-recommendations-short");
      if (short.length > 0) console.log(`  (fewer items than asked: vecrec-recommendations-short = ${short.join("")})`);
    };

    await recommend("Recommendations for user:1 (3 neighbours; purchase 1, like 0.5, add to cart 0.3, views ignored; user:1 owns the-hobbit)", {
      user: { $case: "userId", value: "user:1" },
      interactionWeights: [
        { kind: InteractionKind.INTERACTION_KIND_PURCHASE, weight: 1 },
        { kind: InteractionKind.INTERACTION_KIND_LIKE, weight: 0.5 },
        { kind: InteractionKind.INTERACTION_KIND_ADD_TO_CART, weight: 0.3 },
      ],
    });
    await recommend("Same, every kind weight 1, 7-day recency half-life, only neighbours labelled comics", {
      user: { $case: "userId", value: "user:1" },
      recencyHalfLifeSeconds: 7 * 86_400,
      neighborFilterQuery: "@labels:{comics}",
    });
    await recommend("For a raw interest vector [0.1, 0.2, 0.9] (someone into computers): nothing is left out", {
      user: { $case: "interestVector", value: vector([0.1, 0.2, 0.9])! },
      neighborCount: 2,
    });

    console.log("\ndemo finished");
    return 0;
  } finally {
    client.close();
    await server?.close({ graceMs: 1000 });
    await store?.close();
  }
}

function kindName(kind: InteractionKind): string {
  return InteractionKind[kind]?.replace("INTERACTION_KIND_", "").toLowerCase() ?? String(kind);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("demo failed:", error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
