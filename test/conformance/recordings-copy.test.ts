/**
 * test/conformance/recordings/ is a copy of the conformance recordings kept in `shared/conformance`
 * beside the repository (where they are recorded). When that folder is present, the copy must hold the
 * same files, byte for byte: no file missing or extra on either side. A fresh clone has no
 * `shared/` beside it; then this test is skipped and says why.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.resolve(here, "../../../shared/conformance");
const copy = path.resolve(here, "recordings");

const sharedMissing = !existsSync(shared);
if (sharedMissing) {
  console.log(`[conformance] recordings copy check skipped: ${shared} does not exist (no shared/ beside the repository)`);
}

/** Every file under `root`, as paths relative to it with "/" separators, sorted. */
function filesUnder(root: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...filesUnder(root, rel));
    else out.push(rel);
  }
  return out.sort();
}

describe.skipIf(sharedMissing)("test/conformance/recordings is an exact copy of ../shared/conformance", () => {
  it("holds the same files", () => {
    const inShared = filesUnder(shared);
    const inCopy = filesUnder(copy);
    const onlyShared = inShared.filter((f) => !inCopy.includes(f));
    const onlyCopy = inCopy.filter((f) => !inShared.includes(f));
    expect({ missingFromCopy: onlyShared, notInShared: onlyCopy }).toEqual({ missingFromCopy: [], notInShared: [] });
    expect(inShared.length).toBeGreaterThan(0);
  });

  it("holds them byte for byte", () => {
    const differing = filesUnder(shared)
      .filter((f) => existsSync(path.join(copy, f)))
      .filter((f) => !readFileSync(path.join(shared, f)).equals(readFileSync(path.join(copy, f))));
    expect(differing, `these files differ from ${shared}; copy them again`).toEqual([]);
  });
});
