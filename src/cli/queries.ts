/** `vecrec search`, `vecrec recommend` and `vecrec indexes list|get|drop`: one call each, printed as text or JSON. */
import type { ClientReadableStream } from "@grpc/grpc-js";
import {
  IndexInfo,
  RecommendRequest,
  SearchRequest,
  type GetIndexResponse,
  type ListIndexesResponse,
  type RecommendResponse,
  type SearchResponse,
} from "../gen/vecrec/v1/vecrec.js";
import { CliError, unary, type Connection } from "./connection.js";
import { fieldsToJson, float32Bytes, shortFloat32 } from "./item-json.js";

export interface SearchOptions {
  readonly vector?: string;
  readonly item?: string;
  readonly k: number;
  readonly filter?: string;
  readonly fields?: string;
  readonly withVectors: boolean;
}

/** A decimal number as JSON writes it (no hex, no empty token, no NaN or Infinity). */
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * `--vector`: a JSON list, or numbers separated by commas or by spaces (`0.1, 0.2` and `0.1 0.2`);
 * one number is a vector of one. An empty element (`1,,2`), a token that is not a decimal number
 * (`0x10`) or a value that is not finite is refused rather than read as something else.
 */
export function parseVector(text: string): number[] {
  const usage = `--vector must be a list of numbers, e.g. '[0.1, 0.2, 0.3]' or '0.1,0.2,0.3'`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    const tokens = trimmed.includes(",") ? trimmed.split(/\s*,\s*/) : trimmed.split(/\s+/);
    if (tokens.some((token) => !DECIMAL.test(token))) throw new CliError(usage);
    value = tokens.map(Number);
  }
  if (typeof value === "number") value = [value];
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
    throw new CliError(usage);
  }
  return value as number[];
}

async function drain<T>(call: ClientReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const message of call as AsyncIterable<T>) out.push(message);
  return out;
}

/** Hits as JSON objects, one per line (with --json) or as aligned text. */
export async function search(connection: Connection, index: string, options: SearchOptions, json: boolean): Promise<string[]> {
  if (options.vector !== undefined && options.item !== undefined) throw new CliError("give --vector or --item, not both");
  if (options.vector === undefined && options.item === undefined && options.filter === undefined) {
    throw new CliError("give --vector '[...]' or --item ID (or only --filter for a filter-only page)");
  }
  const query =
    options.vector !== undefined
      ? { $case: "vector" as const, value: { encoding: { $case: "float32Le" as const, value: float32Bytes(parseVector(options.vector)) } } }
      : options.item !== undefined
        ? { $case: "itemId" as const, value: options.item }
        : undefined;
  const request = SearchRequest.fromPartial({
    indexName: index,
    query,
    k: options.k,
    filterQuery: options.filter ?? "",
    returnFields: options.fields === undefined ? [] : options.fields.split(",").map((f) => f.trim()),
    includeVectors: options.withVectors,
  });
  const hits = await drain<SearchResponse>(connection.client.search(request, connection.metadata()));
  return hits.map((hit) => {
    const fields = fieldsToJson(hit.fields);
    const encoding = hit.vector?.encoding;
    const vector =
      encoding?.$case === "float32Le"
        ? Array.from({ length: encoding.value.length / 4 }, (_, i) => shortFloat32(Buffer.from(encoding.value).readFloatLE(i * 4)))
        : undefined;
    if (json) return JSON.stringify({ rank: hit.rank, id: hit.id, distance: hit.distance, fields, ...(vector && { vector }) });
    return `${hit.rank}\t${hit.id}\t${hit.distance.toPrecision(6)}\t${JSON.stringify(fields)}${vector ? `\t${JSON.stringify(vector)}` : ""}`;
  });
}

export interface RecommendOptions {
  readonly user: string;
  readonly limit: number;
  readonly neighbors: number;
  readonly filter?: string;
}

export async function recommend(connection: Connection, index: string, options: RecommendOptions, json: boolean): Promise<string[]> {
  const request = RecommendRequest.fromPartial({
    indexName: index,
    user: { $case: "userId", value: options.user },
    limit: options.limit,
    neighborCount: options.neighbors,
    neighborFilterQuery: options.filter ?? "",
  });
  const items = await drain<RecommendResponse>(connection.client.recommend(request, connection.metadata()));
  return items.map((r) =>
    json
      ? JSON.stringify({ rank: r.rank, id: r.itemId, score: r.score, neighbors: r.contributions.map((c) => c.neighborId) })
      : `${r.rank}\t${r.itemId}\t${r.score.toPrecision(6)}\t${r.contributions.map((c) => c.neighborId).join(",")}`,
  );
}

function describeIndex(info: IndexInfo): string {
  const vector = info.fields.find((f) => f.type?.$case === "vector")?.type;
  const v = vector?.$case === "vector" ? vector.value : undefined;
  const metric = v === undefined ? "" : ["", "COSINE", "L2", "IP"][v.distanceMetric] ?? String(v.distanceMetric);
  const algorithm = v === undefined ? "" : ["", "FLAT", "HNSW"][v.algorithm] ?? String(v.algorithm);
  const aliases = info.aliases.length > 0 ? `\taliases: ${info.aliases.join(", ")}` : "";
  return `${info.indexName}\t${info.itemCount} items\t${v?.dimension ?? "?"} dims\t${algorithm} ${metric}${info.indexing ? "\tindexing" : ""}${aliases}`;
}

/**
 * An index as JSON for scripts: the proto's JSON form, with the figures a script reads present even
 * when zero (proto3 JSON leaves out default values: an empty index would have no itemCount).
 */
function indexJson(info: IndexInfo): unknown {
  return {
    ...(IndexInfo.toJSON(info) as Record<string, unknown>),
    itemCount: info.itemCount,
    indexing: info.indexing,
    indexingProgress: info.indexingProgress,
    indexingFailures: info.indexingFailures,
    aliases: info.aliases,
  };
}

export async function listIndexes(connection: Connection, json: boolean): Promise<string[]> {
  const response = await unary<ListIndexesResponse>((cb) => connection.client.listIndexes({}, connection.metadata(), cb));
  if (json) return [JSON.stringify(response.indexes.map(indexJson))];
  return response.indexes.map(describeIndex);
}

export async function getIndex(connection: Connection, name: string): Promise<string[]> {
  const response = await unary<GetIndexResponse>((cb) => connection.client.getIndex({ indexName: name }, connection.metadata(), cb));
  return [JSON.stringify(response.index === undefined ? {} : indexJson(response.index), null, 2)];
}

export async function dropIndex(connection: Connection, name: string, deleteItems: boolean, json: boolean): Promise<string[]> {
  await unary((cb) => connection.client.dropIndex({ indexName: name, deleteItems }, connection.metadata(), cb));
  return [json ? JSON.stringify({ dropped: name, deleteItems }) : `dropped index ${name}${deleteItems ? " and its items" : ""}`];
}
