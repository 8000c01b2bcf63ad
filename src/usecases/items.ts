/**
 * Item use cases: Upsert (validated whole before anything is written), GetItems, DeleteItems.
 */
import { throwIfViolations, type FieldViolation } from "../domain/errors.js";
import { deriveInterests } from "../domain/interests.js";
import type { FieldValue, Item } from "../domain/item.js";
import {
  batchSizeViolations,
  duplicateViolations,
  finiteViolations,
  idListViolations,
  idViolations,
  indexNameViolations,
} from "../domain/request-limits.js";
import type { FieldSpec, IndexSpec } from "../domain/schema.js";
import { vectorField } from "../domain/schema.js";
import { vectorViolations } from "../domain/vector.js";
import type { VectorStore } from "../store/vector-store.js";
import { indexSpecCacheFor, type IndexSpecCache } from "./index-spec-cache.js";

/** An item as the transport decodes it; `vector` undefined when the request did not set it. */
export interface ItemInput {
  id: string;
  vector: Float32Array | undefined;
  fields: Record<string, FieldValue>;
}

export interface ItemService {
  /**
   * Validates every item against the index spec, derives the interests tag when the index has interests,
   * and writes them all. Returns the number of items written.
   * `decodingViolations` are what the transport found while decoding (bad vector bytes, unset values):
   * when there are any, nothing is written and they are reported with every violation found here.
   * @throws InvalidArgumentError (nothing written), IndexNotFoundError
   */
  upsert(indexName: string, items: ItemInput[], options?: { decodingViolations?: readonly FieldViolation[] }): Promise<number>;
  /**
   * Items in the order of `ids` (duplicates allowed); ids that do not exist go to `missingIds`.
   * @throws InvalidArgumentError, IndexNotFoundError
   */
  getItems(indexName: string, ids: string[], includeVectors: boolean): Promise<{ items: Item[]; missingIds: string[] }>;
  /**
   * Deletes items (and their interactions); returns how many existed. Unknown ids are not an error.
   * @throws InvalidArgumentError, IndexNotFoundError
   */
  deleteItems(indexName: string, ids: string[]): Promise<number>;
}

export function createItemService(store: VectorStore, options: { specCache?: IndexSpecCache } = {}): ItemService {
  const specs = options.specCache ?? indexSpecCacheFor(store);
  return {
    async upsert(indexName, inputs, options = {}) {
      const decoding = options.decodingViolations ?? [];
      const request = [...indexNameViolations(indexName), ...batchSizeViolations(inputs.length, "items")];
      if (request.length > 0) throwIfViolations([...decoding, ...request]);
      let spec: IndexSpec;
      try {
        spec = await specs.get(indexName);
      } catch (error) {
        // Bad input is reported before an unknown index, as when the transport rejected it alone.
        throwIfViolations(decoding);
        throw error;
      }
      const items = prepareItems(spec, inputs, decoding);
      await specs.guard(indexName, () => store.upsert(indexName, items));
      return items.length;
    },

    async getItems(indexName, ids, includeVectors) {
      throwIfViolations([...indexNameViolations(indexName), ...idListViolations(ids, "ids")]);
      const found = await store.getItems(indexName, ids, { includeVectors });
      const items: Item[] = [];
      const missingIds: string[] = [];
      ids.forEach((id, i) => {
        const item = found[i];
        if (item === undefined) missingIds.push(id);
        else items.push(item);
      });
      return { items, missingIds };
    },

    async deleteItems(indexName, ids) {
      throwIfViolations([...indexNameViolations(indexName), ...idListViolations(ids, "ids")]);
      return store.deleteItems(indexName, ids);
    },
  };
}

/**
 * Validates a whole batch against `spec` and returns the items to store: tag values trimmed, empty tag
 * lists dropped, the interests tag derived from the vector when the index has interests.
 * `decodingViolations` (the transport's) are reported with the rest.
 * @throws InvalidArgumentError with paths such as `items[3].vector`, `items[0].fields.labels`,
 *   `items[2].id`: every violation (the transport caps what it sends, see src/grpc/status-mapping.ts)
 */
