/** The error every dialect's parse of a filter string throws for bad syntax (see dialect.ts). */

/** Bad filter syntax. `offset` is the 0-based UTF-8 byte offset of the offending token. */
export class FilterSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = "FilterSyntaxError";
    this.offset = offset;
  }
}
