/** Enum tables are written once, domain -> proto; this gives the decoding direction. */

/** proto number -> domain value; numbers not in `table` (UNSPECIFIED, unknown) are absent. */
export function inverse<D extends string>(table: Record<D, number>): Map<number, D> {
  return new Map((Object.entries(table) as [D, number][]).map(([domain, proto]) => [proto, domain]));
}
