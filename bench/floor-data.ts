/**
 * The data set of the floor rows: `items` vectors of `dim` float32 around 8 random centres, each item
 * tagged `labels: c<i % 8>` and numbered `time: i`, in the default schema (FLAT or HNSW, COSINE); the
 * filtered queries ask for one label (an eighth of the items). Seeded: every run loads the same data.
 */
import { defaultIndexSpec } from "../src/domain/index-spec.js";
import { DEFAULT_HNSW, type IndexSpec, type VectorAlgorithm } from "../src/domain/schema.js";
import type { Item } from "../src/domain/item.js";
import { encodeFloat32LE } from "../src/domain/vector.js";
import type { Filter, Item as ProtoItem } from "../src/gen/vecrec/v1/vecrec.js";
import { TagMatch } from "../src/gen/vecrec/v1/vecrec.js";
import { createRandom } from "./stats.js";

export const FILTER_LABEL = "c3";

/** The filter of the filtered rows, as a Search request carries it. */
export const PROTO_FILTER: Filter = {
  condition: { $case: "tag", value: { field: "labels", values: [FILTER_LABEL], match: TagMatch.TAG_MATCH_ANY } },
};

export function floorSpec(name: string, dim: number, algorithm: VectorAlgorithm): IndexSpec {
  const spec = defaultIndexSpec(name, dim);
  return {
    ...spec,
    fields: spec.fields.map((f) =>
      f.type !== "vector" ? f : algorithm === "HNSW" ? { ...f, algorithm, hnsw: DEFAULT_HNSW } : { ...f, algorithm },
    ),
  };
}

export interface FloorData {
  /** Items in batches of `batch`, generated on demand (the same every call). */
  batches(batch: number): Generator<Item[]>;
  /** Query vectors (not stored items), cycled through by the queries. */
  readonly queries: readonly Float32Array[];
}

/**
 * `withText`: each item also sets the schema's TEXT field `descr`, so it sets every field of the schema
 * (vecrec then writes it with one HSET; an item that leaves a field out is written by a script that also
 * removes that field: src/store/redis/items.ts).
 */
export function floorData(items: number, dim: number, withText = false): FloorData {
  const centres = (random: () => number) => Array.from({ length: 8 }, () => Float32Array.from({ length: dim }, () => random() * 2 - 1));
  const near = (random: () => number, centre: Float32Array) => Float32Array.from(centre, (c) => c + (random() - 0.5) * 0.6);
  const queryRandom = createRandom(7);
  const queryCentres = centres(createRandom(42));
  return {
    *batches(batch: number) {
      const random = createRandom(42);
      const cs = centres(random);
      for (let start = 0; start < items; start += batch) {
        const out: Item[] = [];
        for (let i = start; i < Math.min(items, start + batch); i++) {
          out.push({
            id: `item:${i}`,
            vector: near(random, cs[i % 8] as Float32Array),
            fields: {
              labels: { type: "tag", values: [`c${i % 8}`] },
              time: { type: "numeric", value: i },
              ...(withText && { descr: { type: "text", value: `item ${i} of group c${i % 8}` } }),
            },
          });
        }
        yield out;
      }
    },
    queries: Array.from({ length: 256 }, (_, i) => near(queryRandom, queryCentres[i % 8] as Float32Array)),
  };
}

/** An item as an Upsert request carries it (vector as float32_le bytes). */
export function toProtoItem(item: Item): ProtoItem {
  const fields: ProtoItem["fields"] = {};
  for (const [name, value] of Object.entries(item.fields)) {
    fields[name] =
      value.type === "tag"
        ? { kind: { $case: "tags", value: { values: [...value.values] } } }
        : value.type === "numeric"
          ? { kind: { $case: "number", value: value.value } }
          : { kind: { $case: "text", value: value.value } };
  }
  if (item.vector === undefined) throw new TypeError("floor items have vectors");
  return { id: item.id, vector: { encoding: { $case: "float32Le", value: encodeFloat32LE(item.vector) } }, fields };
}
