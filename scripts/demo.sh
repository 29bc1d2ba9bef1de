#!/usr/bin/env bash
# The main job (`npm run demo`): the demo stack against the reference backend, on a local file backend.
# The program is demo/index.ts (project file: Pulumi.yaml at the repository root); the change made behind Pulumi's
# back is demo/out-of-band-change.ts.
# No account, no cloud, no Docker. It installs what is missing, starts the backend, runs `pulumi up`, prints the
# outputs (secrets masked), changes settings behind Pulumi's back, shows that `oidc-drift` catches it, and runs
# oidc-drift again as a pipeline would: logged in with the OIDC auth the stack made, no stored Infisical credential.
#
#   npm run demo               # run it again at any time: the stack shows unchanged, then the drift and its repair
#   npm run demo -- --reset    # start from scratch: the demo's stack, its config and the backend's data are removed
#
# Everything it writes is in .data/demo/ (ignored by git): state/ (Pulumi's file backend), Pulumi.demo.yaml (the
# stack's config: Pulumi.yaml's stackConfigDir) and backend/ (the reference backend's data, port and logs).
# The backend keeps one port for the life of its data (every URL in the stack contains it): 127.0.0.1:4410 by default,
# DEMO_BACKEND_PORT=<port> to choose another on a first run (or with --reset); later runs reuse the recorded one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

reset=false
for arg in "$@"; do
  case "$arg" in
  --reset) reset=true ;;
  -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $arg (usage: npm run demo [-- --reset])" >&2; exit 1 ;;
  esac
done

demo_dir="$root/.data/demo"
state_dir="$demo_dir/state"
backend_dir="$demo_dir/backend"
port_file="$backend_dir/port"
default_port=4410

if $reset; then
  step "Starting from scratch (--reset)"
  # The backend's data goes with the stack: the stack's objects live only there, so there is nothing to destroy.
  # Also what earlier versions of the demo left (.data/demo-state, .data/demo-backend, Pulumi.demo.yaml at the root).
  rm -rf "$demo_dir" "$root/.data/demo-state" "$root/.data/demo-backend" "$root/Pulumi.demo.yaml"
  echo "removed $demo_dir (stack state and config, backend data)"
fi

step "Installing what is missing"
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund --loglevel=error
export PATH="$root/node_modules/.bin:$PATH"
tsc -p tsconfig.json
bash scripts/install-engine.sh
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
command -v pulumi >/dev/null || { echo "the Pulumi CLI is not on PATH after scripts/pulumi-env.sh" >&2; exit 1; }
# `npm run build` above type-checked the program already.
export PULUMI_NODEJS_TRANSPILE_ONLY=true

mkdir -p "$state_dir" "$backend_dir"
export PULUMI_BACKEND_URL="file://$state_dir"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-demo-passphrase}"

# ------------------------------------------------------------------------------------------- the backend's port
recorded_port=$(cat "$port_file" 2>/dev/null || true)
if [ -n "$recorded_port" ]; then
  port=$recorded_port
  if [ -n "${DEMO_BACKEND_PORT:-}" ] && [ "$DEMO_BACKEND_PORT" != "$recorded_port" ]; then
    echo "The demo's backend data and stack use port $recorded_port, not DEMO_BACKEND_PORT=$DEMO_BACKEND_PORT: every URL" >&2
    echo "in the stack contains the port. Start from scratch on the new port: DEMO_BACKEND_PORT=$DEMO_BACKEND_PORT npm run demo -- --reset" >&2
    exit 1
  fi
else
  port=${DEMO_BACKEND_PORT:-$default_port}
fi
port_free() {
  node -e 'const s = require("net").createServer();
    s.once("error", () => process.exit(1));
    s.listen(Number(process.argv[1]), "127.0.0.1", () => s.close(() => process.exit(0)));' "$1"
}
if [ "$port" != 0 ] && ! port_free "$port"; then
  echo "Port $port on 127.0.0.1 is in use (another program, or a demo or reference backend still running)." >&2
  if [ -n "$recorded_port" ]; then
    echo "The demo's stack was created against this port: stop what uses it and run 'npm run demo' again," >&2
    echo "or start from scratch on another port: DEMO_BACKEND_PORT=<port> npm run demo -- --reset" >&2
  else
    echo "Stop what uses it, or choose another port: DEMO_BACKEND_PORT=<port> npm run demo" >&2
  fi
  exit 1
fi

step "Starting the reference backend (Infisical + Unleash APIs on 127.0.0.1:$port)"
ready_file="$backend_dir/ready.json"
rm -f "$ready_file"
# The demo uses the backend's built-in OIDC issuer on 127.0.0.1, which Infisical refuses unless internal IP
# connections are allowed (ALLOW_INTERNAL_IP_CONNECTIONS, as on a self-hosted Infisical).
node dist/reference-backend/src/main.js --allow-internal-ip-connections --port "$port" --data-dir "$backend_dir/data" \
  > >(head -n 1 > "$ready_file"; cat > "$backend_dir/requests.log") 2> "$backend_dir/stderr.log" &
