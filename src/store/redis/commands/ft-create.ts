/**
 * FT.CREATE: the index of a vecrec index over its item hashes (`ON HASH PREFIX 1 <item prefix>`), with
 * every schema option the spec carries plus the hidden id field. Vector fields always send TYPE, DIM
 * and DISTANCE_METRIC, and M, EF_CONSTRUCTION and EF_RUNTIME for HNSW (the count after the algorithm
 * counts the tokens that follow). Reply: `OK`; `Index already exists` (isIndexExistsError). On a
 * cluster, any node's coordinator creates it on every shard.
 */
import type { FieldSpec, IndexSpec } from "../../../domain/schema.js";
import { ID_FIELD, ID_TAG_SEPARATOR, type RedisKeys } from "../redis-keys.js";

/** The SCHEMA tokens of one field. */
export function fieldSchemaArgs(field: FieldSpec): string[] {
  switch (field.type) {
    case "text":
      return [field.name, "TEXT", "WEIGHT", String(field.weight)];
    case "tag": {
      const args = [field.name, "TAG", "SEPARATOR", field.separator];
      if (field.caseSensitive) args.push("CASESENSITIVE");
      return args;
    }
    case "numeric":
      return [field.name, "NUMERIC"];
    case "vector": {
      const attributes = ["TYPE", field.elementType, "DIM", String(field.dimension), "DISTANCE_METRIC", field.metric];
      if (field.algorithm === "HNSW" && field.hnsw !== undefined) {
        attributes.push(
          "M",
          String(field.hnsw.m),
          "EF_CONSTRUCTION",
          String(field.hnsw.efConstruction),
          "EF_RUNTIME",
          String(field.hnsw.efRuntime),
        );
      }
      return [field.name, "VECTOR", field.algorithm, String(attributes.length), ...attributes];
    }
  }
}

/**
 * The hidden id field: one whole tag per id, compared exactly, sortable for id order. UNF keeps the
 * sort value as written (SORTABLE alone lower-cases it and strips diacritics).
 */
export function idFieldSchemaArgs(): string[] {
  return [ID_FIELD, "TAG", "SEPARATOR", ID_TAG_SEPARATOR, "CASESENSITIVE", "SORTABLE", "UNF"];
}

/**
 * The whole FT.CREATE command for `spec`. `skipInitialScan`: SKIPINITIALSCAN, Redis does not scan the
 * keyspace for hashes stored before the index (see index-operations.ts, createIndex, for when that is
 * safe); without it Redis scans every key of the database in the background and indexes those under
 * the prefix.
 */
export function createIndexArgs(keys: RedisKeys, spec: IndexSpec, options: { readonly skipInitialScan?: boolean } = {}): string[] {
  return [
    "FT.CREATE",
    keys.ftIndex(spec.name),
    "ON",
    "HASH",
    "PREFIX",
    "1",
    keys.itemPrefix(spec.name),
    ...(options.skipInitialScan === true ? ["SKIPINITIALSCAN"] : []),
    "SCHEMA",
    ...idFieldSchemaArgs(),
    ...spec.fields.flatMap(fieldSchemaArgs),
  ];
}
