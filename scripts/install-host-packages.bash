#!/usr/bin/env bash
# Install the Debian packages the host desktop, the browser tests and the image builds need.
# Idempotent: only calls apt-get when something is missing. Run as root.
#   install-host-packages.bash           what `make test` and `make demo` run
#   install-host-packages.bash --bench   that, plus the peers' packages `make bench` runs on the host
#   install-host-packages.bash --check   install nothing: name what is missing on one line, exit 1
set -euo pipefail
mode=${1:-install}

packages=(
  # the desktop stack (same names on Debian 12 and Ubuntu 24.04)
  tightvncserver tigervnc-standalone-server xinit supervisor novnc openbox xterm xfonts-base
  x11-xserver-utils x11-utils xdotool tint2 feh mesa-utils
  # the clipboard: TightVNC's bridge (autocutsel), and what the tests read and set it with
  autocutsel xclip xsel
  # real idleness: the X server's idle time (libXss), read by repo2desktop/jupyter/idle.py
  libxss1
  # window_manager: xfce4 on the host (the quick benchmark's TigerVNC + xfce4 round, tests)
  xfce4-session xfwm4 xfce4-panel xfdesktop4 xfce4-terminal dbus-x11 thunar librsvg2-common
  # what Qt applications need to open windows (desktop.yml qt: true, the default)
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
  libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
  # audio: true (the sound server, ALSA through it, paplay/parec, the Opus encoder)
  pipewire wireplumber pipewire-alsa pulseaudio-utils libopus0
  # the browser the tests drive through Playwright
  chromium
  # the image builds: a Docker engine with BuildKit in its CLI, and a local base image
  docker.io debootstrap
)
if [ "$mode" = --bench ]; then
  # make bench's peers on the host: JRDP (TigerVNC + xfce4 via dbus-launch) and Selkies (Xvfb,
  # PulseAudio), as their documentation names them
  packages+=(xvfb pulseaudio)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "host packages: all ${#packages[@]} present"
  exit 0
fi
if [ "$mode" = --check ]; then
  echo "missing Debian packages: ${missing[*]} (run: bash scripts/install-host-packages.bash)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-host-packages: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "host packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