export function prepareItems(
  spec: IndexSpec,
  inputs: readonly ItemInput[],
  decodingViolations: readonly FieldViolation[] = [],
): Item[] {
  const violations: FieldViolation[] = [...decodingViolations, ...batchSizeViolations(inputs.length, "items")];
  // A vector the transport could not decode (`items[i].vector.float32_le`) is not "missing" as well.
  const undecodedVectors = new Set(
    decodingViolations.filter((v) => /^items\[\d+\]\.vector\./.test(v.field)).map((v) => v.field.replace(/\.[^.]*$/, "")),
  );
  const dimension = vectorField(spec).dimension;
  const fieldsByName = new Map<string, FieldSpec>(spec.fields.map((f) => [f.name, f]));
  const items: Item[] = [];

  inputs.forEach((input, i) => {
    const path = `items[${i}]`;
    violations.push(...idViolations(input.id, `${path}.id`));
    if (input.vector === undefined) {
      if (!undecodedVectors.has(`${path}.vector`)) violations.push({ field: `${path}.vector`, description: "required" });
    } else {
      violations.push(...vectorViolations(input.vector, dimension, `${path}.vector`));
    }
    const fields: Record<string, FieldValue> = {};
    for (const [name, value] of Object.entries(input.fields)) {
      const normalized = normalizeFieldValue(spec, fieldsByName.get(name), name, value, `${path}.fields.${name}`, violations);
      if (normalized !== undefined) fields[name] = normalized;
    }
    if (spec.interests !== undefined && input.vector !== undefined) {
      const interests = deriveInterests(input.vector, spec.interests);
      if (interests.length > 0) fields[spec.interests.tagField] = { type: "tag", values: interests };
    }
    if (input.vector !== undefined) items.push({ id: input.id, vector: input.vector, fields });
  });
  violations.push(
    ...duplicateViolations(
      inputs.map((item) => item.id),
      (i) => `items[${i}].id`,
      (id) => (id === "" ? undefined : id),
    ),
  );

  throwIfViolations(violations);
  return items;
}

const TYPE_NAMES: Record<FieldSpec["type"], string> = {
  text: "TEXT",
  tag: "TAG",
  numeric: "NUMERIC",
  vector: "VECTOR",
};
const VALUE_KINDS: Record<FieldValue["type"], string> = { text: "text", tag: "tags", numeric: "number" };

function normalizeFieldValue(
  spec: IndexSpec,
  fieldSpec: FieldSpec | undefined,
  name: string,
  value: FieldValue,
  path: string,
  violations: FieldViolation[],
): FieldValue | undefined {
  if (fieldSpec === undefined) {
    violations.push({ field: path, description: `unknown field "${name}": not in the schema of index ${spec.name}` });
    return undefined;
  }
  if (fieldSpec.type === "vector") {
    violations.push({ field: path, description: `"${name}" is the vector field; send the vector in vector` });
    return undefined;
  }
  if (spec.interests !== undefined && name === spec.interests.tagField) {
    violations.push({ field: path, description: `"${name}" holds the interests, derived from the vector; it cannot be written` });
    return undefined;
  }
  if (value.type !== fieldSpec.type) {
    violations.push({
      field: path,
      description: `"${name}" is a ${TYPE_NAMES[fieldSpec.type]} field: send ${VALUE_KINDS[fieldSpec.type]}, not ${VALUE_KINDS[value.type]}`,
    });
    return undefined;
  }
  switch (value.type) {
    case "text":
      return value;
    case "numeric":
      if (!Number.isFinite(value.value)) {
        violations.push(...finiteViolations(value.value, path));
        return undefined;
      }
      return value;
    case "tag": {
      const separator = fieldSpec.type === "tag" ? fieldSpec.separator : ",";
      const values: string[] = [];
      let bad = false;
      value.values.forEach((raw, j) => {
        // Redis trims tags; trimming here makes what GetItems returns match what filters see.
        const tag = raw.trim();
        if (tag === "") {
          violations.push({ field: path, description: `tag ${j} is empty` });
          bad = true;
        } else if (tag.includes(separator)) {
          violations.push({
            field: path,
            description: `tag ${j} (${JSON.stringify(raw)}) contains the separator ${JSON.stringify(separator)}`,
          });
          bad = true;
        } else {
          values.push(tag);
        }
      });
      // An empty list means "no tags": the field is left out, as Redis would index nothing for it.
      return bad || values.length === 0 ? undefined : { type: "tag", values };
    }
  }
}
