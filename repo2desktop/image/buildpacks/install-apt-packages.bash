#!/usr/bin/env bash
# Install the Debian/Ubuntu packages that desktop.yml lists under `packages:`.
# Run as root at image build time by repo2desktop's buildpack (a pre-assemble step, so it
# is cached until the list changes). Names are checked first (check-apt-packages.bash), so
# a missing one stops the build with its name and the base distribution.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
(($#)) || exit 0

bash "$(dirname "$0")/check-apt-packages.bash" desktop.yml "$@"
echo "repo2desktop: installing desktop.yml packages: $*"
apt-get -qq update
apt-get install --yes --no-install-recommends "$@"
apt-get -qq purge
apt-get -qq clean
rm -rf /var/lib/apt/lists/*
