import { describe, expect, it } from "vitest";
import {
  defaultIndexSpec,
  normalizeIndexSpec,
  normalizeInterestUpdate,
  specsEqual,
  type FieldInput,
  type IndexSpecInput,
} from "../../../src/domain/index-spec.js";
import type { IndexSpec } from "../../../src/domain/schema.js";
import { violatedFields } from "../../support/violations.js";

const vec = (dimension: number, extra: Partial<Extract<FieldInput, { type: "vector" }>> = {}): FieldInput => ({
  name: "vec",
  type: "vector",
  dimension,
  ...extra,
});

/** The field paths of the violations normalizeIndexSpec throws for `input`. */
const fieldsOf = (input: IndexSpecInput): Promise<string[]> => violatedFields(() => normalizeIndexSpec(input));

describe("normalizeIndexSpec", () => {
  it("gives the default schema when fields is empty", () => {
    const spec = normalizeIndexSpec({ name: "users", fields: [], defaultVectorDimension: 3 });
    expect(spec).toEqual({
      name: "users",
      fields: [
        { name: "descr", type: "text", weight: 1 },
        { name: "labels", type: "tag", separator: ",", caseSensitive: false },
        { name: "time", type: "numeric" },
        { name: "vec", type: "vector", dimension: 3, algorithm: "FLAT", metric: "COSINE", elementType: "FLOAT32" },
      ],
    });
    expect(spec).toEqual(defaultIndexSpec("users", 3));
  });

  it("requires default_vector_dimension only when fields is empty", async () => {
    expect(await fieldsOf({ name: "users", fields: [], defaultVectorDimension: 0 })).toEqual(["default_vector_dimension"]);
    expect(await fieldsOf({ name: "users", fields: [], defaultVectorDimension: 32769 })).toEqual(["default_vector_dimension"]);
    expect(normalizeIndexSpec({ name: "u", fields: [vec(4)], defaultVectorDimension: 0 }).fields).toHaveLength(1);
  });

  it("fills field defaults", () => {
    const spec = normalizeIndexSpec({
      name: "items",
      fields: [
        { name: "title", type: "text", weight: 0 },
        { name: "tags", type: "tag", separator: "", caseSensitive: true },
        { name: "price", type: "numeric" },
        vec(8, { algorithm: "HNSW" }),
      ],
      defaultVectorDimension: 0,
    });
    expect(spec.fields).toEqual([
      { name: "title", type: "text", weight: 1 },
      { name: "tags", type: "tag", separator: ",", caseSensitive: true },
      { name: "price", type: "numeric" },
      {
        name: "vec",
        type: "vector",
        dimension: 8,
        algorithm: "HNSW",
        metric: "COSINE",
        elementType: "FLOAT32",
        hnsw: { m: 16, efConstruction: 200, efRuntime: 10 },
      },
    ]);
  });

  it("keeps given values and fills only zero HNSW params", () => {
    const spec = normalizeIndexSpec({
      name: "items",
      fields: [
        { name: "t", type: "text", weight: 2.5 },
        { name: "g", type: "tag", separator: "|", caseSensitive: false },
        vec(2, { algorithm: "HNSW", metric: "L2", hnsw: { m: 32, efConstruction: 0, efRuntime: 50 } }),
      ],
      defaultVectorDimension: 0,
    });
    expect(spec.fields[0]).toEqual({ name: "t", type: "text", weight: 2.5 });
    expect(spec.fields[1]).toEqual({ name: "g", type: "tag", separator: "|", caseSensitive: false });
    expect(spec.fields[2]).toMatchObject({ metric: "L2", hnsw: { m: 32, efConstruction: 200, efRuntime: 50 } });
  });

  it("rejects bad index names", async () => {
    for (const name of ["", "1abc", "a b", "a".repeat(65), "é", "a.b"]) {
      expect(await fieldsOf({ name, fields: [], defaultVectorDimension: 3 })).toEqual(["index_name"]);
    }
    for (const name of ["a", "A-b_c9", "a".repeat(64)]) {
      expect(normalizeIndexSpec({ name, fields: [], defaultVectorDimension: 3 }).name).toBe(name);
    }
  });

  it("rejects bad and duplicate field names with their paths", async () => {
    expect(
      await fieldsOf({
        name: "i",
        fields: [
          { name: "ok", type: "numeric" },
          { name: "__hidden", type: "numeric" },
          { name: "has-dash", type: "numeric" },
          { name: "ok", type: "numeric" },
          { name: "", type: "numeric" },
          vec(3),
        ],
        defaultVectorDimension: 0,
      }),
    ).toEqual(["fields[1].name", "fields[2].name", "fields[4].name", "fields[3].name"]);
  });

  it("requires exactly one vector field", async () => {
    expect(await fieldsOf({ name: "i", fields: [{ name: "n", type: "numeric" }], defaultVectorDimension: 3 })).toEqual([
      "fields",
    ]);
    expect(
      await fieldsOf({ name: "i", fields: [vec(3), { ...vec(3), name: "other" }], defaultVectorDimension: 0 }),
    ).toEqual(["fields[1].vector"]);
  });

  it("names the field whose type is not set", async () => {
    expect(await fieldsOf({ name: "i", fields: [{ name: "x", type: undefined }, vec(3)], defaultVectorDimension: 0 })).toEqual([
      "fields[0].type",
    ]);
  });

  it("validates vector options", async () => {
    expect(await fieldsOf({ name: "i", fields: [{ name: "n", type: "numeric" }, vec(0)], defaultVectorDimension: 0 })).toEqual([
      "fields[1].vector.dimension",
    ]);
    expect(await fieldsOf({ name: "i", fields: [vec(32769)], defaultVectorDimension: 0 })).toEqual(["fields[0].vector.dimension"]);
    expect(await fieldsOf({ name: "i", fields: [vec(2.5)], defaultVectorDimension: 0 })).toEqual(["fields[0].vector.dimension"]);
    expect(normalizeIndexSpec({ name: "i", fields: [vec(32768)], defaultVectorDimension: 0 }).fields[0]).toMatchObject({
      dimension: 32768,
    });
    expect(
      await fieldsOf({ name: "i", fields: [vec(3, { hnsw: { m: 0, efConstruction: 0, efRuntime: 0 } })], defaultVectorDimension: 0 }),
    ).toEqual(["fields[0].vector.hnsw"]);
    expect(
      await fieldsOf({
        name: "i",
        fields: [vec(3, { algorithm: "HNSW", hnsw: { m: 513, efConstruction: 4097, efRuntime: 10001 } })],
        defaultVectorDimension: 0,
      }),
    ).toEqual(["fields[0].vector.hnsw.m", "fields[0].vector.hnsw.ef_construction", "fields[0].vector.hnsw.ef_runtime"]);
    expect(
      normalizeIndexSpec({
        name: "i",
        fields: [vec(3, { algorithm: "HNSW", hnsw: { m: 512, efConstruction: 4096, efRuntime: 10000 } })],
        defaultVectorDimension: 0,
      }).fields[0],
    ).toMatchObject({ hnsw: { m: 512, efConstruction: 4096, efRuntime: 10000 } });
  });

  it("validates tag separators and text weights", async () => {
    const tag = (separator: string): FieldInput => ({ name: "t", type: "tag", separator, caseSensitive: false });
    for (const separator of [";", "|", "~", "!", "/", "@", "`"]) {
      expect(normalizeIndexSpec({ name: "i", fields: [tag(separator), vec(3)], defaultVectorDimension: 0 }).fields[0]).toMatchObject({
        separator,
      });
    }
    for (const separator of ["a", "1", " ", ",,", "é", "\t", "，"]) {
      expect(await fieldsOf({ name: "i", fields: [tag(separator), vec(3)], defaultVectorDimension: 0 })).toEqual([
        "fields[0].tag.separator",
      ]);
    }
    for (const weight of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(
        await fieldsOf({ name: "i", fields: [{ name: "x", type: "text", weight }, vec(3)], defaultVectorDimension: 0 }),
      ).toEqual(["fields[0].text.weight"]);
    }
  });

  it("collects every violation at once", async () => {
    expect(
      await fieldsOf({
        name: "9",
        fields: [
          { name: "a", type: "text", weight: -1 },
          { name: "b", type: "tag", separator: "xx", caseSensitive: false },
          vec(0),
        ],
        defaultVectorDimension: 0,
        interests: { categoryNames: ["x"], tagField: "bad-name", threshold: Number.NaN },
      }),
    ).toEqual([
      "index_name",
      "fields[0].text.weight",
      "fields[1].tag.separator",
      "fields[2].vector.dimension",
      "interests.tag_field",
      "interests.threshold",
    ]);
  });
});

