#!/usr/bin/env bash
# `npm run backend:container -- <flags>`: runs the reference backend image (npm run backend:image) in the foreground.
# The flags are the backend's own (npm run backend -- --help); the first stdout line is the same JSON ready line as
# `npm run backend`, then one JSON line per request. SIGINT/SIGTERM stop it cleanly (the engine passes them on to
# the backend, which flushes its state and exits 0).
#
#   npm run backend:container -- --port 4400
#
# It runs on the host's network and listens on 127.0.0.1 (unless --host says otherwise), so the URLs it advertises
# work from the host and from inside the container alike. The state lives in a named volume on /data:
#   BACKEND_CONTAINER_VOLUME   volume name (default oidc-reference-backend-data); `<engine> volume rm` it to start over
#   BACKEND_CONTAINER_NAME     container name (default oidc-reference-backend)
#   BACKEND_CONTAINER_ENV      extra environment, e.g. "ALLOW_INTERNAL_IP_CONNECTIONS=true REFERENCE_BACKEND_QUIET=1"
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/container-engine.sh
source scripts/container-engine.sh || exit 3

engine_image_exists "$BACKEND_IMAGE" || { echo "no image $BACKEND_IMAGE: run 'npm run backend:image' first" >&2; exit 1; }

# The image's health check asks REFERENCE_BACKEND_PORT: keep it equal to the --port given.
port=4400
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[$i]}" in
    --port) port="${args[$((i + 1))]:-$port}" ;;
    --port=*) port="${args[$i]#--port=}" ;;
    esac
done

run_flags=(run --rm --name "${BACKEND_CONTAINER_NAME:-oidc-reference-backend}" --network=host
    -v "${BACKEND_CONTAINER_VOLUME:-oidc-reference-backend-data}:/data" -e "REFERENCE_BACKEND_PORT=$port"
    "${CONTAINER_ULIMITS[@]}")
for kv in ${BACKEND_CONTAINER_ENV:-}; do run_flags+=(-e "$kv"); done
# Podman runs health checks through systemd timers, which these machines do not have: it would only log errors.
[ "$CONTAINER_ENGINE" = podman ] && run_flags+=(--no-healthcheck)
# docker and podman both forward SIGINT/SIGTERM to the container's process (--sig-proxy, on by default when attached);
# exec so that they reach the engine's client directly.
exec_engine() {
    if [ "$CONTAINER_ENGINE" = podman ]; then exec podman "${_podman_global_flags[@]}" "$@"; else exec docker "$@"; fi
}
exec_engine "${run_flags[@]}" "$BACKEND_IMAGE" --host 127.0.0.1 "$@"
