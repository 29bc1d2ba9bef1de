#!/usr/bin/env bash
# The main job (`npm run demo`): the demo stack against the reference backend, on a local file backend.
# No account, no cloud, no Docker. It installs what is missing, starts the backend, runs `pulumi up`, prints the
# outputs (secrets masked), changes settings behind Pulumi's back, and shows that `oidc-drift` catches it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Installing what is missing"
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund --loglevel=error
export PATH="$root/node_modules/.bin:$PATH"
tsc -p tsconfig.json
bash scripts/install-engine.sh
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
# `npm run build` above type-checked the program already.
export PULUMI_NODEJS_TRANSPILE_ONLY=true

# Everything the demo writes stays in ignored folders of the repo.
state_dir="$root/.data/demo-state"
backend_dir="$root/.data/demo-backend"
mkdir -p "$state_dir" "$backend_dir"
export PULUMI_BACKEND_URL="file://$state_dir"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-demo-passphrase}"

step "Starting the reference backend (Infisical + Unleash APIs on 127.0.0.1)"
ready_file="$backend_dir/ready.json"
rm -f "$ready_file"
node dist/reference-backend/src/main.js --allow-internal-ip-connections --port "${DEMO_BACKEND_PORT:-0}" --data-dir "$backend_dir/data" \
  > >(head -n 1 > "$ready_file"; cat > "$backend_dir/requests.log") 2> "$backend_dir/stderr.log" &
backend_pid=$!
trap 'kill $backend_pid 2>/dev/null || true; wait $backend_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$ready_file" ] && break; sleep 0.1; done
[ -s "$ready_file" ] || { echo "the reference backend did not start:"; cat "$backend_dir/stderr.log"; exit 1; }
ready() { node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(process.argv[2].split(".").reduce((o,k)=>o[k],r))' "$ready_file" "$1"; }
url=$(ready url)
echo "listening on $url"

step "Configuring the demo stack (credentials as Pulumi secrets)"
pulumi stack select --create demo --non-interactive >/dev/null
pulumi config set infisical:host "$(ready infisical.url)"
pulumi config set --secret infisical:clientId "$(ready infisical.universalAuth.clientId)"
pulumi config set --secret infisical:clientSecret "$(ready infisical.universalAuth.clientSecret)"
pulumi config set unleash:url "$(ready unleash.url)"
pulumi config set --secret unleash:apiToken "$(ready unleash.adminToken)"
pulumi config set demo:organizationId "$(ready infisical.organizationId)"
pulumi config set demo:identityId "$(node -e 'const r=require(process.argv[1]); console.log(r.infisical.identityIds[r.infisical.identityIds.length-1])' "$ready_file")"
pulumi config set demo:issuerUrl "$(ready issuer.url)"
pulumi config set --secret demo:ssoClientSecret "demo-sso-client-secret-$(node -e 'console.log(require("crypto").randomBytes(6).toString("hex"))')"
pulumi config set --secret demo:unleashClientSecret "demo-unleash-secret-$(node -e 'console.log(require("crypto").randomBytes(6).toString("hex"))')"

step "pulumi up"
pulumi up --yes --skip-preview

step "Stack outputs (secrets stay masked)"
pulumi stack output

step "An admin changes settings outside Pulumi"
node dist/demo/out-of-band-change.js "$ready_file"

step "oidc-drift catches it (exit code 2 means drift)"
set +e
node dist/cli/oidc-drift.js --stack demo
drift_rc=$?
set -e
echo "oidc-drift exit code: $drift_rc"
[ "$drift_rc" -eq 2 ] || { echo "expected the drift to be reported"; exit 1; }

step "pulumi up puts the desired settings back"
pulumi up --yes --skip-preview --refresh
node dist/cli/oidc-drift.js --stack demo --quiet

step "Done"
echo "State: $state_dir (stack 'demo'). Run 'npm run demo' again at any time; it converges."
