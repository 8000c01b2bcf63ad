import { describe, expect, it } from "vitest";
import {
  analyzeText,
  createTextTermsMatcher,
  DEFAULT_STOP_WORDS,
  isStopWord,
  stemWord,
  textMatches,
  tokenizeText,
} from "../../../src/domain/text-analysis.js";

describe("tokenizeText", () => {
  it("lower-cases and splits on whitespace", () => {
    expect(tokenizeText("The  Quick\tBrown\nFOX")).toEqual(["the", "quick", "brown", "fox"]);
  });

  it("splits on RediSearch's punctuation separators", () => {
    expect(tokenizeText("a,b.c<d>e{f}g[h]i\"j'k:l;m!n@o#p$q%r^s&t*u(v)w-x+y=z~1/2\\3|4?5`6")).toEqual([
      ..."abcdefghijklmnopqrstuvwxyz",
      ..."123456",
    ]);
  });

  it("keeps underscores and non-ASCII letters inside words", () => {
    expect(tokenizeText("snake_case Café 日本 naïve")).toEqual(["snake_case", "café", "日本", "naïve"]);
  });

  it("keeps a backslash-escaped separator inside the word", () => {
    expect(tokenizeText("sci\\-fi rocks")).toEqual(["sci-fi", "rocks"]);
    expect(tokenizeText("\\-x a\\,b\\,C end\\.")).toEqual(["-x", "a,b,c", "end."]);
    expect(tokenizeText("a\\b")).toEqual(["a", "b"]);
  });

  it("keeps stop words and gives nothing for blank or punctuation-only text", () => {
    expect(tokenizeText("the end")).toEqual(["the", "end"]);
    expect(tokenizeText("")).toEqual([]);
    expect(tokenizeText(" ,.;- ")).toEqual([]);
  });
});

describe("isStopWord", () => {
  it("knows RediSearch's default list, in any case", () => {
    for (const w of ["a", "is", "the", "an", "and", "with", "will", "was", "THE", "Such"]) expect(isStopWord(w), w).toBe(true);
    expect(DEFAULT_STOP_WORDS.size).toBe(33);
  });

  it("says no to other words", () => {
    for (const w of ["quick", "dog", "thee", "off", ""]) expect(isStopWord(w), w).toBe(false);
  });
});

describe("stemWord", () => {
  it("gives Snowball English (Porter2) stems", () => {
    const cases: [string, string][] = [
      ["dogs", "dog"],
      ["running", "run"],
      ["generously", "generous"],
      ["skies", "sky"],
      ["dying", "die"],
      ["computers", "comput"],
      ["fantasy", "fantasi"],
      ["agreed", "agre"],
      ["knightly", "knight"],
      ["news", "news"],
      ["proceed", "proceed"],
    ];
    for (const [word, stem] of cases) expect(stemWord(word), word).toBe(stem);
  });

  it("lower-cases before stemming", () => {
    expect(stemWord("Dogs")).toBe("dog");
  });
});

describe("textMatches", () => {
  // Descriptions and results of conformance 05-filters (steps 70-84) and 01-seed-blog (step 24).
  it("matches a single word (recorded @descr:(quick))", () => {
    expect(textMatches("the quick brown fox", ["quick"])).toBe(true);
    expect(textMatches("quick thinking computers", ["quick"])).toBe(true);
    expect(textMatches("a lazy dog sleeps all day", ["quick"])).toBe(false);
  });

  it("needs every word (recorded @descr:(quick brown))", () => {
    expect(textMatches("the quick brown fox", ["quick", "brown"])).toBe(true);
    expect(textMatches("quick brown dogs run", ["quick", "brown"])).toBe(true);
    expect(textMatches("brown bread and coffee", ["quick", "brown"])).toBe(false);
    expect(textMatches("quick thinking computers", ["quick", "brown"])).toBe(false);
  });

  it("matches words sharing a stem (recorded @descr:(dog) matching 'dogs')", () => {
    expect(textMatches("quick brown dogs run", ["dog"])).toBe(true);
    expect(textMatches("a lazy dog sleeps all day", ["dogs"])).toBe(true);
    expect(textMatches("reads books and comics on the train", ["comics"])).toBe(true);
    expect(textMatches("the quick brown fox", ["dog"])).toBe(false);
  });

  it("matches nothing for a query of stop words only (recorded @descr:(the))", () => {
    expect(textMatches("the quick brown fox", ["the"])).toBe(false);
    expect(textMatches("the the the", ["The", "and"])).toBe(false);
    expect(textMatches("anything", [])).toBe(false);
  });

  it("ignores stop words among other terms", () => {
    expect(textMatches("quick brown dogs run", ["the", "quick"])).toBe(true);
  });

  it("is case-insensitive on both sides", () => {
    expect(textMatches("Quick Brown FOX", ["fOx", "QUICK"])).toBe(true);
    expect(textMatches("CAFÉ au lait", ["café"])).toBe(true);
  });

  it("treats a trailing * as a prefix over indexed words (recorded @descr:(qu*))", () => {
    expect(textMatches("the quick brown fox", ["qu*"])).toBe(true);
    expect(textMatches("brown bread and coffee", ["qu*"])).toBe(false);
    // Stop words are not indexed, so a prefix cannot find them.
    expect(textMatches("the end", ["th*"])).toBe(false);
  });

  it("matches a document word that is the query word's stem, even when stemming is not idempotent", () => {
    // stem("agreed") = "agre" and stem("agre") = "agr": Redis looks up "agre" itself for "agreed".
    expect(textMatches("we agre", ["agreed"])).toBe(true);
    // ...but "agre" expands to agr/+agr, which "agreed" (+agre) is not indexed under.
    expect(textMatches("we agreed", ["agre"])).toBe(false);
    expect(textMatches("we agreed", ["agreeing"])).toBe(true);
  });

  it("does not match inside a word", () => {
    expect(textMatches("foxes and hounds", ["ox"])).toBe(false);
    expect(textMatches("sci-fi", ["sci"])).toBe(true);
  });
});

describe("createTextTermsMatcher", () => {
  it("can be reused over many analysed texts", () => {
    const match = createTextTermsMatcher(["running", "dog"]);
    const texts = ["dogs run fast", "the dog sleeps", "running dogs", "a runner"].map(analyzeText);
    expect(texts.map(match)).toEqual([true, false, true, false]);
  });

  it("leaves stop words out of the analysed text", () => {
    expect(analyzeText("The dog and the cats").words).toEqual(["dog", "cats"]);
    // Only words whose stem differs get a stem entry, like RediSearch's `+stem` terms.
    expect([...analyzeText("The dog and the cats").stems]).toEqual(["cat"]);
  });
});
