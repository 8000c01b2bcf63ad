/** What users did with items: the input of recommendations. */

export const INTERACTION_KINDS = ["view", "click", "like", "add_to_cart", "purchase"] as const;
export type InteractionKind = (typeof INTERACTION_KINDS)[number];

export interface Interaction {
  readonly userId: string;
  readonly itemId: string;
  readonly kind: InteractionKind;
  /** Finite, >= 0. */
  readonly weight: number;
  /** Milliseconds since the Unix epoch. */
  readonly occurredAtMs: number;
}

export interface InteractionPage {
  /** Newest first. */
  readonly interactions: readonly Interaction[];
  readonly totalCount: number;
}
