/**
 * The VectorService implementation: one small function per RPC that decodes the request into the use
 * case's draft (mapping modules by concept: index, item, search, recommend, interaction), calls the use
 * case, which validates and runs it, and encodes the answer. Call plumbing is in rpc-calls.ts.
 */
import { Metadata, type handleBidiStreamingCall, type handleUnaryCall } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type {
  CreateAliasRequest,
  CreateAliasResponse,
  DeleteAliasRequest,
  DeleteAliasResponse,
  UpdateAliasRequest,
  UpdateAliasResponse,
  DeleteItemsRequest,
  DeleteItemsResponse,
  DropIndexRequest,
  DropIndexResponse,
  GetIndexRequest,
  GetIndexResponse,
  GetInteractionsRequest,
  GetInteractionsResponse,
  GetItemsRequest,
  GetItemsResponse,
  IndexRequest,
  IndexResponse,
  ListIndexesResponse,
  RecommendRequest,
  RecommendResponse,
  RecordInteractionsRequest,
  RecordInteractionsResponse,
  SearchRequest,
  SearchResponse,
  UpdateInterestsRequest,
  UpdateItemsRequest,
  UpdateItemsResponse,
  UpdateInterestsResponse,
  UpsertResponse,
  ExportItemsRequest,
  ExportItemsResponse,
  UpsertStreamResponse,
  VectorServiceServer,
} from "../gen/vecrec/v1/vecrec.js";
import type { UseCases } from "../usecases/use-cases.js";
import { decodeDurability } from "./durability-mapping.js";
import { decodeIndexRequest, decodeInterests, encodeIndexInfo } from "./index-mapping.js";
import { decodeInteractions, encodeInteraction } from "./interaction-mapping.js";
import { decodeItemUpdates, encodeItem } from "./item-mapping.js";
import { decodeRecommendRequest, encodeRecommendedItem } from "./recommend-mapping.js";
import { bidiStreamingCall, serverStreamingCall, unaryCall } from "./rpc-calls.js";
import { decodeSearchRequest, encodeSearchHit } from "./search-mapping.js";
import { MessagePage } from "./message-page.js";
import { exportItemsResponseFrames, searchResponseFrames } from "./response-frames.js";
import type { MessageStream } from "./stream-writer.js";
import type { DecodedUpsertRequest } from "./upsert-decoding.js";
import { decodeVectorFormat } from "./vector-mapping.js";
import { decodeRequestFilter } from "./filter-mapping.js";

/** Trailer of Search: the number of items matching (KNN: min(k, matches)). */
export const TOTAL_MATCHES_TRAILER = "vecrec-total-matches";
/** Diversified searches: the number of candidates re-ranked by MMR. */
export const DIVERSITY_POOL_TRAILER = "vecrec-search-diversity-pool";
/** Trailer of Recommend when fewer items were found than asked: `<found>/<requested>`. */
export const RECOMMENDATIONS_SHORT_TRAILER = "vecrec-recommendations-short";
/** Recommend shaping (see the Recommend rpc): how many considered items each reason left out. */
export const RECOMMEND_EXCLUDED_TRAILER = "vecrec-recommend-excluded";
export const RECOMMEND_NOT_IN_ITEM_INDEX_TRAILER = "vecrec-recommend-not-in-item-index";
export const RECOMMEND_FILTERED_OUT_TRAILER = "vecrec-recommend-filtered-out";
export const RECOMMEND_CAPPED_TRAILER = "vecrec-recommend-capped";

async function index({ indexAdmin }: UseCases, request: IndexRequest, signal: AbortSignal): Promise<IndexResponse> {
  const { info, created } = await indexAdmin.createIndex(decodeIndexRequest(request), signal);
  return { index: encodeIndexInfo(info), created };
}

async function getIndex({ indexAdmin }: UseCases, request: GetIndexRequest, signal: AbortSignal): Promise<GetIndexResponse> {
  return { index: encodeIndexInfo(await indexAdmin.getIndex(request.indexName, signal)) };
}

async function listIndexes({ indexAdmin }: UseCases, signal: AbortSignal): Promise<ListIndexesResponse> {
  return { indexes: (await indexAdmin.listIndexes(signal)).map(encodeIndexInfo) };
}

async function dropIndex({ indexAdmin }: UseCases, request: DropIndexRequest, signal: AbortSignal): Promise<DropIndexResponse> {
  await indexAdmin.dropIndex(request.indexName, request.deleteItems, signal);
  return {};
}

