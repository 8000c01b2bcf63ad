#!/usr/bin/env bash
# Regenerates src/gen/ from proto/ (TypeScript via ts-proto, and the descriptor set served by reflection).
# With --check, fails when the committed src/gen/ differs from what the protos generate.
set -euo pipefail
cd "$(dirname "$0")/.."
buf="node_modules/.bin/buf"
if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp -r src/gen "$tmp/before"
  bash scripts/gen.sh
  if ! diff -r "$tmp/before" src/gen >/dev/null; then
    diff -r "$tmp/before" src/gen | head -40
    echo "src/gen/ is stale: run 'npm run gen' and commit the result" >&2
    exit 1
  fi
  echo "src/gen/ is up to date"
  exit 0
fi
"$buf" lint
"$buf" generate
# The descriptor set reflection serves: every file with its imports and comments, exactly as buf built it.
"$buf" build -o src/gen/vecrec.binpb
