#!/usr/bin/env bash
# Installs the real Pulumi engine for the end-to-end tests and the demo, built from Go modules:
#
#   .engine/v<version>/bin/pulumi                          the CLI/engine, github.com/pulumi/pulumi/pkg/v3@v<version>
#   .engine/v<version>/bin/pulumi-language-nodejs          the Node.js language host (see "The language host" below)
#   .engine/v<version>/bin/pulumi-resource-pulumi-nodejs   the dynamic-provider shim shipped in node_modules/@pulumi/pulumi
#
# where <version> is the exact version of @pulumi/pulumi in package.json's devDependencies (the package's development
# version; users bring their own within its peer range). Needs Go (>= the `go` line of pkg's go.mod: 1.26.6 for
# 3.276.0), the Go module proxy, Node and `npm ci` done. No binary is downloaded from anywhere: everything is
# compiled here from the modules.
#
# Order of preference:
#   1. .engine/v<version>/bin is complete and its `pulumi version` matches: nothing to do.
#   2. A `pulumi` on PATH reports that version and has `pulumi-language-nodejs` beside it: copy those (hard links
#      where the file system allows). Not symbolic links: the CLI looks for its bundled plugins beside its resolved
#      executable, and would then find that install's pulumi-resource-pulumi-nodejs instead of the one here and warn
#      `using pulumi-resource-pulumi-nodejs from $PATH ... expected ...` on every command.
#   3. Build from the Go modules (cold: several minutes on 2 cores; warm Go caches: well under a minute).
#
# How the CLI is built: `go install github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v<version>` refuses because pkg's
# go.mod has `replace` directives. So a throwaway wrapper module (under .engine/, ignored) requires pkg/v3 and sdk/v3
# at v<version> and copies their non-local `replace` lines (a main module ignores its dependencies' replaces), then
# `go build`s the command with the version stamped in (the Automation API parses `pulumi version`).
#
# The language host (Plan B, and why): in current releases the Node.js language host is its own module,
# github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, and the Go module proxy that this project's
# machines reach does not serve it (403 "not available" for the list, @latest, the release version and pseudo-versions
# of the release commit). sdk/v3 up to v3.68.0 still contained the language host as the package
# sdk/v3/nodejs/cmd/pulumi-language-nodejs, so it is built from there, in a second wrapper module so that the two
# builds do not fight over the sdk version. This works because the host is a thin gRPC shim between the engine and
# `node @pulumi/pulumi/cmd/run` (run from the project's own @pulumi/pulumi), and both of its contracts are stable:
# the engine's LanguageRuntime protocol (the 3.276 engine falls back to the older RPCs) and the command line of
# cmd/run. Verified by the e2e suite (tests/e2e) and by the checks described in docs/engine.md, which also lists what
# the old host ignores (Pulumi.yaml runtime options). The host's version is stamped as its own (v3.68.0), so
# `pulumi about` tells the truth about it.
#
# Environment: GOFLAGS="-mod=mod -buildvcs=false", CGO_ENABLED=0 (static binaries, no C compiler needed). Go's module
# and build caches stay in their default places (~/go/pkg/mod, ~/.cache/go-build) so that a machine that keeps them
# rebuilds in seconds. ENGINE_FORCE_BUILD=1 skips steps 1 and 2.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# The language host's module version (see above): the newest sdk/v3 that the proxy serves and that still has the
# package (it lists nothing between v3.68.0 and v3.90.0, and v3.90.0 no longer has it).
LANGHOST_SDK_VERSION=v3.68.0
LANGHOST_PKG=github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
CLI_PKG=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

t_start=$(date +%s)
phase_start=$t_start
say() { echo "[engine] $*"; }
phase() {
  local now; now=$(date +%s)
  say "$1 ($(( now - phase_start ))s; total $(( now - t_start ))s)"
  phase_start=$now
}
die() { echo "[engine] ERROR: $*" >&2; exit 1; }

