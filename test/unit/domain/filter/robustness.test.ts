import { describe, expect, it } from "vitest";
import { FilterSyntaxError } from "../../../../src/domain/filter/errors.js";
import { parseFilterQuery } from "../../../../src/domain/filter/parser.js";
import {
  FilterValueError,
  MissingParameterError,
  redisFilterDialect,
} from "../../../support/redis-standin/redis-filter-dialect.js";

describe("parseFilterQuery robustness", () => {
  // A deterministic pseudo-random generator, so a failure can be replayed.
  function* random(seed: number): Generator<number> {
    let x = seed;
    for (;;) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      yield x / 2 ** 31;
    }
  }
  const pieces = [
    "@a:", "@n:", "@t:", "{", "}", "[", "]", "(", ")", "|", "-", " ", "x", "y z", "12", "-3.5", "inf", "-inf", "(",
    "*", "$p", "\\", "\\-", ".", ",", "'", '"', "%", "~", "=>", ":", ";", "é", "日本", "qu*", "as",
  ];

  it("either parses or throws one of its own errors, whatever the input", () => {
    const rng = random(42);
    const next = (): number => rng.next().value as number;
    for (let n = 0; n < 3000; n++) {
      let query = "";
      const length = Math.floor(next() * 12);
      for (let i = 0; i < length; i++) query += pieces[Math.floor(next() * pieces.length)];
      for (const params of [undefined, new Map([["p", "5"]])]) {
        try {
          const node = parseFilterQuery(query, params ? redisFilterDialect({ params }) : undefined);
          expect(node.op, query).toMatch(/^(all|tag|numeric|text|and|or|not)$/);
        } catch (e) {
          const known = e instanceof FilterSyntaxError || e instanceof FilterValueError || e instanceof MissingParameterError;
          expect(known, `${query}: ${String(e)}`).toBe(true);
          if (e instanceof FilterSyntaxError) {
            expect(e.offset, query).toBeGreaterThanOrEqual(0);
            expect(e.offset, query).toBeLessThanOrEqual(Buffer.byteLength(query));
          }
        }
      }
    }
  });
});
