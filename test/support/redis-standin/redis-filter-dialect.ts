/**
 * Redis's dialect of vecrec's filter grammar (src/domain/filter/): what the stand-in parses FT.SEARCH
 * pre-filters with, so that it answers from the very grammar users' filters are parsed by. Beyond
 * the user dialect it takes every grammar extension Redis has (skipped punctuation, bare words,
 * operators inside text clauses, `word*`, `web-2` as two words) and adds what only Redis does:
 * `$name` PARAMS read the way RediSearch reads them (strtod), literal stop words dropped while
 * parsing, the schema checked clause by clause, and Redis's exact error texts.
 */
import type { ClauseKind, FilterDialect, GrammarExtension, ResolvedWord } from "../../../src/domain/filter/dialect.js";
import { FilterSyntaxError } from "../../../src/domain/filter/errors.js";
import type { FieldSpec } from "../../../src/domain/schema.js";
import { isStopWord } from "../../../src/domain/text-analysis.js";

export type SchemaFieldType = FieldSpec["type"];

/** Valid Redis syntax that vecrec does not implement (phrases, fuzzy, `~`, vector ranges, ...). */
export class UnsupportedFilterSyntaxError extends FilterSyntaxError {
  constructor(message: string, offset: number) {
    super(message, offset);
    this.name = "UnsupportedFilterSyntaxError";
  }
}

/** A `$name` reference with no such parameter. Message is Redis's: "No such parameter `t`". */
export class MissingParameterError extends Error {
  readonly parameter: string;
  constructor(parameter: string) {
    super(`No such parameter \`${parameter}\``);
    this.name = "MissingParameterError";
    this.parameter = parameter;
  }
}

/**
 * Value errors, with Redis's texts: "Bad lower range: abc", "Bad upper range: x",
 * "Invalid numeric value (x) for parameter `p`", "Invalid numeric range (min > max): @n:[40.000000 20.000000]".
 */
export class FilterValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterValueError";
  }
}

/** A field the schema does not have, or of the wrong type ("Unknown field at offset 0 near nosuch"). */
export class FilterFieldError extends Error {
  readonly offset: number;
  readonly field: string;
  constructor(message: string, offset: number, field: string) {
    super(message);
    this.name = "FilterFieldError";
    this.offset = offset;
    this.field = field;
  }
}

export interface RedisFilterDialectOptions {
  /** FT.SEARCH's PARAMS (none when absent: every `$name` is then missing). */
  readonly params?: ReadonlyMap<string, string>;
  /** The index's field types: each field clause is checked against them as Redis does (see redisFieldCheck). */
  readonly fieldTypes?: ReadonlyMap<string, SchemaFieldType>;
}

const REDIS_EXTENSIONS: ReadonlySet<GrammarExtension> = new Set<GrammarExtension>([
  "skipped-punctuation",
  "bare-words",
  "text-operators",
  "prefixes",
  "split-tag-words",
]);

/**
 * The dialect: every grammar extension, PARAMS, Redis's error texts (syntax errors without vecrec's
 * explanations; UnsupportedFilterSyntaxError, MissingParameterError, FilterValueError and, with
 * `fieldTypes`, FilterFieldError) and Redis's parse-time stop-word rules.
 */
