/**
 * AST to FilterNode: looks up `$name` parameters and resolves numeric bounds through the dialect
 * (after parsing, as Redis does), lets the dialect drop words, and flattens same-operator chains.
 * Parameter errors are thrown as they are met; the dialect's range errors only once the whole
 * filter is resolved (Redis checks ranges after parameters).
 */

import type { Ast, Bound, Part } from "./ast.js";
import type { FilterDialect, ResolvedWord } from "./dialect.js";
import type { FilterNode } from "./filter.js";

export function buildFilterNode(ast: Ast, dialect: FilterDialect): FilterNode {
  const builder = new Builder(dialect);
  const node = builder.build(ast);
  const firstRangeError = builder.rangeErrors[0];
  if (firstRangeError !== undefined) throw firstRangeError;
  // Every clause was dropped (e.g. the Redis dialect's stop words): hand back the first one, whole,
  // so that the caller can tell (Redis then matches nothing, or everything under KNN).
  return node ?? builder.dropped[0] ?? { op: "all" };
}

class Builder {
  readonly rangeErrors: Error[] = [];
  readonly dropped: FilterNode[] = [];

  constructor(private readonly dialect: FilterDialect) {}

  /**
   * The FilterNode of `ast`, or null when the dialect dropped every word of a text clause; null
   * disappears from and/or (a NOT of null is null), as in RediSearch's parser: `@d:(the) @t:{x}`
   * is just `@t:{x}` under Redis's stop words.
   */
  build(ast: Ast): FilterNode | null {
    switch (ast.k) {
      case "all":
        return { op: "all" };
      case "tag":
        return {
          op: "tag",
          field: ast.field,
          values: ast.values.map((parts) => {
            const words = parts.map((p) => this.word(p, false));
            return (this.dialect.tagWords?.(words) ?? words).map((w) => w.text).join(" ");
          }),
        };
      case "numeric": {
        const min = this.bound(ast.min, ast.single ? "single" : "min");
        const max = ast.single ? min : this.bound(ast.max, "max");
        const rangeError = this.dialect.rangeError?.(ast.field, min.value, max.value);
        if (rangeError !== undefined) this.rangeErrors.push(rangeError);
        return {
          op: "numeric",
          field: ast.field,
          min: min.value,
          max: max.value,
          minExclusive: min.exclusive,
          maxExclusive: max.exclusive,
        };
      }
      case "text": {
        const all = ast.terms.map((t) => this.word(t.part, t.prefix));
        const kept = this.dialect.textTerms?.(all) ?? all;
        if (kept.length === 0) {
          this.dropped.push({ op: "text", field: ast.field, terms: all.map((w) => w.text) });
          return null;
        }
        return { op: "text", field: ast.field, terms: kept.map((w) => w.text) };
      }
      case "not": {
        const child = this.build(ast.child);
        return child === null ? null : { op: "not", child };
      }
      case "and":
      case "or": {
        const children: FilterNode[] = [];
        for (const c of ast.children) {
          const built = this.build(c);
          if (built === null) continue;
          if (built.op === ast.k) children.push(...built.children);
          else children.push(built);
        }
        if (children.length === 0) return null;
        if (children.length === 1) return children[0] as FilterNode;
        return { op: ast.k, children };
      }
    }
  }

  private word(part: Part, prefix: boolean): ResolvedWord {
    const text = "literal" in part ? part.literal : this.parameters().text(part.param);
    return { text: prefix ? `${text}*` : text, literal: "literal" in part, prefix };
  }

  private bound(b: Bound, role: "min" | "max" | "single"): { value: number; exclusive: boolean } {
    if (b.kind === "literal") return { value: b.value, exclusive: b.exclusive };
    // `(` written before `$name` makes the bound exclusive, whatever the parameter holds.
    return { value: this.parameters().number(b.name, role), exclusive: b.exclusive };
  }

  private parameters(): NonNullable<FilterDialect["parameters"]> {
    // The parser refuses `$name` in a dialect without parameters, so this cannot happen.
    if (this.dialect.parameters === undefined) throw new Error("a parameter in a dialect without parameters");
    return this.dialect.parameters;
  }
}
