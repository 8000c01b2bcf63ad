import { status } from "@grpc/grpc-js";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  IndexNotFoundError,
  InvalidArgumentError,
  UnavailableError,
} from "../../../src/domain/errors.js";
import { BadRequest } from "../../../src/gen/google/rpc/error_details.js";
import { Status } from "../../../src/gen/google/rpc/status.js";
import { capViolations, MAX_SENT_VIOLATIONS, STATUS_DETAILS_TRAILER, toGrpcStatus } from "../../../src/grpc/status-mapping.js";

const logged: unknown[] = [];
const logger = pino({ level: "debug" }, { write: (line: string) => logged.push(JSON.parse(line)) });

describe("toGrpcStatus", () => {
  it("maps each domain error kind to its code, keeping the message", () => {
    const cases: [Error, status][] = [
      [new IndexNotFoundError("x"), status.NOT_FOUND],
      [new AlreadyExistsError("dup"), status.ALREADY_EXISTS],
      [new FailedPreconditionError("no vector"), status.FAILED_PRECONDITION],
      [new UnavailableError("down"), status.UNAVAILABLE],
      [new CancelledError(), status.CANCELLED],
      [new DeadlineExceededError(), status.DEADLINE_EXCEEDED],
    ];
    for (const [error, code] of cases) {
      const mapped = toGrpcStatus(error, logger, "Test");
      expect(mapped.code, error.name).toBe(code);
      expect(mapped.details).toBe(error.message);
      expect(mapped.metadata.get(STATUS_DETAILS_TRAILER)).toEqual([]);
    }
  });

  it("carries every violation of an InvalidArgumentError as google.rpc.BadRequest", () => {
    const error = new InvalidArgumentError([
      { field: "items[0].id", description: "must not be empty" },
      { field: "k", description: "must be an integer in 1..10000 (got 0)" },
    ]);
    const mapped = toGrpcStatus(error, logger, "Test");
    expect(mapped.code).toBe(status.INVALID_ARGUMENT);
    const [bytes] = mapped.metadata.get(STATUS_DETAILS_TRAILER);
    const rpcStatus = Status.decode(bytes as Buffer);
    expect(rpcStatus.code).toBe(status.INVALID_ARGUMENT);
    expect(rpcStatus.message).toBe(error.message);
    expect(rpcStatus.details).toHaveLength(1);
    expect(rpcStatus.details[0]?.typeUrl).toBe("type.googleapis.com/google.rpc.BadRequest");
    expect(BadRequest.decode(rpcStatus.details[0]?.value ?? new Uint8Array()).fieldViolations).toEqual(error.violations);
  });

  it("hides unexpected errors behind INTERNAL and logs them", () => {
    logged.length = 0;
    for (const thrown of [new TypeError("x is undefined at /secret/path"), "a string", undefined]) {
      const mapped = toGrpcStatus(thrown, logger, "Search");
      expect(mapped.code).toBe(status.INTERNAL);
      expect(mapped.details).toBe("internal error");
    }
    expect(logged).toHaveLength(3);
    expect(JSON.stringify(logged[0])).toContain("/secret/path");
  });
});

describe("capViolations", () => {
  it("keeps at most 100 violations within a byte budget, then one naming the list", () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ field: `items[${i}].id`, description: "must not be empty" }));
    const capped = capViolations(many);
    expect(capped).toHaveLength(MAX_SENT_VIOLATIONS + 1);
    expect(capped.at(-1)).toEqual({ field: "items", description: "4900 more violation(s) not listed" });
    const long = Array.from({ length: 50 }, (_, i) => ({ field: `interactions[${i}].user_id`, description: "x".repeat(1000) }));
    const cappedLong = capViolations(long);
    expect(cappedLong.length).toBeLessThan(10);
    expect(cappedLong.at(-1)?.field).toBe("interactions");
    expect(capViolations(many.slice(0, 3))).toEqual(many.slice(0, 3));
  });
});
