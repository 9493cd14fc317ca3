#!/usr/bin/env bash
# Build a local stand-in for repo2docker's buildpack-deps base image.
# There is no container registry here, so `FROM buildpack-deps:...` cannot be
# pulled; we debootstrap Debian bookworm, import it, and add the packages
# repo2docker's Dockerfile template relies on. Idempotent. Needs dockerd
# (scripts/start-dockerd.bash) and root.
set -euo pipefail

DOCKER=/usr/bin/docker
BASE_IMAGE="${BASE_IMAGE:-repo2desktop/base:bookworm}"
SUITE=bookworm

if "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "base image $BASE_IMAGE already exists"
    exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi

WORK="$(mktemp -d /var/tmp/repo2desktop-base.XXXXXX)"
TMP_IMAGE="repo2desktop/base-rootfs:tmp-$$"
cleanup() {
    "$DOCKER" image rm -f "$TMP_IMAGE" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

start=$SECONDS
debootstrap --variant=minbase "$SUITE" "$WORK/rootfs" >"$WORK/debootstrap.log" 2>&1 || {
    tail -n 30 "$WORK/debootstrap.log" >&2
    exit 1
}
tar -C "$WORK/rootfs" -c . | "$DOCKER" import - "$TMP_IMAGE" >/dev/null

# Build context: the Dockerfile plus the host's trust store, so that pip and
# curl inside builds trust the same HTTPS endpoints as the host does.
mkdir -p "$WORK/ctx"
cp /etc/ssl/certs/ca-certificates.crt "$WORK/ctx/host-trust.crt"
cat >"$WORK/ctx/Dockerfile" <<EOF
FROM $TMP_IMAGE
ENV DEBIAN_FRONTEND=noninteractive
# What buildpack-deps provides and repo2docker's template/buildpacks call.
RUN apt-get update -qq \\
 && apt-get install -y -qq --no-install-recommends \\
      ca-certificates curl wget git procps less unzip bzip2 xz-utils file \\
      gettext-base locales python3 python3-venv python3-pip \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY host-trust.crt /usr/local/share/ca-certificates/host-trust.crt
RUN update-ca-certificates >/dev/null
CMD ["/bin/bash"]
EOF

# The engine's default network reaches the package mirrors; host networking only when
# REPO2DESKTOP_BUILD_NETWORK=host asks for it (as for repository builds).
DOCKER_BUILDKIT=1 "$DOCKER" build ${REPO2DESKTOP_BUILD_NETWORK:+--network "$REPO2DESKTOP_BUILD_NETWORK"} --progress plain \
    -t "$BASE_IMAGE" "$WORK/ctx" >"$WORK/build.log" 2>&1 || {
    tail -n 40 "$WORK/build.log" >&2
    exit 1
}

size="$("$DOCKER" image inspect -f '{{.Size}}' "$BASE_IMAGE")"
echo "built $BASE_IMAGE ($((size / 1000000)) MB) in $((SECONDS - start))s"
