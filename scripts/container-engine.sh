# Sourced by scripts/backend-image.sh and scripts/backend-container.sh: picks the container engine.
#
#   source scripts/container-engine.sh    # sets CONTAINER_ENGINE (docker | podman) and defines `engine ...`
#
# Docker when its daemon answers, else podman. CONTAINER_ENGINE=docker|podman forces one. Podman runs with Debian's
# runc and the cgroupfs manager (crun refuses the hybrid cgroups of the project's machines, and there is no systemd
# to manage cgroups) and, for builds and containers, the low ulimits those machines accept.
# Returns 3 (no engine) with a message on stderr when neither works.
BACKEND_IMAGE_NAME="localhost/oidc-reference-backend"
BACKEND_IMAGE_VERSION="$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../package.json" | head -n 1)"
BACKEND_IMAGE="$BACKEND_IMAGE_NAME:$BACKEND_IMAGE_VERSION"
# Only the limits these machines accept (higher ones are refused); enough for the backend and for npm.
CONTAINER_ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

_podman_global_flags=()
_container_engine_pick() {
    if [ -n "${CONTAINER_ENGINE:-}" ]; then
        command -v "$CONTAINER_ENGINE" >/dev/null || { echo "CONTAINER_ENGINE=$CONTAINER_ENGINE is not installed" >&2; return 3; }
    elif command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; then
        CONTAINER_ENGINE=docker
    elif command -v podman >/dev/null; then
        CONTAINER_ENGINE=podman
    else
        echo "no container engine: neither a Docker daemon (docker info) nor podman. On Debian: apt-get install podman runc" >&2
        return 3
    fi
    if [ "$CONTAINER_ENGINE" = podman ]; then
        command -v runc >/dev/null && _podman_global_flags+=(--runtime runc)
        _podman_global_flags+=(--cgroup-manager=cgroupfs)
    fi
    export CONTAINER_ENGINE
}

engine() {
    if [ "$CONTAINER_ENGINE" = podman ]; then
        podman "${_podman_global_flags[@]}" "$@"
    else
        docker "$@"
    fi
}

engine_image_exists() {
    engine image inspect "$1" >/dev/null 2>&1
}

_container_engine_pick
