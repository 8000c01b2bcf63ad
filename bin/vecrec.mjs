#!/usr/bin/env node
// The `vecrec` command: runs the built CLI (dist/src/cli/vecrec.js, after `npm run build`) when present
// and not older than src/cli, else the TypeScript sources through tsx (a fresh clone after `npm ci`).
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const built = path.join(root, "dist", "src", "cli", "vecrec.js");
// A build older than the CLI's sources (a clone that pulled after building) is not used.
const sources = path.join(root, "src", "cli");
const newestSource = existsSync(sources) ? Math.max(...readdirSync(sources).map((f) => statSync(path.join(sources, f)).mtimeMs)) : 0;
if (existsSync(built) && statSync(built).mtimeMs >= newestSource) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(path.join(root, "src", "cli", "vecrec.ts")).href);
}