# --- which version ----------------------------------------------------------------------------------------------
[ -f node_modules/@pulumi/pulumi/package.json ] || die "node_modules/@pulumi/pulumi is missing: run 'npm ci' first"
node_bin=node
[ -x node_modules/.bin/node ] && node_bin="$root/node_modules/.bin/node"
command -v "$node_bin" >/dev/null || die "node is not installed"
version=$("$node_bin" -p 'require("./package.json").devDependencies["@pulumi/pulumi"]')
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "@pulumi/pulumi in package.json must be an exact version (x.y.z) to pick the engine, not '$version'"
installed=$("$node_bin" -p 'require("./node_modules/@pulumi/pulumi/package.json").version')
[ "$installed" = "$version" ] ||
  die "node_modules has @pulumi/pulumi $installed but package.json wants $version: run 'npm ci'"

engine_dir="$root/.engine/v$version"
bin="$engine_dir/bin"
want="v$version"
shim_src="$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
[ -f "$shim_src" ] || die "$shim_src is missing"

# The version `pulumi version` prints, or nothing. The Automation API reads this line.
cli_version() { "$1" version 2>/dev/null | head -n 1 | tr -d '[:space:]' || true; }

# .langhost records where the language host came from: the sdk version it was built from, or "path:<dir>" for a
# matching installed pulumi. A build from another language-host version is not reused.
complete() {
  local d=$1 origin
  origin=$(cat "$d/.langhost" 2>/dev/null || true)
  # A symbolic link (what earlier versions of this script made) makes the CLI warn about its plugins: redo it.
  [ -x "$d/pulumi" ] && [ ! -L "$d/pulumi" ] && [ ! -L "$d/pulumi-language-nodejs" ] &&
    [ -x "$d/pulumi-language-nodejs" ] && [ -e "$d/pulumi-resource-pulumi-nodejs" ] &&
    [ "$(cli_version "$d/pulumi")" = "$want" ] && { [ "$origin" = "$LANGHOST_SDK_VERSION" ] || [[ "$origin" == path:* ]]; }
}

install_shim() { # the shim is tied to node_modules, so it is refreshed every time
  cp "$shim_src" "$1/pulumi-resource-pulumi-nodejs"
  chmod +x "$1/pulumi-resource-pulumi-nodejs"
}

# --- 1. already installed ---------------------------------------------------------------------------------------
if [ "${ENGINE_FORCE_BUILD:-}" != "1" ] && complete "$bin"; then
  install_shim "$bin"
  say "Pulumi engine $want is already installed in ${bin#"$root"/} (reused; ENGINE_FORCE_BUILD=1 rebuilds it)"
  exit 0
fi

# --- 2. a matching pulumi on PATH -------------------------------------------------------------------------------
if [ "${ENGINE_FORCE_BUILD:-}" != "1" ]; then
  own=$( [ -d "$bin" ] && cd "$bin" && pwd -P || true)
  while IFS= read -r candidate; do
    dir=$(cd "$(dirname "$candidate")" && pwd -P)
    [ "$dir" = "$own" ] && continue
    if [ "$(cli_version "$candidate")" = "$want" ] && [ -x "$dir/pulumi-language-nodejs" ]; then
      rm -rf "$bin.tmp" && mkdir -p "$bin.tmp"
      for exe in pulumi pulumi-language-nodejs; do
        ln -f "$dir/$exe" "$bin.tmp/$exe" 2>/dev/null || cp "$dir/$exe" "$bin.tmp/$exe"
      done
      install_shim "$bin.tmp"
      echo "path:$dir" > "$bin.tmp/.langhost"
      rm -rf "$bin" && mv "$bin.tmp" "$bin"
      say "reusing pulumi $want from $dir (copied into ${bin#"$root"/})"
      exit 0
    fi
  done < <(type -ap pulumi 2>/dev/null || true)
fi

