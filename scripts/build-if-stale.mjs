// `npm start`'s first step: runs `npm run build` only when dist/ is missing or older than what it is
// built from (src/, tsconfig*.json, package.json), so a second start (or `npm start -- --version`)
// costs a few file stats instead of a 13-19 s TypeScript build. Build output goes to stderr: stdout is
// the server's JSON log. Then package.json's start script `exec`s node, which replaces the shell, so
// the signals npm forwards reach the server (see README "Operate").
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUTPUTS = ["dist/src/main.js", "dist/src/gen/vecrec.binpb"];
const INPUTS = ["src", "tsconfig.json", "tsconfig.build.json", "package.json"];

/** The newest modification time (ms) under `path` (a file or a folder, walked), 0 when missing. */
function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const built = Math.min(...OUTPUTS.map((file) => newest(join(root, file)) || -Infinity));
const sources = Math.max(...INPUTS.map((file) => newest(join(root, file))));
if (built >= sources) process.exit(0);

process.stderr.write(built === -Infinity ? "vecrec: no build yet: building (npm run build)\n" : "vecrec: sources changed since the last build: rebuilding (npm run build)\n");
const npm = process.env.npm_execpath;
const result = npm
  ? spawnSync(process.execPath, [npm, "run", "--silent", "build"], { cwd: root, stdio: ["ignore", 2, 2] })
  : spawnSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: ["ignore", 2, 2], shell: process.platform === "win32" });
process.exit(result.status ?? 1);