describe("normalizeIndexSpec with interests", () => {
  const base = { name: "users", fields: [] as FieldInput[], defaultVectorDimension: 3 };

  it("fills the threshold and tag field defaults and appends the tag field", () => {
    const spec = normalizeIndexSpec({ ...base, interests: { categoryNames: ["books", "comics", "computers"], tagField: "" } });
    expect(spec.interests).toEqual({ categoryNames: ["books", "comics", "computers"], threshold: 0.4, tagField: "interests" });
    expect(spec.fields.at(-1)).toEqual({ name: "interests", type: "tag", separator: ",", caseSensitive: false });
    expect(spec.fields).toHaveLength(5);
  });

  it("keeps a given threshold and tag field", () => {
    const spec = normalizeIndexSpec({
      ...base,
      interests: { categoryNames: ["a", "b", "c"], threshold: -0.5, tagField: "likes" },
    });
    expect(spec.interests).toEqual({ categoryNames: ["a", "b", "c"], threshold: -0.5, tagField: "likes" });
    expect(spec.fields.at(-1)?.name).toBe("likes");
  });

  it("treats a float32 0.4 threshold as the default", () => {
    const explicit = normalizeIndexSpec({
      ...base,
      interests: { categoryNames: ["a", "b", "c"], threshold: Math.fround(0.4), tagField: "" },
    });
    const implicit = normalizeIndexSpec({ ...base, interests: { categoryNames: ["a", "b", "c"], tagField: "" } });
    expect(specsEqual(explicit, implicit)).toBe(true);
  });

  it("needs one name per dimension", async () => {
    expect(await fieldsOf({ ...base, interests: { categoryNames: ["a", "b"], tagField: "" } })).toEqual([
      "interests.category_names",
    ]);
    expect(await fieldsOf({ ...base, interests: { categoryNames: ["a", "b", "c", "d"], tagField: "" } })).toEqual([
      "interests.category_names",
    ]);
  });

  it("rejects empty, comma, padded and duplicate names", async () => {
    expect(
      await fieldsOf({
        name: "u",
        fields: [],
        defaultVectorDimension: 6,
        interests: { categoryNames: ["ok", "", "a,b", " pad", "OK", "x"], tagField: "" },
      }),
    ).toEqual([
      "interests.category_names[1]",
      "interests.category_names[2]",
      "interests.category_names[3]",
      "interests.category_names[4]",
    ]);
  });

  it("rejects a tag field declared in fields or with a bad name", async () => {
    expect(
      await fieldsOf({
        name: "u",
        fields: [{ name: "interests", type: "tag", separator: ",", caseSensitive: false }, vec(2)],
        defaultVectorDimension: 0,
        interests: { categoryNames: ["a", "b"], tagField: "" },
      }),
    ).toEqual(["interests.tag_field"]);
    expect(await fieldsOf({ ...base, interests: { categoryNames: ["a", "b", "c"], tagField: "vec" } })).toEqual([
      "interests.tag_field",
    ]);
    expect(await fieldsOf({ ...base, interests: { categoryNames: ["a", "b", "c"], tagField: "__x" } })).toEqual([
      "interests.tag_field",
    ]);
  });

  it("rejects a non-finite threshold", async () => {
    for (const threshold of [Number.NaN, Number.NEGATIVE_INFINITY]) {
      expect(await fieldsOf({ ...base, interests: { categoryNames: ["a", "b", "c"], threshold, tagField: "" } })).toEqual([
        "interests.threshold",
      ]);
    }
  });
});

