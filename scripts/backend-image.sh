#!/usr/bin/env bash
# `npm run backend:image`: builds the reference backend image localhost/oidc-reference-backend:<package version>
# from reference-backend/Dockerfile, with docker or podman (scripts/container-engine.sh), and prints its size.
#
#   npm run backend:image                         # base: node:24-slim if Docker Hub answers, else an offline base
#   BACKEND_BASE_IMAGE=<image> npm run backend:image   # any base with Node >= 22, npm and a user "node"
#
# The offline base (localhost/oidc-reference-backend-base:bookworm-node<version>) is Debian bookworm (debootstrap
# --variant=minbase, from the mirror the machine's apt already uses) plus the Node binary of the `node` npm package
# this project installs and the machine's npm. It needs root and debootstrap, takes about a minute, and is kept in
# the engine's image store: later builds reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=scripts/container-engine.sh
source scripts/container-engine.sh || exit 3
t0=$(date +%s)
phase() { echo "[backend:image] $1 ($(( $(date +%s) - t0 ))s)"; }

hub_reachable() {
    # Docker Hub's registry answers an anonymous /v2/ with 401 and a token realm; a proxy's refusal page does not.
    "$root/node_modules/.bin/node" -e '
      fetch("https://registry-1.docker.io/v2/", { signal: AbortSignal.timeout(5000) })
        .then((r) => process.exit(r.status === 401 && /realm=/.test(r.headers.get("www-authenticate") ?? "") ? 0 : 1), () => process.exit(1));' 2>/dev/null
}

# The first http(s) URI of the main Debian archive (not security, not updates-only) in the apt sources.
apt_mirror() {
    local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
    local f mirror=""
    for f in "${files[@]}"; do
        [ -f "$f" ] || continue
        case "$f" in
        *.sources)
            # deb822: a stanza whose Suites include the release itself.
            mirror=$(awk -v RS= '/Suites:[^\n]*(bookworm|stable)( |\n|$)/ && /URIs:/ && !/debian-security/ { match($0, /URIs:[ \t]*[^ \t\n]+/); u = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u; exit }' "$f") ;;
        *)
            mirror=$(awk '$1 == "deb" && $3 ~ /^(bookworm|stable)$/ && $2 !~ /security/ { print $2; exit }' "$f") ;;
        esac
        [ -n "$mirror" ] && break
    done
    echo "${mirror:-http://deb.debian.org/debian}"
}

build_offline_base() {
    local tag=$1 node_bin npm_dir work rootfs file_head
    [ "$(id -u)" = 0 ] || { echo "building the offline base needs root (debootstrap); or set BACKEND_BASE_IMAGE" >&2; exit 1; }
    command -v debootstrap >/dev/null || { echo "building the offline base needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
    node_bin=$(readlink -f node_modules/.bin/node)
    file_head=$(head -c 4 "$node_bin" | od -An -c | tr -d ' ')
    [ "$file_head" = '177ELF' ] || { echo "$node_bin is not a Node binary: run npm ci" >&2; exit 1; }
    npm_dir="$(npm root -g)/npm"
    [ -f "$npm_dir/bin/npm-cli.js" ] || { echo "npm is not installed in $npm_dir" >&2; exit 1; }

    work="$root/.data/backend-image"
    rootfs="$work/rootfs"
    rm -rf "$rootfs"
    mkdir -p "$work"
    local mirror
    mirror=$(apt_mirror)
    phase "debootstrap --variant=minbase bookworm from $mirror"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 ||
        { tail -n 20 "$work/debootstrap.log" >&2; echo "debootstrap failed (log: $work/debootstrap.log)" >&2; exit 1; }
    # What a slim image leaves out: package caches and lists, documentation, man pages, translations.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
        "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log
    install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
    mkdir -p "$rootfs/usr/local/lib/node_modules"
    cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
    # The unprivileged user of the official node images (uid/gid 1000), which the Dockerfile runs as.
    echo "node:x:1000:1000::/home/node:/bin/bash" >> "$rootfs/etc/passwd"
    echo "node:x:1000:" >> "$rootfs/etc/group"
    echo "node:*:19000:0:99999:7:::" >> "$rootfs/etc/shadow"
    install -d -o 1000 -g 1000 -m 0755 "$rootfs/home/node"

    phase "importing the base as $tag"
    tar -C "$rootfs" --numeric-owner -c . | engine import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["node"]' - "$tag" >/dev/null
    rm -rf "$rootfs"
}

# ------------------------------------------------------------------------------------------------ the base
base="${BACKEND_BASE_IMAGE:-}"
if [ -z "$base" ]; then
    hub_base="docker.io/library/node:24-slim"
    node_version=$(node_modules/.bin/node --version)
    offline_base="localhost/oidc-reference-backend-base:bookworm-node${node_version#v}"
    if engine_image_exists "$hub_base"; then
        base=$hub_base
    elif engine_image_exists "$offline_base"; then
        base=$offline_base
        phase "offline base $base (cached)"
    elif hub_reachable; then
        base=$hub_base
    else
        echo "[backend:image] Docker Hub is not reachable: building an offline base (Debian bookworm + Node ${node_version})"
        build_offline_base "$offline_base"
        base=$offline_base
        phase "offline base built"
    fi
fi
echo "[backend:image] $CONTAINER_ENGINE, base $base"

# ------------------------------------------------------------------------------------------------ the image
# The CA bundle the host's Node and npm trust (a TLS-inspecting proxy's CA, for one), for npm in the build stage:
# a build secret, so it is in no layer. An empty file when there is none.
host_ca="${NODE_EXTRA_CA_CERTS:-}"
[ -n "$host_ca" ] && [ -r "$host_ca" ] || host_ca="$(npm config get cafile 2>/dev/null || true)"
if [ -z "$host_ca" ] || [ "$host_ca" = null ] || [ "$host_ca" = undefined ] || [ ! -r "$host_ca" ]; then
    mkdir -p .data && host_ca=.data/no-extra-ca.crt && : > "$host_ca"
fi
build_flags=(-f reference-backend/Dockerfile --build-arg "NODE_IMAGE=$base"
    --build-arg "NPM_CONFIG_REGISTRY=$(npm config get registry)" --secret "id=host_ca,src=$host_ca" -t "$BACKEND_IMAGE")
if [ "$CONTAINER_ENGINE" = podman ]; then
    # Docker format keeps the HEALTHCHECK; podman does not read <Dockerfile>.dockerignore by itself.
    build_flags+=(--format docker --network=host "${CONTAINER_ULIMITS[@]}" --ignorefile reference-backend/Dockerfile.dockerignore)
fi
phase "building $BACKEND_IMAGE"
engine build "${build_flags[@]}" .
size=$(engine image inspect --format '{{.Size}}' "$BACKEND_IMAGE")
phase "built $BACKEND_IMAGE"
echo "[backend:image] size: $(( size / 1000000 )) MB ($size bytes)"
