#!/usr/bin/env bash
# Install the Debian packages the host desktop, the browser tests and the image builds need.
# Idempotent: only calls apt-get when something is missing. Run as root.
set -euo pipefail

packages=(
  # the desktop stack (same names on Debian 12 and Ubuntu 24.04)
  tightvncserver tigervnc-standalone-server xinit supervisor novnc openbox xterm xfonts-base
  x11-xserver-utils x11-utils xdotool tint2 feh mesa-utils
  # what Qt applications need to open windows (desktop.yml qt: true, the default)
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
  libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
  # the browser the tests drive through Playwright
  chromium
  # the image builds: a Docker engine with BuildKit in its CLI, and a local base image
  docker.io debootstrap
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "host packages: all ${#packages[@]} present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-host-packages: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "host packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
