/**
 * The one internal representation of a metadata filter. Both the typed proto Filter and the filter
 * string (Redis query syntax subset) compile to a FilterNode; stores evaluate it (embedded) or compile
 * it to a parameterised query (Redis). Values never leave this structure as query text.
 */

export type FilterNode =
  /** Matches every item (`*`). */
  | { readonly op: "all" }
  /** The item's tag field holds at least one of `values`. */
  | { readonly op: "tag"; readonly field: string; readonly values: readonly string[] }
  /** `min <(=) value <(=) max`; unbounded sides are -Infinity / +Infinity. */
  | {
      readonly op: "numeric";
      readonly field: string;
      readonly min: number;
      readonly max: number;
      readonly minExclusive: boolean;
      readonly maxExclusive: boolean;
    }
  /**
   * Every term (one word each, as typed by the user, stop words already rejected) occurs in the text
   * field, after Redis-like analysis (case folding, English stemming).
   */
  | { readonly op: "text"; readonly field: string; readonly terms: readonly string[] }
  | { readonly op: "and"; readonly children: readonly FilterNode[] }
  | { readonly op: "or"; readonly children: readonly FilterNode[] }
  | { readonly op: "not"; readonly child: FilterNode };

export const MATCH_ALL: FilterNode = { op: "all" };

/** Field name of text nodes that come from bare words (a dialect with bare words): any TEXT field of the index. */
export const ANY_TEXT_FIELD = "*";

/** The field names a filter refers to, each once, in order of appearance (ANY_TEXT_FIELD included). */
export function referencedFields(node: FilterNode): string[] {
  const seen = new Set<string>();
  const walk = (n: FilterNode): void => {
    switch (n.op) {
      case "all":
        return;
      case "tag":
      case "numeric":
      case "text":
        seen.add(n.field);
        return;
      case "and":
      case "or":
        n.children.forEach(walk);
        return;
      case "not":
        walk(n.child);
        return;
    }
  };
  walk(node);
  return [...seen];
}
