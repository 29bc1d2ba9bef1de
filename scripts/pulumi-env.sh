# Sourced (not run) by scripts/test.sh, scripts/demo.sh and anyone running `pulumi` by hand in this repo:
#
#   source scripts/pulumi-env.sh
#
# Puts the engine built by scripts/install-engine.sh (.engine/v<version>/bin, version = the exact @pulumi/pulumi of
# package.json's devDependencies; the peer range is not a version) and the project's Node 24 (node_modules/.bin/node, from the `node` npm package) first on PATH, so that
# `pulumi`, its language host and the dynamic-provider process all run on Node 24 and not on an older system node.
# Also turns off everything in the CLI that would go to the network. It does not pick a backend or a passphrase:
# callers set PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE themselves.
_pulumi_env_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_pulumi_env_version="$(sed -n 's/^[[:space:]]*"@pulumi\/pulumi":[[:space:]]*"\([0-9][0-9.]*\)".*/\1/p' "$_pulumi_env_root/package.json" | head -n 1)"
if [ -z "$_pulumi_env_version" ]; then
  echo "pulumi-env.sh: cannot find @pulumi/pulumi in $_pulumi_env_root/package.json" >&2
else
  PULUMI_ENGINE_BIN="$_pulumi_env_root/.engine/v$_pulumi_env_version/bin"
  export PULUMI_ENGINE_BIN
  [ -x "$PULUMI_ENGINE_BIN/pulumi" ] ||
    echo "pulumi-env.sh: $PULUMI_ENGINE_BIN/pulumi is missing: run 'npm run install-engine'" >&2
  export PATH="$PULUMI_ENGINE_BIN:$_pulumi_env_root/node_modules/.bin:$PATH"
fi

# No network: no update check, no plugin downloads (every plugin the project needs is in the engine's bin folder).
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Pulumi's own state (plugins, credentials, workspace settings) stays in the repo unless the caller chose a place.
export PULUMI_HOME="${PULUMI_HOME:-$_pulumi_env_root/.pulumi-home}"
unset _pulumi_env_root _pulumi_env_version