describe("normalizeInterestUpdate", () => {
  const plain = defaultIndexSpec("u", 2);
  const withInterests = normalizeIndexSpec({
    name: "u",
    fields: [],
    defaultVectorDimension: 2,
    interests: { categoryNames: ["a", "b"], tagField: "likes" },
  });

  it("keeps the current tag field when none is given", () => {
    expect(normalizeInterestUpdate(withInterests, { categoryNames: ["x", "y"], threshold: 0.7, tagField: "" })).toEqual({
      categoryNames: ["x", "y"],
      threshold: 0.7,
      tagField: "likes",
    });
  });

  it("defaults to `interests` on an index without interests", () => {
    expect(normalizeInterestUpdate(plain, { categoryNames: ["x", "y"], tagField: "" }).tagField).toBe("interests");
  });

  it("refuses to rename the tag field", () => {
    expect(() => normalizeInterestUpdate(withInterests, { categoryNames: ["x", "y"], tagField: "other" })).toThrow(
      expect.objectContaining({ violations: [expect.objectContaining({ field: "interests.tag_field" })] }),
    );
  });

  it("refuses a tag field that is another kind of schema field", () => {
    expect(() => normalizeInterestUpdate(plain, { categoryNames: ["x", "y"], tagField: "descr" })).toThrow(
      expect.objectContaining({ violations: [expect.objectContaining({ field: "interests.tag_field" })] }),
    );
    // `labels` is a case-insensitive "," TAG field: usable (e.g. left behind by removed interests).
    expect(normalizeInterestUpdate(plain, { categoryNames: ["x", "y"], tagField: "labels" }).tagField).toBe("labels");
  });

  it("checks the names against the index dimension", () => {
    expect(() => normalizeInterestUpdate(plain, { categoryNames: ["x"], tagField: "" })).toThrow(
      expect.objectContaining({ violations: [expect.objectContaining({ field: "interests.category_names" })] }),
    );
  });
});

