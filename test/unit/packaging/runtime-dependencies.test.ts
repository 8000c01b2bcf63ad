/**
 * What the server and the CLI import at run time must be a runtime dependency: the Docker image (and any
 * `npm ci --omit=dev` install) has no devDependencies, so a package imported from src/ or bin/ but listed
 * only under devDependencies passes every test here and fails at the first start of the image. (It
 * happened: the generated code's @bufbuild/protobuf was a devDependency.) Type-only imports are erased by
 * the compiler and do not count.
 */
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../../..");
const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((file) => /\.(ts|mjs|js)$/.test(file) && !file.endsWith(".d.ts"))
    .map((file) => path.join(dir, file));
}

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`); undefined for relative paths. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/")) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Packages a file imports for their values: static imports and exports (not `import type`), dynamic imports. */
function runtimeImports(text: string): Set<string> {
  const found = new Set<string>();
  const statics = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?["']([^"']+)["']/gm;
  const dynamics = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
  for (const pattern of [statics, dynamics]) {
    for (const match of text.matchAll(pattern)) {
      const name = packageOf(match[1]!);
      if (name !== undefined) found.add(name);
    }
  }
  return found;
}

/**
 * Imports that only run in a development clone: bin/vecrec.mjs falls back to tsx when there is no build
 * (npm ci installs devDependencies there); an installed or containerised vecrec runs the build.
 */
const DEVELOPMENT_ONLY = new Set(["bin/vecrec.mjs: tsx"]);

describe("runtime dependencies", () => {
  it("every package src/ and bin/ import at run time is in package.json dependencies (or built into Node)", () => {
    const builtins = new Set(builtinModules);
    const missing: string[] = [];
    let checked = 0;
    for (const file of [...sources("src"), ...sources("bin")]) {
      for (const name of runtimeImports(readFileSync(path.join(root, file), "utf8"))) {
        checked++;
        if (name.startsWith("node:") || builtins.has(name) || name in manifest.dependencies || DEVELOPMENT_ONLY.has(`${file}: ${name}`)) continue;
        missing.push(`${file}: ${name}`);
      }
    }
    expect(checked).toBeGreaterThan(50); // the scan found the imports
    expect(missing).toEqual([]);
  });

  it("reads a file's imports as the compiler keeps them", () => {
    const text = [
      'import { a } from "kept-a";',
      'import type { B } from "erased-b";',
      'import * as c from "@scope/kept-c/sub";',
      'export { d } from "kept-d";',
      'import "kept-e";',
      'const f = await import("kept-f");',
      'import { g } from "./relative.js";',
    ].join("\n");
    expect([...runtimeImports(text)].sort()).toEqual(["@scope/kept-c", "kept-a", "kept-d", "kept-e", "kept-f"]);
  });
});