backend_pid=$!
trap 'kill $backend_pid 2>/dev/null || true; wait $backend_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$ready_file" ] && break; kill -0 $backend_pid 2>/dev/null || break; sleep 0.1; done
[ -s "$ready_file" ] || { echo "the reference backend did not start:"; cat "$backend_dir/stderr.log"; exit 1; }
ready() { node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(process.argv[2].split(".").reduce((o,k)=>o[k],r))' "$ready_file" "$1"; }
url=$(ready url)
# The port stays with the data (a first run with DEMO_BACKEND_PORT=0 records the one it got).
[ -n "$recorded_port" ] || echo "${url##*:}" > "$port_file"
echo "listening on $url (data: ${backend_dir#"$root"/}/data)"

step "Configuring the demo stack (credentials as Pulumi secrets)"
pulumi stack select --create demo --non-interactive >/dev/null
pulumi config set infisical:host "$(ready infisical.url)"
pulumi config set --secret infisical:clientId "$(ready infisical.universalAuth.clientId)"
pulumi config set --secret infisical:clientSecret "$(ready infisical.universalAuth.clientSecret)"
pulumi config set unleash:url "$(ready unleash.url)"
pulumi config set --secret unleash:apiToken "$(ready unleash.adminToken)"
pulumi config set demo:organizationId "$(ready infisical.organizationId)"
# The CI pipeline's machine identity: the org-admin identity whose universal auth this first run uses. The program gives
# it OIDC auth, with which the pipeline's runs log in afterwards (the last step).
ci_identity=$(ready infisical.organizations.0.automationIdentityId)
pulumi config set demo:identityId "$ci_identity"
pulumi config set demo:issuerUrl "$(ready issuer.url)"
# The OIDC client secrets are made up once: a new one on every run would update the resources every time.
random_hex() { node -e 'console.log(require("crypto").randomBytes(6).toString("hex"))'; }
pulumi config get demo:ssoClientSecret >/dev/null 2>&1 ||
  pulumi config set --secret demo:ssoClientSecret "demo-sso-client-secret-$(random_hex)"
pulumi config get demo:unleashClientSecret >/dev/null 2>&1 ||
  pulumi config set --secret demo:unleashClientSecret "demo-unleash-secret-$(random_hex)"

step "pulumi up (the program: demo/index.ts; the project: Pulumi.yaml)"
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

step "pulumi up --refresh puts the program's settings back (the repair oidc-drift printed)"
# A plain `pulumi up` would change nothing: the state still matches the program until a refresh reads the change.
pulumi up --refresh --stack demo --yes --skip-preview
node dist/cli/oidc-drift.js --stack demo --quiet

step "The loop closes: the pipeline logs in with the OIDC auth the stack made (no stored Infisical credential)"
# A token of the backend's built-in issuer, as GitHub Actions would mint for example-org/infra on main: it matches
# ci-login's bindings in demo/index.ts. The stored client id and secret are set aside (a pipeline has none): its
# `pulumi up` records the provider configuration without them, which the drift check (a refresh) then uses too.
# They are put back afterwards for the next `npm run demo`.
jwt=$(node -e 'fetch(process.argv[1], { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ sub: "repo:example-org/infra:ref:refs/heads/main", aud: "https://github.com/example-org",
      claims: { repository: "example-org/infra", ref: "refs/heads/main" }, expiresIn: 300 }) })
  .then((r) => r.json()).then((j) => console.log(j.id_token))' "$(ready issuer.mintUrl)")
pulumi config rm infisical:clientId
pulumi config rm infisical:clientSecret
echo "export INFISICAL_AUTH_METHOD=oidc INFISICAL_MACHINE_IDENTITY_ID=$ci_identity INFISICAL_AUTH_JWT=<a token of the issuer>"
set +e
(
  export INFISICAL_AUTH_METHOD=oidc INFISICAL_MACHINE_IDENTITY_ID="$ci_identity" INFISICAL_AUTH_JWT="$jwt"
  pulumi up --stack demo --yes --skip-preview && node dist/cli/oidc-drift.js --stack demo
)
pipeline_rc=$?
set -e
pulumi config set --secret infisical:clientId "$(ready infisical.universalAuth.clientId)"
pulumi config set --secret infisical:clientSecret "$(ready infisical.universalAuth.clientSecret)"
[ "$pipeline_rc" -eq 0 ] || { echo "the pipeline's run with the OIDC login failed (exit code $pipeline_rc)"; exit 1; }

step "Done"
echo "Program: demo/index.ts (project: Pulumi.yaml). State: ${demo_dir#"$root"/} (stack 'demo', backend on 127.0.0.1:$port)."
echo "Run 'npm run demo' again at any time: the stack shows unchanged, then the same drift and its repair."
echo "Start from scratch with 'npm run demo -- --reset'."
