#!/usr/bin/env bash
# Start a Docker daemon on a machine that has none (no systemd, only a client).
# Idempotent: exits 0 at once when a daemon already answers. Run as root.
#
# We always use Debian's /usr/bin/docker: its 20.10 CLI has BuildKit built in,
# which repo2docker's Dockerfile needs (COPY --chmod), and no buildx plugin is
# available on these machines.
set -euo pipefail

DOCKER=/usr/bin/docker
STATE_DIR="${REPO2DESKTOP_STATE:-/var/tmp/repo2desktop}"
LOG="$STATE_DIR/dockerd.log"
WAIT_SECONDS=60

daemon_answers() {
    [[ -x "$DOCKER" ]] && "$DOCKER" info >/dev/null 2>&1
}

if daemon_answers; then
    echo "dockerd already running"
    exit 0
fi

if [[ $EUID -ne 0 ]]; then
    echo "start-dockerd.bash: must run as root" >&2
    exit 1
fi

# docker.io brings both dockerd and the BuildKit-capable /usr/bin/docker CLI.
if [[ ! -x /usr/sbin/dockerd || ! -x "$DOCKER" ]]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # iptables, containerd, runc are hard dependencies; recommends (needrestart,
    # apparmor, ...) are not needed in a container-less root environment.
    apt-get install -y -qq --no-install-recommends docker.io
fi

mkdir -p "$STATE_DIR"
# Detach from this shell (setsid, no stdin) so the daemon outlives the caller.
setsid /usr/sbin/dockerd >>"$LOG" 2>&1 </dev/null &
echo "dockerd started (pid $!), log: $LOG"

for ((i = 0; i < WAIT_SECONDS; i++)); do
    if daemon_answers; then
        echo "dockerd answers after ${i}s"
        exit 0
    fi
    sleep 1
done

echo "start-dockerd.bash: dockerd did not answer within ${WAIT_SECONDS}s; log tail:" >&2
tail -n 40 "$LOG" >&2 || true
exit 1