export function redisFilterDialect(options: RedisFilterDialectOptions = {}): FilterDialect {
  const params = options.params ?? new Map<string, string>();
  const param = (name: string): string => {
    const value = params.get(name);
    if (value === undefined) throw new MissingParameterError(name);
    return value;
  };
  return {
    extensions: REDIS_EXTENSIONS,
    parameters: { text: param, number: (name, bound) => numericParameter(name, param(name), bound) },
    syntaxErrorMessage: (redisText) => redisText,
    unsupported: (message, offset) => new UnsupportedFilterSyntaxError(message, offset),
    ...(options.fieldTypes === undefined ? {} : { checkField: redisFieldCheck(options.fieldTypes) }),
    // RediSearch's termlist rule keeps the first two words of a multi-word tag value but drops
    // literal stop words after them: `{new york is}` looks up "new york".
    tagWords: (words) => words.filter((w, i) => i < 2 || !isLiteralStopWord(w)),
    // Redis drops a literal stop word of a text clause while parsing (a `$param` one stays).
    textTerms: (terms) => terms.filter((w) => !isLiteralStopWord(w)),
    rangeError: (field, min, max) =>
      min > max
        ? new FilterValueError(`Invalid numeric range (min > max): @${field}:[${formatRedisFixed(min)} ${formatRedisFixed(max)}]`)
        : undefined,
  };
}

/**
 * Checks each field clause against `fieldTypes` as it is complete, the way Redis reports it:
 * FilterFieldError "Unknown field at offset N near f", "Expected a TAG field at offset N near f",
 * "Expected a NUMERIC field at offset N near f" (offset of the `@`). A text clause on a field that
 * is not TEXT is not an error (it matches nothing). Also usable in another dialect
 * (`{ ...USER_DIALECT, checkField: redisFieldCheck(types) }`).
 */
export function redisFieldCheck(
  fieldTypes: ReadonlyMap<string, SchemaFieldType>,
): (field: string, clause: ClauseKind, offset: number) => void {
  return (field, clause, offset) => {
    const actual = fieldTypes.get(field);
    if (actual === undefined) {
      throw new FilterFieldError(`Unknown field at offset ${offset} near ${field}`, offset, field);
    }
    if (clause === "text" || actual === clause) return;
    throw new FilterFieldError(`Expected a ${clause.toUpperCase()} field at offset ${offset} near ${field}`, offset, field);
  };
}

function isLiteralStopWord(w: ResolvedWord): boolean {
  return w.literal && !w.prefix && isStopWord(w.text);
}

/** A `$name` numeric bound as RediSearch 8.0 reads it, with its error texts. */
function numericParameter(name: string, raw: string, bound: "min" | "max" | "single"): number {
  if (bound === "single") {
    const v = strtodWhole(raw);
    if (v === undefined) throw new FilterValueError(`Invalid numeric value (${raw}) for parameter \`${name}\``);
    return v;
  }
  // RediSearch 8.0's parseDoubleRange: a leading "(" is skipped, then "-inf" is accepted only as a
  // lower bound and "+inf"/"inf" only as an upper one; anything else strtod cannot read whole (or
  // reads as infinite) is an error. The skipped "(" does not make the bound exclusive (recorded:
  // lo="(20" keeps n=20); only `($lo` in the query does.
  const text = raw.startsWith("(") ? raw.slice(1) : raw;
  const lower = text.toLowerCase();
  if (bound === "min" && lower === "-inf") return -Infinity;
  if (bound === "max" && (lower === "+inf" || lower === "inf")) return Infinity;
  const v = strtodWhole(text);
  if (v === undefined || v === Infinity || v === -Infinity) {
    throw new FilterValueError(`Bad ${bound === "min" ? "lower" : "upper"} range: ${text}`);
  }
  return v;
}

/** C strtod over the whole string (leading blanks allowed); undefined when text is left over. */
function strtodWhole(text: string): number | undefined {
  const t = text.replace(/^[ \t\n\v\f\r]+/, "");
  if (t === "") return 0; // strtod consumes nothing and the end pointer sits on the terminator
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return Number.NaN;
  if (/^[+-]?0x[0-9a-f]+$/i.test(t)) {
    const v = Number.parseInt(t.replace(/^[+-]/, ""), 16);
    return t.startsWith("-") ? -v : v;
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  return undefined;
}

/** printf("%f") as Redis prints a range in its "Invalid numeric range" error. */
function formatRedisFixed(x: number): string {
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Number.isNaN(x)) return "nan";
  return x.toFixed(6);
}
