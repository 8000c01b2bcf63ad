/**
 * The VectorService implementation: decodes each request, calls the use cases, encodes the answer.
 * Every handler is wrapped so that any failure ends the call with a mapped status (never UNKNOWN).
 */
import {
  Metadata,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
} from "@grpc/grpc-js";
import type { Logger } from "pino";
import { InvalidArgumentError, mergeViolations, throwIfViolations, type FieldViolation } from "../domain/errors.js";
import type { InteractionKind as DomainInteractionKind } from "../domain/interaction.js";
import type {
  RecommendResponse,
  SearchResponse,
  VectorServiceServer,
} from "../gen/vecrec/v1/vecrec.js";
import type { createIndexAdmin } from "../usecases/index-admin.js";
import { recordViolations, type createInteractionService, type InteractionInput } from "../usecases/interactions.js";
import type { createItemService } from "../usecases/items.js";
import type { createRecommender, RecommendCommand } from "../usecases/recommend.js";
import type { createSearchService, SearchCommand } from "../usecases/search.js";
import { MATCH_ALL } from "../domain/filter/filter.js";
import { normalizeIndexSpec, type IndexSpecInput } from "../domain/index-spec.js";
import { nonNegativeViolations } from "../domain/request-limits.js";
import { createCallSignal } from "./call-signal.js";
import { resolveRequestFilter } from "./filter-mapping.js";
import {
  decodeIndexSpecInput,
  decodeInteraction,
  decodeInteractionKind,
  decodeInterests,
  decodeItem,
  encodeFieldValues,
  encodeIndexInfo,
  encodeInteraction,
  encodeItem,
} from "./message-mapping.js";
import { undecodableViolation } from "./request-decoding.js";
import { toGrpcStatus } from "./status-mapping.js";
import { writeStream, type MessageStream } from "./stream-writer.js";
import { decodeVector, encodeVector } from "./vector-mapping.js";

/** Trailer of Search: the number of items matching (KNN: min(k, matches)). */
export const TOTAL_MATCHES_TRAILER = "vecrec-total-matches";
/** Trailer of Recommend when fewer items were found than asked: `<found>/<requested>`. */
export const RECOMMENDATIONS_SHORT_TRAILER = "vecrec-recommendations-short";

export interface UseCases {
  readonly indexAdmin: ReturnType<typeof createIndexAdmin>;
  readonly items: ReturnType<typeof createItemService>;
  readonly search: ReturnType<typeof createSearchService>;
  readonly recommender: ReturnType<typeof createRecommender>;
  readonly interactions: ReturnType<typeof createInteractionService>;
}

/** The request, or an InvalidArgumentError when its deserializer could not decode it (see request-decoding). */
function decodedRequest<Req>(request: Req): Req {
  const violation = undecodableViolation(request);
  if (violation !== undefined) throw new InvalidArgumentError(violation);
  return request;
}


/** The violations normalizeIndexSpec finds in `input` (empty when it is valid). */
function schemaViolations(input: IndexSpecInput): readonly FieldViolation[] {
  try {
    normalizeIndexSpec(input);
    return [];
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error.violations;
    throw error;
  }
}

