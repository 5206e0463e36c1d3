#!/usr/bin/env bash
# The whole test suite, installing what it needs: a Docker engine (Debian's docker.io, started
# when no socket answers), the npm dependencies, a fresh build; then type checks, the unit
# tests and the real-engine tests. Ends with one plain line: "N passed, N failed, N skipped" (and the files that failed, if any).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/prepare.sh
npx tsc -p tsconfig.test.json --noEmit
# Module boundaries: no cycles, no deep imports, layers one way (.dependency-cruiser.cjs, docs/internals.md).
npx depcruise src --config .dependency-cruiser.cjs --output-type err
# Size limits: no file in src/ over 500 lines, no function over 100 (ports of Go's library excepted).
node scripts/check-size.mjs

mkdir -p .test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json "$@" || status=$?

node -e '
  const r = require("./.test-results/vitest.json");
  const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
  // A file can fail outside its tests (a hook timed out, an import threw): named too, not "0 failed".
  const files = r.testResults.filter((f) => f.status === "failed").map((f) => require("node:path").relative(process.cwd(), f.name));
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped${files.length ? `; ${files.length} file(s) failed: ${files.join(", ")}` : ""}`);
  if (r.numTotalTests === 0) { console.error("no tests ran"); process.exit(1); }
' || status=1
exit "$status"
