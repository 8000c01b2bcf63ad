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

export const UNSUPPORTED_STEPS: readonly UnsupportedRule[] = [];

/** Steps matched by the rules above, summed over both folders. */
export const EXPECTED_UNSUPPORTED_COUNT = 0;

export function unsupportedReason(folder: string, file: string, step: number): string | undefined {
  const rule = UNSUPPORTED_STEPS.find(
    (r) => file.startsWith(r.file) && r.steps.includes(step) && (r.folder === undefined || r.folder === folder),
  );
  return rule?.reason;
}
