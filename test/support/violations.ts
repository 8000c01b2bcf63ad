/**
 * The field violations of a rejected request, for tests of validation.
 *
 * `violationsOf` fails the test unless `action` throws (or its promise rejects with) an
 * InvalidArgumentError, and returns that error's violations in order. `violatedFields` returns just
 * their field paths, for the common `toEqual(["items[0].vector"])`.
 */
import { expect } from "vitest";
import { InvalidArgumentError, type FieldViolation } from "../../src/domain/errors.js";

/** A promise (an async call) or a function (a synchronous call, or one returning a promise). */
export type Rejectable = Promise<unknown> | (() => unknown);

async function errorOf(action: Rejectable): Promise<unknown> {
  try {
    await (typeof action === "function" ? action() : action);
  } catch (error) {
    return error;
  }
  return undefined;
}

/** The violations of the InvalidArgumentError that `action` throws or rejects with. */
export async function violationsOf(action: Rejectable): Promise<FieldViolation[]> {
  const error = await errorOf(action);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  return [...(error as InvalidArgumentError).violations];
}

/** The field paths of those violations, in order. */
export async function violatedFields(action: Rejectable): Promise<string[]> {
  return (await violationsOf(action)).map((v) => v.field);
}
