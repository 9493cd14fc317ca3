#!/usr/bin/env bash
# Install the Debian/Ubuntu packages that desktop.yml lists under `packages:`.
# Run as root at image build time by repo2desktop's buildpack (a pre-assemble step, so it
# is cached until the list changes). A name this distribution does not have stops the build
# with that name and the base it was looked up on, instead of a page of apt output.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if (($# == 0)); then
    exit 0
fi

apt-get -qq update

base="$(. /etc/os-release && echo "${PRETTY_NAME:-$ID}")"
missing=()
for name in "$@"; do
    candidate="$(apt-cache policy "$name" 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
    if [[ -n "$candidate" && "$candidate" != "(none)" ]]; then
        continue
    fi
    # A purely virtual package (e.g. 'awk') has no candidate but installs through a provider.
    if apt-cache showpkg "$name" 2>/dev/null | sed -n '/^Reverse Provides:/,$p' | tail -n +2 | grep -q .; then
        continue
    fi
    missing+=("$name")
done
if ((${#missing[@]})); then
    echo "repo2desktop: desktop.yml packages: not found on $base: ${missing[*]}" >&2
    echo "repo2desktop: package names differ between Debian and Ubuntu releases (e.g. firefox-esr vs firefox)" >&2
    exit 1
fi

echo "repo2desktop: installing desktop.yml packages on $base: $*"
apt-get install --yes --no-install-recommends "$@"
apt-get -qq purge
apt-get -qq clean
rm -rf /var/lib/apt/lists/*
