#!/usr/bin/env bash
# Check that every package name exists on this image's distribution, before apt-get install.
# Usage: check-apt-packages.bash SOURCE NAME...   (SOURCE: where the names came from)
# A missing name stops the build with one line per name, naming the base distribution, and
# a hint where a known rename applies, instead of a page of apt output. Run as root.
set -euo pipefail
source_file=${1:?usage: check-apt-packages.bash SOURCE NAME...}
shift
(($#)) || exit 0

. /etc/os-release
base="${PRETTY_NAME:-$ID}"

# Names that drift between Debian and Ubuntu releases: "missing=replacement" per distribution.
hint() {
    case "$ID:${VERSION_CODENAME:-}:$1" in
        debian:*:firefox)              echo "firefox-esr" ;;
        debian:*:chromium-browser)     echo "chromium" ;;
        debian:*:libasound2t64)        echo "libasound2" ;;
        debian:*:xubuntu-icon-theme)   echo "elementary-xfce-icon-theme" ;;
        debian:*:libgl1-mesa-glx)      echo "libgl1 libglx-mesa0" ;;
        ubuntu:*:firefox-esr)          echo "firefox (a snap stub on Ubuntu 22.04+; consider chromium or falkon)" ;;
        ubuntu:noble:libasound2|ubuntu:oracular:libasound2) echo "libasound2t64" ;;
        ubuntu:*:libgl1-mesa-glx)      echo "libgl1 libglx-mesa0" ;;
        *:*:python)                    echo "python3" ;;
        *) ;;
    esac
}

apt-get -qq update
missing=0
for name in "$@"; do
    candidate="$(apt-cache policy "$name" 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
    if [[ -n "$candidate" && "$candidate" != "(none)" ]]; then
        continue
    fi
    # A virtual package (e.g. 'awk') has no candidate of its own but installs through a provider.
    if apt-cache showpkg "$name" 2>/dev/null | sed -n '/^Reverse Provides:/,$p' | tail -n +2 | grep -q .; then
        continue
    fi
    replacement="$(hint "$name")"
    echo "repo2desktop: error: $source_file: package '$name' does not exist on $base${replacement:+; there it is called '$replacement'}" >&2
    missing=1
done
rm -rf /var/lib/apt/lists/*
exit "$missing"
