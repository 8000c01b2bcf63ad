import { describe, expect, it } from "vitest";
import { compareIds, idSortKey } from "../../../src/domain/id-order.js";

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

describe("compareIds", () => {
  it("orders like the UTF-8 bytes (Redis's strcmp), not like UTF-16 code units", () => {
    expect(compareIds("\uFF01", "\u{1F600}")).toBeLessThan(0);
    expect("\uFF01" < "\u{1F600}").toBe(false); // what `<` would say
    expect(compareIds("a", "b")).toBeLessThan(0);
    expect(compareIds("B", "a")).toBeLessThan(0);
    expect(compareIds("ab", "a")).toBeGreaterThan(0);
    expect(compareIds("x", "x")).toBe(0);
  });

  it("agrees with the UTF-8 byte order on mixed ids", () => {
    const alphabet = ["a", "Z", "0", "-", "é", "ß", "\u4e2d", "\uD7FF", "\uE000", "\uFF01", "\uFFFD", "\u{10000}", "\u{1F600}", "\u{10FFFF}"];
    const ids: string[] = [];
    for (const x of alphabet) for (const y of alphabet) ids.push(x + y, x);
    const mismatches: string[] = [];
    for (const a of ids) {
      for (const b of ids) if (Math.sign(compareIds(a, b)) !== Math.sign(utf8Order(a, b))) mismatches.push(`${a} vs ${b}`);
    }
    expect(mismatches).toEqual([]);
    const byKey = [...ids].sort((a, b) => (idSortKey(a) < idSortKey(b) ? -1 : idSortKey(a) > idSortKey(b) ? 1 : 0));
    expect(byKey).toEqual([...ids].sort(utf8Order));
    expect(idSortKey("plain-ascii_1")).toBe("plain-ascii_1");
  });
});
