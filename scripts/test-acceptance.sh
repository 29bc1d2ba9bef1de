#!/usr/bin/env bash
# `npm run test:acceptance`: the acceptance suites against the real servers named by the environment (README,
# "Acceptance tests against real servers"). Builds (oidc-drift is run from dist/), makes sure the engine is there,
# then runs jest with jest.acceptance.config.js. Without INFISICAL_HOST / UNLEASH_URL every suite skips with a message.
# Extra arguments go to jest (e.g. a suite file: tests/acceptance/unleash.acceptance.ts).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
tsc -p tsconfig.json || exit 1
bash scripts/install-engine.sh || { echo "engine install failed" >&2; exit 1; }
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
exec jest -c jest.acceptance.config.js "$@"
