#!/usr/bin/env bash
# Shared set-up of the demo and the tests: a running Docker engine, the npm packages, a build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
