/**
 * The version of this vecrec build: package.json's `version`, read once from the package root (two
 * folders up from dist/src/version.js when built, one up from src/version.ts under tsx).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** package.json's version ("0.0.0-unknown" when no vecrec package.json is found above this file). */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "vecrec" && typeof pkg.version === "string") return (cached = pkg.version);
    } catch {
      // no package.json here: look one folder up
    }
    dir = dirname(dir);
  }
  return (cached = "0.0.0-unknown");
}
