/**
 * Requests the generated decoders reject (a Filter nested past their recursion limit, truncated bytes)
 * would end inside grpc-js as INTERNAL "Error deserializing request", before any handler runs. Each
 * method's deserializer is wrapped so that such a failure becomes an `UndecodableRequest`, which the
 * handlers answer with INVALID_ARGUMENT naming the top-level request field that could not be decoded.
 */
import type { ServiceDefinition } from "@grpc/grpc-js";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import type { FieldViolation } from "../domain/errors.js";

const UNDECODABLE = Symbol("vecrec.undecodableRequest");

/** What a wrapped deserializer returns instead of throwing. */
export interface UndecodableRequest {
  readonly [UNDECODABLE]: FieldViolation;
}

/** The violation of a request that could not be decoded, or undefined for a decoded request. */
export function undecodableViolation(request: unknown): FieldViolation | undefined {
  if (typeof request !== "object" || request === null || !(UNDECODABLE in request)) return undefined;
  return (request as UndecodableRequest)[UNDECODABLE];
}

function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes("recursion")) {
    return "nested too deeply to decode: messages may nest at most 100 levels (a Filter at most 32)";
  }
  return `cannot be decoded: ${message}`;
}

/**
 * Names the culprit: every top-level field is a valid message on its own, so decoding the fields one by
 * one finds the first that fails. Falls back to `request` when the framing itself is broken.
 */
function violationOf(
  bytes: Uint8Array,
  decode: (bytes: Buffer) => unknown,
  fieldNames: ReadonlyMap<number, string> | undefined,
  error: unknown,
): FieldViolation {
  const description = describeFailure(error);
  try {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const [fieldNo, wireType] = reader.tag();
      reader.skip(wireType, fieldNo);
      try {
        decode(Buffer.from(bytes.buffer, bytes.byteOffset + start, reader.pos - start));
      } catch {
        return { field: fieldNames?.get(fieldNo) ?? "request", description };
      }
    }
  } catch {
    // The framing is broken: no single field to blame.
  }
  return { field: "request", description };
}

/**
 * `definition` with every request deserializer wrapped (see the module comment). `fieldNamesOf` gives,
 * for a method's full name (`vecrec.v1.VectorService.Search`), its request fields by number.
 */
export function withTolerantDecoding<D extends ServiceDefinition>(
  definition: D,
  fieldNamesOf: (method: string) => ReadonlyMap<number, string> | undefined,
): D {
  const wrapped: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    const fieldNames = fieldNamesOf(method.path.replace(/^\//, "").replace("/", "."));
    wrapped[key] = {
      ...method,
      requestDeserialize(bytes: Buffer): unknown {
        try {
          return decode(bytes);
        } catch (error) {
          const undecodable: UndecodableRequest = { [UNDECODABLE]: violationOf(bytes, decode, fieldNames, error) };
          return undecodable;
        }
      },
    };
  }
  return wrapped as D;
}
