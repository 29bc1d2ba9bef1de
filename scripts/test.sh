#!/usr/bin/env bash
# The project's one test command (`npm test`): build, make sure the Pulumi engine is there, run every jest suite,
# and end with the plain line "N passed, N failed" that CI reads.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

[ -x node_modules/.bin/node ] || { echo "node_modules is missing: run 'npm ci' first" >&2; exit 1; }
echo "node $(node --version) ($(command -v node))"

t0=$(date +%s)
tsc -p tsconfig.json || { echo "0 passed, 1 failed"; exit 1; }
echo "[test] build: $(( $(date +%s) - t0 ))s"

# The end-to-end suites need the real engine. CI (CI=true) always installs it and the suites then require it;
# locally SKIP_ENGINE_INSTALL=1 skips the install and the suites skip themselves with a message.
if [ "${SKIP_ENGINE_INSTALL:-}" != "1" ]; then
  t1=$(date +%s)
  bash scripts/install-engine.sh || { echo "engine install failed"; echo "0 passed, 1 failed"; exit 1; }
  echo "[test] engine: $(( $(date +%s) - t1 ))s"
fi
# shellcheck source=scripts/pulumi-env.sh
[ -f scripts/pulumi-env.sh ] && source scripts/pulumi-env.sh

results="$(mktemp -d)/jest.json"
t2=$(date +%s)
jest --json --outputFile="$results" "$@"
rc=$?
echo "[test] jest: $(( $(date +%s) - t2 ))s"
if [ -s "$results" ]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    // A suite that fails to load has no test results: count it as a failure so it cannot hide.
    const brokenSuites = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests + brokenSuites} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$results"
else
  echo "0 passed, 1 failed"
  [ $rc -eq 0 ] && rc=1
fi
exit $rc
