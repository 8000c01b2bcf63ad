/**
 * Interactions as sorted-set members. One sorted set per user and index; score = time in ms, member =
 * `<itemId> US <kind digit> US <weight>` (US = U+001F, which ids never contain). The member holds
 * everything but the time, so reads need no second lookup; (user, item, kind, time) dedup is done by
 * the writer, which removes a member with the same item and kind at the same score before adding.
 */
import { INTERACTION_KINDS, type Interaction, type InteractionKind } from "../../domain/interaction.js";

const SEP = "\u001f";

export function encodeInteractionMember(interaction: Pick<Interaction, "itemId" | "kind" | "weight">): string {
  const kind = INTERACTION_KINDS.indexOf(interaction.kind);
  if (kind < 0) throw new RangeError(`unknown interaction kind ${String(interaction.kind)}`);
  return `${interaction.itemId}${SEP}${kind}${SEP}${String(interaction.weight)}`;
}

/** The (item, kind) part of a member: equal for members that dedup against each other at one time. */
export function interactionIdentity(member: string): string {
  return member.slice(0, member.lastIndexOf(SEP));
}

/** The item id of a member. */
export function interactionItemId(member: string): string {
  const end = member.lastIndexOf(SEP);
  return member.slice(0, member.lastIndexOf(SEP, end - 1));
}

/**
 * Decodes a member read back with its score.
 * @throws RangeError for a member vecrec did not write.
 */
export function decodeInteractionMember(userId: string, member: string, score: number): Interaction {
  const weightAt = member.lastIndexOf(SEP);
  const kindAt = member.lastIndexOf(SEP, weightAt - 1);
  const kind: InteractionKind | undefined = INTERACTION_KINDS[Number(member.slice(kindAt + 1, weightAt))];
  if (weightAt < 0 || kindAt < 0 || kind === undefined) {
    throw new RangeError(`not a vecrec interaction member: ${JSON.stringify(member)}`);
  }
  return {
    userId,
    itemId: member.slice(0, kindAt),
    kind,
    weight: Number(member.slice(weightAt + 1)),
    occurredAtMs: score,
  };
}

/** Newest first; equal times by item id, then kind (in INTERACTION_KINDS order). */
export function compareInteractions(a: Interaction, b: Interaction): number {
  if (a.occurredAtMs !== b.occurredAtMs) return b.occurredAtMs - a.occurredAtMs;
  if (a.itemId !== b.itemId) return a.itemId < b.itemId ? -1 : 1;
  return INTERACTION_KINDS.indexOf(a.kind) - INTERACTION_KINDS.indexOf(b.kind);
}
