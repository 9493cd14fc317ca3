#!/usr/bin/env bash
# configurable-http-proxy (the public front of `repo2desktop serve` and of JupyterHub), pinned,
# installed with npm into a project-local prefix. Idempotent: does nothing when the pinned
# version is already there. Usage: scripts/install-chp.bash [PREFIX] [VERSION]
set -euo pipefail
prefix=${1:-build/node}
version=${2:-5.3.0}
chp="$prefix/node_modules/.bin/configurable-http-proxy"

if [ -x "$chp" ] && [ "$("$chp" --version 2>/dev/null)" = "$version" ]; then
  echo "configurable-http-proxy $version: present ($chp)"
  exit 0
fi
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-chp: npm is missing; run as root (apt-get install nodejs npm) first" >&2
    exit 1
  fi
  echo "install-chp: installing nodejs and npm (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
fi
mkdir -p "$prefix"
npm install --prefix "$prefix" --no-fund --no-audit --loglevel=error "configurable-http-proxy@$version"
echo "configurable-http-proxy $("$chp" --version): $chp"
