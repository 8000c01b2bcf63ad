import { status } from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { describe, expect, it } from "vitest";
import { createDescriptorPool } from "../../../src/grpc/descriptor-pool.js";
import { answerReflectionRequest, DESCRIPTOR_SET_URL } from "../../../src/grpc/reflection-service.js";

const setBytes = readFileSync(DESCRIPTOR_SET_URL);
const pool = createDescriptorPool(setBytes);

function fileNames(body: ReturnType<typeof answerReflectionRequest>): string[] {
  if (!("file_descriptor_response" in body)) throw new Error(`not a file response: ${JSON.stringify(body)}`);
  return body.file_descriptor_response.file_descriptor_proto.map(
    (bytes) => (descriptor.FileDescriptorProto.decode(bytes) as unknown as { name: string }).name,
  );
}

describe("descriptor pool", () => {
  it("keeps each file's bytes exactly as they are in the set", () => {
    const file = pool.fileByName("vecrec/v1/vecrec.proto");
    expect(file).toBeDefined();
    // The file's bytes occur verbatim inside the set buf wrote.
    expect(setBytes.indexOf(Buffer.from(file?.bytes ?? []))).toBeGreaterThan(0);
    expect(file?.dependencies).toEqual(["google/protobuf/timestamp.proto"]);
  });

  it("indexes nested and scoped symbols, with or without a leading dot", () => {
    for (const symbol of [
      "vecrec.v1.Item.FieldsEntry",
      ".vecrec.v1.SearchResponse.FieldsEntry",
      "vecrec.v1.DISTANCE_METRIC_L2",
      "vecrec.v1.Filter.condition",
      "vecrec.v1.VectorService.GetInteractions",
    ]) {
      expect(pool.fileContainingSymbol(symbol)?.name, symbol).toBe("vecrec/v1/vecrec.proto");
    }
    expect(pool.fileContainingSymbol("vecrec.v1")).toBeUndefined();
    expect(pool.hasMessage("vecrec.v1.Item")).toBe(true);
    expect(pool.hasMessage("vecrec.v1.TagMatch")).toBe(false);
  });
});

describe("answerReflectionRequest", () => {
  it("sends a file with its dependencies once per stream, the asked file always first", () => {
    const sent = new Set<string>();
    const first = answerReflectionRequest(pool, { message_request: "file_containing_symbol", file_containing_symbol: "vecrec.v1.Item" }, sent);
    expect(fileNames(first)).toEqual(["vecrec/v1/vecrec.proto", "google/protobuf/timestamp.proto"]);
    const again = answerReflectionRequest(pool, { message_request: "file_by_filename", file_by_filename: "vecrec/v1/vecrec.proto" }, sent);
    expect(fileNames(again)).toEqual(["vecrec/v1/vecrec.proto"]);
    const dep = answerReflectionRequest(
      pool,
      { message_request: "file_by_filename", file_by_filename: "google/protobuf/timestamp.proto" },
      new Set(),
    );
    expect(fileNames(dep)).toEqual(["google/protobuf/timestamp.proto"]);
  });

  it("answers an empty request with INVALID_ARGUMENT", () => {
    expect(answerReflectionRequest(pool, {}, new Set())).toEqual({
      error_response: { error_code: status.INVALID_ARGUMENT, error_message: "no message_request set" },
    });
  });
});