# --- 3. build from the Go modules -------------------------------------------------------------------------------
command -v go >/dev/null || die "Go is not installed: it is needed to build the Pulumi engine (see docs/engine.md)"
say "building Pulumi engine $want from Go modules with $(go version | cut -d' ' -f3-) (the first build takes minutes)"
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
build_root="$root/.engine/.build"
mkdir -p "$build_root"
work=$(mktemp -d "$build_root/v$version.XXXXXX")
trap 'rm -rf "$work" "$bin.tmp"; rmdir "$build_root" "$engine_dir" 2>/dev/null || true' EXIT

# The go.mod of a module version, as downloaded by the go command (this also fetches and verifies its zip).
gomod_of() {
  local json
  json=$(go mod download -json "$1") || true
  "$node_bin" -e '
    let j; try { j = JSON.parse(process.argv[1]); } catch { j = { Error: process.argv[1] }; }
    if (j.Error || !j.GoMod) { console.error(j.Error || "no go.mod"); process.exit(1); }
    console.log(j.GoMod)' "$json" || {
    echo "[engine] could not download $1 from the Go module proxy (GOPROXY=$(go env GOPROXY))" >&2; return 1; }
}

# A wrapper module requiring the given module versions, with their non-local replace directives copied over.
# (Every step checks its own status: `set -e` does not apply inside a function that is called with `||`.)
make_wrapper() {
  local dir=$1 mv gomod reps rep; shift
  mkdir -p "$dir" && cd "$dir" || return 1
  go mod init engine-build/wrapper >/dev/null 2>&1 || return 1
  for mv in "$@"; do
    gomod=$(gomod_of "$mv") || return 1
    go mod edit -require="$mv" || return 1
    # Copy `replace old[@v] => new@v` (not the local `=> ../dir` ones, which only make sense in pulumi's repo).
    reps=$(go mod edit -json "$gomod" | "$node_bin" -e '
      const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
      for (const r of m.Replace || []) {
        if (!r.New.Version) continue;
        console.log(`${r.Old.Path}${r.Old.Version ? "@" + r.Old.Version : ""}=${r.New.Path}@${r.New.Version}`);
      }') || return 1
    for rep in $reps; do go mod edit -replace="$rep" || return 1; done
  done
  cd "$root"
}

rm -rf "$bin.tmp" && mkdir -p "$bin.tmp"

make_wrapper "$work/cli" "github.com/pulumi/pulumi/pkg/v3@$want" "github.com/pulumi/pulumi/sdk/v3@$want" ||
  die "could not set up the wrapper module for the CLI"
make_wrapper "$work/langhost" "github.com/pulumi/pulumi/sdk/v3@$LANGHOST_SDK_VERSION" ||
  die "could not set up the wrapper module for the language host"
phase "wrapper modules ready: pkg/v3@$want + sdk/v3@$want (CLI), sdk/v3@$LANGHOST_SDK_VERSION (language host)"

( cd "$work/cli" && go build -p 2 -trimpath -ldflags "-s -w -X $VERSION_VAR=$want" -o "$bin.tmp/pulumi" "$CLI_PKG" ) ||
  die "building $CLI_PKG@$want failed"
phase "built pulumi $want"

( cd "$work/langhost" && go build -p 2 -trimpath -ldflags "-s -w -X $VERSION_VAR=$LANGHOST_SDK_VERSION" \
    -o "$bin.tmp/pulumi-language-nodejs" "$LANGHOST_PKG" ) ||
  die "building $LANGHOST_PKG@$LANGHOST_SDK_VERSION failed"
phase "built pulumi-language-nodejs ($LANGHOST_SDK_VERSION)"

install_shim "$bin.tmp"
echo "$LANGHOST_SDK_VERSION" > "$bin.tmp/.langhost"
got=$(cli_version "$bin.tmp/pulumi")
[ "$got" = "$want" ] || die "the built pulumi reports version '$got', expected $want"
rm -rf "$bin" && mv "$bin.tmp" "$bin"
say "installed Pulumi engine $want in ${bin#"$root"/} in $(( $(date +%s) - t_start ))s:"
ls -l "$bin" | tail -n +2 | awk '{ printf "[engine]   %-32s %6.1f MB\n", $NF, $5 / 1048576 }'