describe("specsEqual", () => {
  const spec = (): IndexSpec =>
    normalizeIndexSpec({
      name: "i",
      fields: [
        { name: "t", type: "text", weight: 1 },
        { name: "g", type: "tag", separator: ",", caseSensitive: false },
        vec(4, { algorithm: "HNSW" }),
      ],
      defaultVectorDimension: 0,
      interests: { categoryNames: ["a", "b", "c", "d"], tagField: "" },
    });

  it("is true for equal specs built separately", () => {
    expect(specsEqual(spec(), spec())).toBe(true);
    expect(specsEqual(defaultIndexSpec("x", 3), defaultIndexSpec("x", 3))).toBe(true);
  });

  it("is false when anything differs", () => {
    const a = spec();
    const variants: IndexSpec[] = [
      { ...a, name: "j" },
      { ...a, fields: [a.fields[1]!, a.fields[0]!, ...a.fields.slice(2)] },
      { ...a, fields: a.fields.slice(1) },
      { ...a, fields: a.fields.map((f) => (f.type === "text" ? { ...f, weight: 2 } : f)) },
      { ...a, fields: a.fields.map((f) => (f.type === "tag" && f.name === "g" ? { ...f, caseSensitive: true } : f)) },
      { ...a, fields: a.fields.map((f) => (f.type === "tag" && f.name === "g" ? { ...f, separator: ";" } : f)) },
      { ...a, fields: a.fields.map((f) => (f.type === "vector" ? { ...f, dimension: 5 } : f)) },
      { ...a, fields: a.fields.map((f) => (f.type === "vector" ? { ...f, metric: "IP" as const } : f)) },
      {
        ...a,
        fields: a.fields.map((f) => (f.type === "vector" ? { ...f, hnsw: { m: 16, efConstruction: 200, efRuntime: 11 } } : f)),
      },
      { ...a, fields: a.fields.map((f) => (f.type === "text" ? { name: f.name, type: "numeric" as const } : f)) },
      { ...a, interests: { ...a.interests!, threshold: 0.5 } },
      { ...a, interests: { ...a.interests!, categoryNames: ["a", "b", "d", "c"] } },
      { ...a, interests: { ...a.interests!, tagField: "other" } },
      { name: a.name, fields: a.fields },
    ];
    for (const b of variants) {
      expect(specsEqual(a, b)).toBe(false);
      expect(specsEqual(b, a)).toBe(false);
    }
  });
});
