#!/usr/bin/env bash
# Builds kiboko/nettools:local from this host's tc/ip/iptables/nft (no registry needed).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/lib/images/index.js ] || npm run --silent build
node scripts/build-helper-images.mjs nettools
