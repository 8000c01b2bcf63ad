/**
 * THE list of recorded conformance steps the stand-in deliberately does not reproduce, each with its
 * reason. The replay test asserts the total count (EXPECTED_UNSUPPORTED_COUNT), so the list cannot grow
 * silently, and fails when a listed step starts to match (then remove it here).
 * Step indexes are 0-based positions in the scenario's `steps`; both 8.0.2 folders share 01-10.
 */
export interface UnsupportedRule {
  readonly file: string;
  readonly steps: readonly number[];
  /** Restricts the rule to one folder (00-handshake differs between them). */
  readonly folder?: string;
  readonly reason: string;
}

export const UNSUPPORTED_STEPS: readonly UnsupportedRule[] = [
  {
    file: "05-filters",
    steps: [74, 75, 76, 77],
    reason: "exact phrases (@f:\"a b\") are outside vecrec's filter language; its parser rejects them",
  },
  {
    file: "06-range",
    steps: [24],
    reason:
      "Redis quirk: a negation written before a large VECTOR_RANGE drops the yielded distance from some rows; the stand-in yields it on every row in range",
  },
];

/** Steps matched by the rules above, summed over both folders. */
export const EXPECTED_UNSUPPORTED_COUNT = 2 * (4 + 1);

export function unsupportedReason(folder: string, file: string, step: number): string | undefined {
  const rule = UNSUPPORTED_STEPS.find(
    (r) => file.startsWith(r.file) && r.steps.includes(step) && (r.folder === undefined || r.folder === folder),
  );
  return rule?.reason;
}
