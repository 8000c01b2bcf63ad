/**
 * Issue 11: calls that were never answered. An error message cut at 512 UTF-16 units could split a
 * surrogate pair; grpc-js then threw `URIError: URI malformed` while percent-encoding the status and
 * the client waited for ever. Every call here carries a deadline, so a call left unanswered fails
 * with DEADLINE_EXCEEDED instead of hanging the test.
 */
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IndexRequest, SearchRequest, UpsertRequest, type SearchResponse } from "../../src/gen/vecrec/v1/vecrec.js";
import { BACKENDS, collect, failure, fill, type DeepPartial, startHarness, unary, vectorBytes, type Harness } from "./harness.js";

/**
 * `"a"` and 300 emoji, and the emoji alone: whatever the length of the text before the name, a cut at a
 * fixed number of UTF-16 units splits a pair in one of the two.
 */
const EMOJI_NAMES = [`a${"😀".repeat(300)}`, "😀".repeat(300)];
const deadline = () => ({ deadline: Date.now() + 5_000 });

describe.each(BACKENDS)("every call is answered, even when its message holds emoji ($name)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
    await unary((cb) => h.client.index(IndexRequest.fromPartial({ indexName: "u", defaultVectorDimension: 3 }), cb));
  });
  afterAll(async () => {
    await h?.close();
  });

  function expectWholeCharacters(error: ServiceError): void {
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    // A lone surrogate would have been sent as U+FFFD or not at all.
    expect(error.details).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    expect(error.details).toContain("😀");
  }

  it.each(EMOJI_NAMES)("answers an Upsert whose field name is 300 emoji (unary, name %#)", async (EMOJI_NAME) => {
    const request = fill(UpsertRequest, {
      indexName: "u",
      items: [{ id: "x", vector: vectorBytes([1, 0, 0]), fields: { [EMOJI_NAME]: { kind: { $case: "text", value: "t" } } } }],
    });
    expectWholeCharacters(await failure(unary((cb) => h.client.upsert(request, new Metadata(), deadline(), cb))));
  });

  async function searchError(request: DeepPartial<SearchRequest>): Promise<ServiceError> {
    const { messages, error } = await collect<SearchResponse>(
      h.client.search(fill(SearchRequest, { indexName: "u", k: 1, query: { $case: "vector", value: vectorBytes([1, 0, 0]) }, ...request }), deadline()),
    );
    expect(messages).toEqual([]);
    if (error === undefined) throw new Error("the search succeeded");
    return error;
  }

  it.each(EMOJI_NAMES)("answers a Search whose tag filter names 300 emoji (streaming, name %#)", async (EMOJI_NAME) => {
    expectWholeCharacters(await searchError({ filter: { condition: { $case: "tag", value: { field: EMOJI_NAME, values: ["x"] } } } }));
  });

  it.each(EMOJI_NAMES)("answers a Search whose omit_fields names 300 emoji (streaming, name %#)", async (EMOJI_NAME) => {
    expectWholeCharacters(await searchError({ omitFields: [EMOJI_NAME] }));
  });
});