/** Builds the handlers of every VectorService RPC. */
export function createVectorServiceHandlers(useCases: UseCases, logger: Logger): VectorServiceServer {
  const { indexAdmin, items, search, recommender, interactions } = useCases;

  function unary<Req, Res>(
    method: string,
    run: (request: Req, signal: AbortSignal) => Promise<Res>,
  ): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const callSignal = createCallSignal(call);
      const started = performance.now();
      // run() may throw synchronously inside its async body only, so one promise chain catches everything.
      Promise.resolve()
        .then(() => run(decodedRequest(call.request), callSignal.signal))
        .then(
          (response) => {
            logger.debug({ method, ms: Math.round(performance.now() - started) }, "ok");
            callback(null, response);
          },
          (error: unknown) => callback(toGrpcStatus(error, logger, method)),
        )
        .finally(() => callSignal.dispose())
        .catch((error: unknown) => logger.error({ err: error, method }, "failed to answer a call"));
    };
  }

  function serverStreaming<Req, Res>(
    method: string,
    produce: (request: Req, signal: AbortSignal) => MessageStream<Res>,
  ): handleServerStreamingCall<Req, Res> {
    return (call: ServerWritableStream<Req, Res>) => {
      const callSignal = createCallSignal(call);
      // decodedRequest throws on the first next(), so the stream writer ends the call with the mapped status.
      const stream = (async function* (): MessageStream<Res> {
        return yield* produce(decodedRequest(call.request), callSignal.signal);
      })();
      writeStream(call, stream, { signal: callSignal.signal, logger, method })
        .finally(() => callSignal.dispose())
        .catch((error: unknown) => logger.error({ err: error, method }, "failed to answer a call"));
    };
  }

  return {
    index: unary("Index", async (request) => {
      const violations: FieldViolation[] = [];
      const input = decodeIndexSpecInput(request, violations);
      if (violations.length > 0) {
        // Report the schema's other problems too (an unknown enum is left at its default for this check).
        const more = schemaViolations(input);
        throw new InvalidArgumentError(mergeViolations(violations, more));
      }
      const result = await indexAdmin.createIndex(input);
      return { index: encodeIndexInfo(result.info), created: result.created };
    }),

    getIndex: unary("GetIndex", async (request) => ({
      index: encodeIndexInfo(await indexAdmin.getIndex(request.indexName)),
    })),

    listIndexes: unary("ListIndexes", async () => ({
      indexes: (await indexAdmin.listIndexes()).map(encodeIndexInfo),
    })),

    dropIndex: unary("DropIndex", async (request) => {
      await indexAdmin.dropIndex(request.indexName, request.deleteItems);
      return {};
    }),

    updateInterests: unary("UpdateInterests", async (request) => {
      const result = await indexAdmin.updateInterests(request.indexName, decodeInterests(request.interests));
      return { index: encodeIndexInfo(result.info), itemsUpdated: result.itemsUpdated };
    }),

    upsert: unary("Upsert", async (request) => {
      const violations: FieldViolation[] = [];
      const decoded = request.items.map((item, i) => decodeItem(item, `items[${i}]`, violations));
      // The use case reports these with its own violations, so the client sees every bad field at once.
      return { upsertedCount: await items.upsert(request.indexName, decoded, { decodingViolations: violations }) };
    }),

    getItems: unary("GetItems", async (request) => {
      const result = await items.getItems(request.indexName, request.ids, request.includeVectors);
      return { items: result.items.map(encodeItem), missingIds: result.missingIds };
    }),

    deleteItems: unary("DeleteItems", async (request) => ({
      deletedCount: await items.deleteItems(request.indexName, request.ids),
    })),

    search: serverStreaming("Search", async function* (request, signal): MessageStream<SearchResponse> {
      const violations: FieldViolation[] = [];
      let query: SearchCommand["query"];
      if (request.query?.$case === "vector") {
        // An undecodable vector still makes a vector query (offset rules), checked with the rest.
        query = { vector: decodeVector(request.query.value, "vector", violations) ?? new Float32Array(0) };
      } else if (request.query?.$case === "itemId") {
        query = { itemId: request.query.value };
      }
      const filter = resolveRequestFilter(
        request.filter,
        request.filterQuery,
        { typed: "filter", query: "filter_query" },
        violations,
      );
      // The use case reports these with its own violations, so the client sees every bad field at once.
      const result = await search.search({
        indexName: request.indexName,
        query,
        k: request.k,
        offset: request.offset,
        filter: filter?.node ?? MATCH_ALL,
        filterField: filter?.field ?? "filter",
        decodingViolations: violations,
        returnFields: request.returnFields,
        omitFields: request.omitFields,
        includeVectors: request.includeVectors,
        efRuntime: request.efRuntime,
        signal,
      });
      let rank = request.offset;
      for (const hit of result.hits) {
        rank += 1;
        yield {
          id: hit.id,
          distance: hit.distance,
          rank,
          fields: encodeFieldValues(hit.item.fields),
          vector: hit.item.vector && encodeVector(hit.item.vector),
        };
      }
      const trailers = new Metadata();
      trailers.set(TOTAL_MATCHES_TRAILER, String(result.totalMatches));
      return trailers;
    }),

    recommend: serverStreaming("Recommend", async function* (request, signal): MessageStream<RecommendResponse> {
      const violations: FieldViolation[] = [];
      let user: RecommendCommand["user"] | undefined;
      if (request.user?.$case === "userId") user = { userId: request.user.value };
      else if (request.user?.$case === "interestVector") {
        // An undecodable vector is checked with the rest through an empty stand-in.
        user = { vector: decodeVector(request.user.value, "interest_vector", violations) ?? new Float32Array(0) };
      } else {
        violations.push({ field: "user", description: "whom to recommend for is required: set user_id or interest_vector" });
      }
      const filter = resolveRequestFilter(
        request.neighborFilter,
        request.neighborFilterQuery,
        { typed: "neighbor_filter", query: "neighbor_filter_query" },
        violations,
      );
      let interactionWeights: Map<DomainInteractionKind, number> | undefined;
      if (request.interactionWeights.length > 0) {
        interactionWeights = new Map();
        request.interactionWeights.forEach((entry, i) => {
          const kind = decodeInteractionKind(entry.kind, `interaction_weights[${i}].kind`, violations);
          // Weights are checked here, where each still has its index in the request (the map below loses
          // it); a bad one is replaced by 1 so the use case does not report it again under another index.
          const weightViolations = nonNegativeViolations(entry.weight, `interaction_weights[${i}].weight`);
          violations.push(...weightViolations);
          if (kind === undefined) return;
          if (interactionWeights?.has(kind)) {
            violations.push({ field: `interaction_weights[${i}].kind`, description: `kind ${kind} is given twice` });
            return;
          }
          interactionWeights?.set(kind, weightViolations.length > 0 ? 1 : entry.weight);
        });
      }
      // Without a user there is nothing to check the rest against.
      if (user === undefined) throw new InvalidArgumentError(violations);
      const result = await recommender.recommend({
        indexName: request.indexName,
        user,
        neighborCount: request.neighborCount,
        neighborFilter: filter?.node ?? MATCH_ALL,
        neighborFilterField: filter?.field ?? "neighbor_filter",
        decodingViolations: violations,
        limit: request.limit,
        interactionWeights,
        recencyHalfLifeSeconds: request.recencyHalfLifeSeconds,
        includeOwned: request.includeOwned,
        signal,
      });
      for (const item of result.items) {
        yield {
          itemId: item.itemId,
          score: item.score,
          rank: item.rank,
          contributions: item.contributions.map((c) => ({
            neighborId: c.neighborId,
            similarity: c.similarity,
            distance: c.distance,
            scoreShare: c.scoreShare,
            sharedInterests: [...c.sharedInterests],
          })),
        };
      }
      const trailers = new Metadata();
      if (result.items.length < result.requested) {
        trailers.set(RECOMMENDATIONS_SHORT_TRAILER, `${result.items.length}/${result.requested}`);
      }
      return trailers;
    }),

    recordInteractions: unary("RecordInteractions", async (request) => {
      const violations: FieldViolation[] = [];
      const now = Date.now();
      const decoded: InteractionInput[] = [];
      request.interactions.forEach((interaction, i) => {
        const input = decodeInteraction(interaction, `interactions[${i}]`, now, violations);
        // The kind or time could not be decoded (and is reported): a valid stand-in lets the use case's
        // checks report every other bad field of the batch too, not only after the client fixes these.
        decoded.push(
          input ?? {
            userId: interaction.userId,
            itemId: interaction.itemId,
            kind: "view",
            weight: interaction.weight ?? 1,
            occurredAtMs: now,
          },
        );
      });
      if (violations.length > 0) throwIfViolations([...violations, ...recordViolations(request.indexName, decoded)]);
      return { recordedCount: await interactions.record(request.indexName, decoded) };
    }),

    getInteractions: unary("GetInteractions", async (request) => {
      const page = await interactions.get(request.indexName, request.userId, {
        limit: request.limit,
        offset: request.offset,
      });
      return { interactions: page.interactions.map(encodeInteraction), totalCount: page.totalCount };
    }),
  };
}
