#!/usr/bin/env bash
# The whole product in about two minutes: installs what it needs (Docker engine, npm packages),
# builds kiboko, then deploys a small stack on the local engine, updates it under a request
# counter, rolls back a failing update, pauses a replica during traffic and starts the dashboard
# (scripts/demo.mjs); everything it creates is removed at the end and on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
exec node scripts/demo.mjs "$@"
