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

# Names that drift between Debian and Ubuntu releases, or that left both: what to say after
# "does not exist on BASE" for a missing name, per "distribution:codename:name".
hint() {
    case "$ID:${VERSION_CODENAME:-}:$1" in
        debian:*:firefox)              echo "there it is called 'firefox-esr'" ;;
        debian:*:chromium-browser)     echo "there it is called 'chromium'" ;;
        debian:*:libasound2t64)        echo "there it is called 'libasound2'" ;;
        debian:*:xubuntu-icon-theme)   echo "there it is called 'elementary-xfce-icon-theme'" ;;
        debian:*:libgl1-mesa-glx)      echo "there it is called 'libgl1 libglx-mesa0'" ;;
        ubuntu:*:firefox-esr)          echo "there it is called 'firefox' (a snap stub on Ubuntu 22.04+; consider chromium or falkon)" ;;
        ubuntu:noble:libasound2|ubuntu:oracular:libasound2) echo "there it is called 'libasound2t64'" ;;
        ubuntu:*:libgl1-mesa-glx)      echo "there it is called 'libgl1 libglx-mesa0'" ;;
        # freeglut 3.4 split the old freeglut3 into the library and the headers.
        *:*:freeglut3)                 echo "there it is called 'libglut3.12' (the library; 'freeglut3-dev' for headers)" ;;
        *:*:python-tk)                 echo "there it is called 'python3-tk'" ;;
        *:*:python-*)                  echo "Python 2 packages are gone; try 'python3-${1#python-}'" ;;
        *:*:python)                    echo "there it is called 'python3'" ;;
        *:*:libgconf2-4|*:*:libgconf-2-4|*:*:gconf2|*:*:gconf-service)
                                       echo "GConf was removed from Debian and Ubuntu and has no replacement (apps moved to GSettings/dconf): drop the line" ;;
        *) ;;
    esac
}

apt-get -qq update
missing=0
for name in "$@"; do
    # apt-cache policy (and apt-get install) read a name that is no package as a pattern
    # ('libgtk2.0.0' finds 'libgtk2.0-0'): only the exact name counts.
    policy="$(apt-cache policy "$name" 2>/dev/null)"
    found="$(sed -n 's/^\([^ ].*\):$/\1/p' <<<"$policy" | head -n 1)"
    candidate="$(sed -n 's/^ *Candidate: *//p' <<<"$policy" | head -n 1)"
    if [[ "$found" == "$name" || "$found" == "${name%:*}" ]]; then
        if [[ -n "$candidate" && "$candidate" != "(none)" ]]; then
            continue
        fi
    elif [[ -n "$found" && -n "$candidate" && "$candidate" != "(none)" ]]; then
        echo "repo2desktop: error: $source_file: '$name' is not an exact package name on $base (apt would read it as a pattern and install '$found'); write '$found'" >&2
        missing=1
        continue
    fi
    # A virtual package (e.g. 'awk') has no candidate of its own but installs through a provider.
    if apt-cache showpkg "$name" 2>/dev/null | sed -n '1s/^Package: //p' | grep -qxF "$name" &&
       apt-cache showpkg "$name" 2>/dev/null | sed -n '/^Reverse Provides:/,$p' | tail -n +2 | grep -q .; then
        continue
    fi
    said="$(hint "$name")"
    echo "repo2desktop: error: $source_file: package '$name' does not exist on $base${said:+; $said}" >&2
    missing=1
done
rm -rf /var/lib/apt/lists/*
exit "$missing"
