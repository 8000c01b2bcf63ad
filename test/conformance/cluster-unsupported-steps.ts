/**
 * THE list of recorded cluster conformance steps (recordings/redis-7.4.1-search-2.10.32-cluster*) the
 * stand-in cluster deliberately does not reproduce, each with its reason. cluster-replay.test.ts
 * asserts the total count (EXPECTED_CLUSTER_UNSUPPORTED_COUNT), so the list cannot grow silently, and
 * fails when a listed step starts to match (then remove it here). Step indexes are 0-based positions
 * in the scenario's `steps`; both folders hold the same steps.
 */
export interface ClusterUnsupportedRule {
  readonly file: string;
  readonly steps: readonly number[];
  /** Restricts the rule to one folder. */
  readonly folder?: string;
  readonly reason: string;
}

export const CLUSTER_UNSUPPORTED_STEPS: readonly ClusterUnsupportedRule[] = [
  {
    file: "c04-knn-filters",
    steps: [78, 79],
    reason: "exact phrases (@f:\"a b\") are outside vecrec's filter language; its parser rejects them (as in unsupported-steps.ts)",
  },
];

/** Steps matched by the rules above, summed over both folders. */
export const EXPECTED_CLUSTER_UNSUPPORTED_COUNT = 2 * 2;

export function clusterUnsupportedReason(folder: string, file: string, step: number): string | undefined {
  const rule = CLUSTER_UNSUPPORTED_STEPS.find(
    (r) => file.startsWith(r.file) && r.steps.includes(step) && (r.folder === undefined || r.folder === folder),
  );
  return rule?.reason;
}
