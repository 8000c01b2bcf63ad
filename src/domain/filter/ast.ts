/**
 * What the parser (parser.ts) hands the builder (build.ts): the filter as written, with `$name`
 * parameters not yet looked up (Redis also resolves them after parsing) and numeric bounds as read.
 */

/** A tag value's word or a text term: literal text, or a `$param` to look up after parsing. */
export type Part = { readonly literal: string } | { readonly param: string };

export type Bound =
  | { readonly kind: "literal"; readonly value: number; readonly exclusive: boolean }
  | { readonly kind: "param"; readonly name: string; readonly exclusive: boolean };

export type Ast =
  | { readonly k: "all" }
  /** Each value is its words (`{new york}` is one value of two words). */
  | { readonly k: "tag"; readonly field: string; readonly values: readonly (readonly Part[])[] }
  /** `single`: written `[x]`, meaning `[x x]`. */
  | { readonly k: "numeric"; readonly field: string; readonly min: Bound; readonly max: Bound; readonly single: boolean }
  | { readonly k: "text"; readonly field: string; readonly terms: readonly { part: Part; prefix: boolean }[] }
  | { readonly k: "and" | "or"; readonly children: readonly Ast[] }
  | { readonly k: "not"; readonly child: Ast };
