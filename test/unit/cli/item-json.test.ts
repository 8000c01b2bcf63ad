/** Input rows as proto items (src/cli/item-json.ts): ids and texts that would not arrive as written are refused. */
import { describe, expect, it } from "vitest";
import { toProtoItem, type FieldKinds } from "../../../src/cli/item-json.js";

const kinds: FieldKinds = new Map([
  ["labels", { kind: "tag", separator: "," }],
  ["title", { kind: "text", separator: "," }],
]);

describe("toProtoItem", () => {
  it("takes integer ids up to 2^53 - 1 and refuses larger or fractional numbers, which JSON has already rounded", () => {
    expect(toProtoItem({ id: 9007199254740991, vector: [1] }, kinds).id).toBe("9007199254740991");
    expect(toProtoItem({ id: -42, vector: [1] }, kinds).id).toBe("-42");
    expect(() => toProtoItem({ id: JSON.parse("12345678901234567890") as number, vector: [1] }, kinds)).toThrow(/write the id as a string/);
    expect(() => toProtoItem({ id: 1e21, vector: [1] }, kinds)).toThrow(/write the id as a string/);
    expect(() => toProtoItem({ id: 1.5, vector: [1] }, kinds)).toThrow(/write the id as a string/);
  });

  it("refuses lone surrogates in ids, tags and texts (sent as UTF-8 they would all become U+FFFD), and takes paired ones", () => {
    const lone = JSON.parse('"a\\ud800"') as string;
    expect(() => toProtoItem({ id: lone, vector: [1] }, kinds)).toThrow(/"?id"? is not well-formed Unicode/);
    expect(() => toProtoItem({ id: "x", vector: [1], fields: { labels: [lone] } }, kinds)).toThrow(/field "labels" is not well-formed/);
    expect(() => toProtoItem({ id: "x", vector: [1], fields: { title: `t${lone}` } }, kinds)).toThrow(/field "title" is not well-formed/);
    const item = toProtoItem({ id: "😀", vector: [1], fields: { labels: "a😀,b", title: "ok 😀" } }, kinds);
    expect(item.id).toBe("😀");
    expect(item.fields.labels?.kind).toEqual({ $case: "tags", value: { values: ["a😀", "b"] } });
  });
});