async function createAlias({ indexAdmin }: UseCases, request: CreateAliasRequest, signal: AbortSignal): Promise<CreateAliasResponse> {
  return indexAdmin.createAlias(request.alias, request.indexName, signal);
}

async function updateAlias({ indexAdmin }: UseCases, request: UpdateAliasRequest, signal: AbortSignal): Promise<UpdateAliasResponse> {
  return indexAdmin.updateAlias(request.alias, request.indexName, signal);
}

async function deleteAlias({ indexAdmin }: UseCases, request: DeleteAliasRequest, signal: AbortSignal): Promise<DeleteAliasResponse> {
  return indexAdmin.deleteAlias(request.alias, signal);
}

async function updateInterests({ indexAdmin }: UseCases, request: UpdateInterestsRequest, signal: AbortSignal): Promise<UpdateInterestsResponse> {
  const { info, itemsUpdated } = await indexAdmin.updateInterests(request.indexName, decodeInterests(request.interests), signal);
  return { index: encodeIndexInfo(info), itemsUpdated };
}

async function upsert({ items }: UseCases, request: DecodedUpsertRequest, signal: AbortSignal): Promise<UpsertResponse> {
  const durability = decodeDurability(request.durability);
  return { upsertedCount: await items.upsert(request.indexName, request.items, signal, durability) };
}

async function* exportItems({ items }: UseCases, request: ExportItemsRequest, signal: AbortSignal): MessageStream<ExportItemsResponse> {
  const format = decodeVectorFormat(request.vectorFormat);
  const { filter, field } = decodeRequestFilter(request.filter, request.filterQuery, { typed: "filter", query: "filter_query" });
  const batches = await items.exportItems({ indexName: request.indexName, afterId: request.afterId, filter, filterField: field, signal });
  for await (const batch of batches) yield MessagePage.of(batch, (item): ExportItemsResponse => ({ item: encodeItem(item, format) }), exportItemsResponseFrames);
  return undefined;
}

async function* upsertStream(
  { items }: UseCases,
  requests: AsyncIterable<DecodedUpsertRequest>,
  signal: AbortSignal,
): MessageStream<UpsertStreamResponse> {
  const messages = (async function* () {
    for await (const request of requests) {
      yield { indexName: request.indexName, items: request.items, durability: decodeDurability(request.durability) };
    }
  })();
  for await (const ack of items.upsertStream(messages, signal)) {
    yield {
      messageIndex: ack.messageIndex,
      acceptedCount: ack.acceptedCount,
      rejected: ack.rejected.map((r) => ({ position: r.position, indexInMessage: r.index, id: r.id, reason: r.reason })),
      totalAccepted: ack.totalAccepted,
      totalRejected: ack.totalRejected,
    };
  }
  return undefined;
}

async function updateItems({ items }: UseCases, request: UpdateItemsRequest, signal: AbortSignal): Promise<UpdateItemsResponse> {
  const durability = decodeDurability(request.durability);
  return items.updateItems(request.indexName, decodeItemUpdates(request.updates), {
    createMissing: request.createMissing,
    signal,
    durability,
  });
}

async function getItems({ items }: UseCases, request: GetItemsRequest, signal: AbortSignal): Promise<GetItemsResponse> {
  const format = decodeVectorFormat(request.vectorFormat);
  const found = await items.getItems(request.indexName, request.ids, request.includeVectors, signal);
  return { items: found.items.map((item) => encodeItem(item, format)), missingIds: found.missingIds };
}

async function deleteItems({ items }: UseCases, request: DeleteItemsRequest, signal: AbortSignal): Promise<DeleteItemsResponse> {
  const durability = decodeDurability(request.durability);
  return { deletedCount: await items.deleteItems(request.indexName, request.ids, signal, durability) };
}

async function* search({ search }: UseCases, request: SearchRequest, signal: AbortSignal): MessageStream<SearchResponse> {
  const format = decodeVectorFormat(request.vectorFormat);
  const result = await search.search(decodeSearchRequest(request, signal));
  yield MessagePage.of(result.hits, (hit, i) => encodeSearchHit(hit, request.offset + i + 1, format), searchResponseFrames);
  const trailers = new Metadata();
  trailers.set(TOTAL_MATCHES_TRAILER, String(result.totalMatches));
  if (result.diversityPool !== undefined) trailers.set(DIVERSITY_POOL_TRAILER, String(result.diversityPool));
  return trailers;
}

