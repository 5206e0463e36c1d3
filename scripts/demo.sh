#!/usr/bin/env bash
# Quick-start demo: installs what it needs (Docker engine, npm packages), builds kiboko, then
# starts a few demo containers on the local engine and runs chaos experiments against them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
exec node scripts/demo.mjs "$@"
