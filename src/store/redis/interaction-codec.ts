/**
 * Interactions as sorted-set members. One sorted set per user and index; score = time in ms, member =
 * `<itemId> US <kind> US <time ms> US <weight>` (US = U+001F, which ids never contain). The member holds
 * everything, so reads need no second lookup. The time is in the member too, so the same item and kind
 * at two times are two members; a repeat of (user, item, kind, time) with another weight is replaced
 * by the writer, which removes the member with the same identity before adding.
 */
import { compareIds } from "../../domain/id-order.js";
import { INTERACTION_KINDS, type Interaction, type InteractionKind } from "../../domain/interaction.js";

const SEP = "\u001f";

export function encodeInteractionMember(
  interaction: Pick<Interaction, "itemId" | "kind" | "weight" | "occurredAtMs">,
): string {
  return `${interaction.itemId}${SEP}${interaction.kind}${SEP}${interaction.occurredAtMs}${SEP}${String(interaction.weight)}`;
}

/** The (item, kind, time) part of a member: equal for members that dedup against each other. */
export function interactionIdentity(member: string): string {
  return member.slice(0, member.lastIndexOf(SEP));
}

/** The item id of a member. */
export function interactionItemId(member: string): string {
  let end = member.length;
  for (let i = 0; i < 3; i++) end = member.lastIndexOf(SEP, end - 1);
  return member.slice(0, end);
}

/**
 * Decodes a member read back (the time comes from the member; the score holds the same value).
 * @throws RangeError for a member vecrec did not write.
 */
export function decodeInteractionMember(userId: string, member: string): Interaction {
  const weightAt = member.lastIndexOf(SEP);
  const timeAt = member.lastIndexOf(SEP, weightAt - 1);
  const kindAt = member.lastIndexOf(SEP, timeAt - 1);
  const kind = member.slice(kindAt + 1, timeAt) as InteractionKind;
  const occurredAtMs = Number(member.slice(timeAt + 1, weightAt));
  const weight = Number(member.slice(weightAt + 1));
  if (kindAt < 0 || !INTERACTION_KINDS.includes(kind) || !Number.isFinite(occurredAtMs) || Number.isNaN(weight)) {
    throw new RangeError(`not a vecrec interaction member: ${JSON.stringify(member)}`);
  }
  return { userId, itemId: member.slice(0, kindAt), kind, weight, occurredAtMs };
}

/** Newest first; equal times by item id (compareIds), then kind name. */
export function compareInteractions(a: Interaction, b: Interaction): number {
  if (a.occurredAtMs !== b.occurredAtMs) return b.occurredAtMs - a.occurredAtMs;
  if (a.itemId !== b.itemId) return compareIds(a.itemId, b.itemId);
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}
