/**
 * The one protocol of request validation. The transport decodes a request into a draft in which a value
 * it could not decode is an `Undecodable` carrying its violations (never a stand-in value); the use
 * case runs one validation over the draft with a `ViolationCollector` and either gets a typed command
 * or throws once, with every violation. Paths are proto field paths, built by `fieldPath` only.
 */
import { InvalidArgumentError, type FieldViolation } from "./errors.js";

/** One step of a proto field path: a field name (`items`, `float32_le`) or a list index. */
export type PathStep = string | number;

/** `fieldPath("items", 2, "vector")` is `items[2].vector`; `fieldPath("a.b", "c")` is `a.b.c`. */
export function fieldPath(...steps: readonly PathStep[]): string {
  let path = "";
  for (const step of steps) {
    if (typeof step === "number") path += `[${step}]`;
    else if (step !== "") path += path === "" ? step : `.${step}`;
  }
  return path;
}

/** A request value the transport could not decode, with the violations saying why (paths included). */
export class Undecodable {
  readonly violations: readonly FieldViolation[];
  constructor(violations: FieldViolation | readonly FieldViolation[]) {
    this.violations = Array.isArray(violations) ? (violations as readonly FieldViolation[]) : [violations as FieldViolation];
  }
}

/** A value of a draft: decoded, or why it could not be. */
export type Decoded<T> = T | Undecodable;

export function isUndecodable(value: unknown): value is Undecodable {
  return value instanceof Undecodable;
}

/**
 * Collects the violations of one request. `at` gives a collector for a sub-path that adds to the same
 * list, so a check deep in a request names its full path without knowing it.
 */
export class ViolationCollector {
  readonly #list: FieldViolation[];
  #path: string | undefined;
  readonly #parent: ViolationCollector | undefined;
  readonly #steps: readonly PathStep[] | undefined;

  constructor(path = "", list: FieldViolation[] = [], below?: { parent: ViolationCollector; steps: readonly PathStep[] }) {
    this.#path = below === undefined ? path : undefined;
    this.#list = list;
    this.#parent = below?.parent;
    this.#steps = below?.steps;
  }

  /**
   * The path this collector reports under ("" at the root). Built when first asked for (a violation, or
   * a check that needs it): a collector per item of a valid batch of 1,000 builds no string.
   */
  get path(): string {
    this.#path ??= fieldPath(this.#parent!.path, ...this.#steps!);
    return this.#path;
  }

  /** A collector for `steps` below this one, sharing its list. */
  at(...steps: readonly PathStep[]): ViolationCollector {
    return new ViolationCollector("", this.#list, { parent: this, steps });
  }

  /**
   * Violations whose paths are relative to `step` below this collector (checks run with the path ""
   * so that no path is built unless they find something); true when any.
   */
  addUnder(step: PathStep, violations: readonly FieldViolation[]): boolean {
    for (const violation of violations) this.#list.push({ field: this.pathOf(step, violation.field), description: violation.description });
    return violations.length > 0;
  }

  /** The full path of `steps` below this collector. */
  pathOf(...steps: readonly PathStep[]): string {
    return fieldPath(this.path, ...steps);
  }

  /** One violation at this collector's path. */
  add(description: string): void {
    this.#list.push({ field: this.path, description });
  }

  /** Violations that already carry their full paths (e.g. from the request-limits checks); true when any. */
  addAll(violations: readonly FieldViolation[]): boolean {
    this.#list.push(...violations);
    return violations.length > 0;
  }

  /** The value when it was decoded; otherwise records why not and returns undefined. */
  decoded<T>(value: Decoded<T>): T | undefined {
    if (value instanceof Undecodable) {
      this.#list.push(...value.violations);
      return undefined;
    }
    return value;
  }

  /** The number of violations collected so far (by every collector of this request). */
  get count(): number {
    return this.#list.length;
  }

  get violations(): readonly FieldViolation[] {
    return this.#list;
  }

  /** Throws one InvalidArgumentError with every violation, when there is any. */
  throwIfAny(): void {
    if (this.#list.length > 0) throw new InvalidArgumentError([...this.#list]);
  }
}
