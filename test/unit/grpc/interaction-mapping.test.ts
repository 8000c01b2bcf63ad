import { describe, expect, it } from "vitest";
import { Undecodable } from "../../../src/domain/violations.js";
import type { InteractionKind } from "../../../src/gen/vecrec/v1/vecrec.js";
import { decodeInteractions, encodeInteraction, MAX_TIMESTAMP_MS } from "../../../src/grpc/interaction-mapping.js";

describe("interaction mapping", () => {
  it("fills interaction defaults and round-trips kinds and times", () => {
    const [input] = decodeInteractions([{ userId: "u", itemId: "i", kind: 5 }], 1234);
    expect(input).toEqual({ userId: "u", itemId: "i", kind: "purchase", weight: 1, occurredAtMs: 1234 });
    expect(encodeInteraction({ userId: "u", itemId: "i", kind: "add_to_cart", weight: 2, occurredAtMs: 99 })).toEqual({
      userId: "u",
      itemId: "i",
      kind: 4,
      weight: 2,
      occurredAt: new Date(99),
    });
  });

  it("keeps an unset or unknown kind and a time outside the Timestamp range as Undecodable, with their paths", () => {
    const [unset, unknown] = decodeInteractions(
      [
        { userId: "u", itemId: "i", kind: 0 },
        { userId: "u", itemId: "i", kind: 42 as InteractionKind, occurredAt: new Date(MAX_TIMESTAMP_MS + 1000) },
      ],
      0,
    );
    expect((unset?.kind as Undecodable).violations).toEqual([{ field: "interactions[0].kind", description: "the interaction kind is required" }]);
    expect((unknown?.kind as Undecodable).violations.map((v) => v.field)).toEqual(["interactions[1].kind"]);
    expect((unknown?.occurredAtMs as Undecodable).violations.map((v) => v.field)).toEqual(["interactions[1].occurred_at"]);
  });
});
