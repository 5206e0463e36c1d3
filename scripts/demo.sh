#!/usr/bin/env bash
# Quick-start demo: installs what it needs (Docker engine, npm packages), builds kiboko, then
# starts a few demo containers on the local engine and runs chaos experiments against them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
exec node scripts/demo.mjs "$@"
