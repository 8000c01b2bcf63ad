/**
 * Interaction messages <-> domain values: the InteractionKind enum, RecordInteractions drafts (weight
 * defaults to 1, time to now) and interactions in responses.
 */
import type { Interaction as DomainInteraction, InteractionKind as DomainInteractionKind } from "../domain/interaction.js";
import { Undecodable, fieldPath, type Decoded } from "../domain/violations.js";
import { InteractionKind, type Interaction } from "../gen/vecrec/v1/vecrec.js";
import type { InteractionInput } from "../usecases/interactions.js";
import { inverse } from "./enum-mapping.js";

const KIND_TO_PROTO: Record<DomainInteractionKind, InteractionKind> = {
  view: InteractionKind.INTERACTION_KIND_VIEW,
  click: InteractionKind.INTERACTION_KIND_CLICK,
  like: InteractionKind.INTERACTION_KIND_LIKE,
  add_to_cart: InteractionKind.INTERACTION_KIND_ADD_TO_CART,
  purchase: InteractionKind.INTERACTION_KIND_PURCHASE,
};
const KIND_FROM_PROTO = inverse(KIND_TO_PROTO);

/** Decodes a required InteractionKind; UNSPECIFIED or an unknown number is Undecodable at `path`. */
export function decodeInteractionKind(kind: InteractionKind, path: string): Decoded<DomainInteractionKind> {
  const decoded = KIND_FROM_PROTO.get(kind);
  if (decoded !== undefined) return decoded;
  const description =
    kind === InteractionKind.INTERACTION_KIND_UNSPECIFIED ? "the interaction kind is required" : `unknown interaction kind ${kind}`;
  return new Undecodable({ field: path, description });
}

export function encodeInteractionKind(kind: DomainInteractionKind): InteractionKind {
  return KIND_TO_PROTO[kind];
}

/** The range of google.protobuf.Timestamp (0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z), in ms. */
export const MIN_TIMESTAMP_MS = -62_135_596_800_000;
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;

/**
 * The time of an interaction in ms, `nowMs` when unset. Times are kept to the millisecond and must lie
 * in the Timestamp range (stored, another time could never be read back: GetInteractions could not
 * encode it as a valid Timestamp); outside it they are Undecodable.
 */
function decodeOccurredAt(occurredAt: Date | undefined, path: string, nowMs: number): Decoded<number> {
  if (occurredAt === undefined) return nowMs;
  let ms = occurredAt.getTime();
  // The generated decoder adds nanos / 1e6 to seconds * 1000 in float64, which rounds a time in the
  // last millisecond of 9999 up to year 10000: that millisecond belongs to 9999.
  if (ms === MAX_TIMESTAMP_MS + 1) ms = MAX_TIMESTAMP_MS;
  if (Number.isFinite(ms) && ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS) return ms;
  return new Undecodable({
    field: path,
    description: "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (the google.protobuf.Timestamp range)",
  });
}

/** Decodes the interactions of a RecordInteractionsRequest received at `nowMs`. */
export function decodeInteractions(interactions: readonly Interaction[], nowMs: number): InteractionInput[] {
  return interactions.map((interaction, i) => ({
    userId: interaction.userId,
    itemId: interaction.itemId,
    kind: decodeInteractionKind(interaction.kind, fieldPath("interactions", i, "kind")),
    weight: interaction.weight ?? 1,
    occurredAtMs: decodeOccurredAt(interaction.occurredAt, fieldPath("interactions", i, "occurred_at"), nowMs),
  }));
}

export function encodeInteraction(interaction: DomainInteraction): Interaction {
  return {
    userId: interaction.userId,
    itemId: interaction.itemId,
    kind: encodeInteractionKind(interaction.kind),
    weight: interaction.weight,
    occurredAt: new Date(interaction.occurredAtMs),
  };
}
