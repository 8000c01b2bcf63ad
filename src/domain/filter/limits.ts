/**
 * How large one filter may be. A filter is evaluated on every row a search considers (the embedded
 * engine tests it on each row that could enter the top k; Redis runs one iterator per clause and per
 * tag value), so its size multiplies the cost of a search: these bounds keep the worst allowed filter
 * within a small multiple of an unfiltered search (measured by `bench/filter-cost.ts`, figures in the
 * README's Security section). The typed Filter tree and the filter string are counted alike, on the
 * FilterNode both become.
 */
import type { FilterNode } from "./filter.js";

/** Most conditions (tag, numeric and text clauses, the leaves of the tree) in one filter. */
export const MAX_FILTER_CLAUSES = 16;
/** Most values in one filter: tag values and text words, over every clause. */
export const MAX_FILTER_VALUES = 128;
/**
 * Most text words in one filter, over every text clause (they count as values too). A word costs a
 * lookup in each row's analysed text, several times a tag clause (whose values are one set lookup).
 */
export const MAX_FILTER_WORDS = 16;
/** Most UTF-8 bytes of a filter string (`filter_query`, `neighbor_filter_query`), checked before parsing. */
export const MAX_FILTER_QUERY_BYTES = 16 * 1024;

/** Counts clauses and values as a filter is built, and says once when a bound is passed. */
export class FilterBudget {
  clauses = 0;
  values = 0;
  words = 0;

  /** Counts one clause with `values` values (`words` of them text words); false once over a bound. */
  spend(values: number, words = 0): boolean {
    this.clauses++;
    this.values += values;
    this.words += words;
    return !this.exceeded;
  }

  get exceeded(): boolean {
    return this.clauses > MAX_FILTER_CLAUSES || this.values > MAX_FILTER_VALUES || this.words > MAX_FILTER_WORDS;
  }

  /** What is over, worded for a violation (undefined when within bounds). */
  describe(): string | undefined {
    if (this.clauses > MAX_FILTER_CLAUSES) {
      return `the filter has more than ${MAX_FILTER_CLAUSES} conditions (tag, numeric and text clauses); at most ${MAX_FILTER_CLAUSES} are allowed`;
    }
    if (this.values > MAX_FILTER_VALUES) {
      return `the filter has more than ${MAX_FILTER_VALUES} values (tag values and text words, over every clause); at most ${MAX_FILTER_VALUES} are allowed`;
    }
    if (this.words > MAX_FILTER_WORDS) {
      return `the filter has more than ${MAX_FILTER_WORDS} text words (over every text clause); at most ${MAX_FILTER_WORDS} are allowed`;
    }
    return undefined;
  }
}

/**
 * Counts `node`'s clauses and values, stopping as soon as a bound is passed (iterative, so a hostile
 * tree costs at most MAX_FILTER_CLAUSES leaves of work past its inner nodes).
 */
export function filterSizeViolation(node: FilterNode): string | undefined {
  const budget = new FilterBudget();
  const stack: FilterNode[] = [node];
  while (stack.length > 0) {
    const n = stack.pop() as FilterNode;
    switch (n.op) {
      case "all":
        break;
      case "tag":
        if (!budget.spend(n.values.length)) return budget.describe();
        break;
      case "text":
        if (!budget.spend(n.terms.length, n.terms.length)) return budget.describe();
        break;
      case "numeric":
        if (!budget.spend(0)) return budget.describe();
        break;
      case "and":
      case "or":
        for (const c of n.children) stack.push(c);
        break;
      case "not":
        stack.push(n.child);
        break;
    }
  }
  return undefined;
}