async function* recommend(
  { recommender }: UseCases,
  request: RecommendRequest,
  signal: AbortSignal,
): MessageStream<RecommendResponse> {
  const result = await recommender.recommend(decodeRecommendRequest(request, signal));
  yield MessagePage.of(result.items, encodeRecommendedItem);
  const trailers = new Metadata();
  if (result.items.length < result.requested) {
    trailers.set(RECOMMENDATIONS_SHORT_TRAILER, `${result.items.length}/${result.requested}`);
  }
  const shaping = result.shaping;
  if (shaping !== undefined) {
    const counts: [string, number][] = [
      [RECOMMEND_EXCLUDED_TRAILER, shaping.excluded],
      [RECOMMEND_NOT_IN_ITEM_INDEX_TRAILER, shaping.notInItemIndex],
      [RECOMMEND_FILTERED_OUT_TRAILER, shaping.filteredOut],
      [RECOMMEND_CAPPED_TRAILER, shaping.capped],
    ];
    for (const [name, count] of counts) if (count > 0) trailers.set(name, String(count));
  }
  return trailers;
}

async function recordInteractions(
  { interactions }: UseCases,
  request: RecordInteractionsRequest,
  signal: AbortSignal,
): Promise<RecordInteractionsResponse> {
  const durability = decodeDurability(request.durability);
  const decoded = decodeInteractions(request.interactions, Date.now());
  return { recordedCount: await interactions.record(request.indexName, decoded, signal, durability) };
}

async function getInteractions({ interactions }: UseCases, request: GetInteractionsRequest, signal: AbortSignal): Promise<GetInteractionsResponse> {
  const page = await interactions.get(request.indexName, request.userId, { limit: request.limit, offset: request.offset }, signal);
  return { interactions: page.interactions.map(encodeInteraction), totalCount: page.totalCount };
}

/**
 * The handlers of every VectorService RPC; Upsert and UpsertStream take their requests with the items
 * decoded for the use case (upsert-decoding.ts, the deserializer the server installs for them).
 */
export type VectorServiceHandlers = {
  // The generated interface's own methods (not its index signature), but these two.
  readonly [K in keyof VectorServiceServer as string extends K ? never : K extends "upsert" | "upsertStream" ? never : K]: VectorServiceServer[K];
} & {
  readonly upsert: handleUnaryCall<DecodedUpsertRequest, UpsertResponse>;
  readonly upsertStream: handleBidiStreamingCall<DecodedUpsertRequest, UpsertStreamResponse>;
};

/** The handlers of every VectorService RPC over `useCases`. */
export function createVectorServiceHandlers(useCases: UseCases, logger: Logger): VectorServiceHandlers {
  return {
    index: unaryCall("Index", logger, (request, signal) => index(useCases, request, signal)),
    getIndex: unaryCall("GetIndex", logger, (request, signal) => getIndex(useCases, request, signal)),
    listIndexes: unaryCall("ListIndexes", logger, (_request, signal) => listIndexes(useCases, signal)),
    dropIndex: unaryCall("DropIndex", logger, (request, signal) => dropIndex(useCases, request, signal)),
    updateInterests: unaryCall("UpdateInterests", logger, (request, signal) => updateInterests(useCases, request, signal)),
    upsert: unaryCall("Upsert", logger, (request, signal) => upsert(useCases, request, signal)),
    exportItems: serverStreamingCall("ExportItems", logger, (request, signal) => exportItems(useCases, request, signal)),
    upsertStream: bidiStreamingCall<DecodedUpsertRequest, UpsertStreamResponse>("UpsertStream", logger, (requests, signal) => upsertStream(useCases, requests, signal)),
    updateItems: unaryCall("UpdateItems", logger, (request, signal) => updateItems(useCases, request, signal)),
    getItems: unaryCall("GetItems", logger, (request, signal) => getItems(useCases, request, signal)),
    deleteItems: unaryCall("DeleteItems", logger, (request, signal) => deleteItems(useCases, request, signal)),
    search: serverStreamingCall("Search", logger, (request, signal) => search(useCases, request, signal)),
    recommend: serverStreamingCall("Recommend", logger, (request, signal) => recommend(useCases, request, signal)),
    recordInteractions: unaryCall("RecordInteractions", logger, (request, signal) =>
      recordInteractions(useCases, request, signal),
    ),
    getInteractions: unaryCall("GetInteractions", logger, (request, signal) => getInteractions(useCases, request, signal)),
    createAlias: unaryCall("CreateAlias", logger, (request, signal) => createAlias(useCases, request, signal)),
    updateAlias: unaryCall("UpdateAlias", logger, (request, signal) => updateAlias(useCases, request, signal)),
    deleteAlias: unaryCall("DeleteAlias", logger, (request, signal) => deleteAlias(useCases, request, signal)),
  };
}
