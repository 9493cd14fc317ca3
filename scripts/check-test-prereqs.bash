#!/usr/bin/env bash
# Before the suite: is everything it needs here? One line per missing part, naming what installs
# it, and exit 1 — instead of a late assertion deep inside a tier (`make test` runs this after
# its set-up steps, so on a fresh machine a gap in those steps fails here, in seconds).
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
base=${BASE_IMAGE:-repo2desktop/base:bookworm}
docker=/usr/bin/docker
problems=()

bash scripts/install-host-packages.bash --check >/dev/null 2>/tmp/r2d-prereq.$$ ||
  problems+=("$(cat /tmp/r2d-prereq.$$)")
rm -f /tmp/r2d-prereq.$$
for command in Xtightvnc Xtigervnc xinit supervisord openbox xfce4-session dbus-launch chromium iptables autocutsel xclip; do
  command -v "$command" >/dev/null || problems+=("command $command not found (bash scripts/install-host-packages.bash)")
done
if ! "$docker" info >/dev/null 2>&1; then
  problems+=("dockerd does not answer (make engine)")
elif ! "$docker" image inspect "$base" >/dev/null 2>&1; then
  problems+=("base image $base is missing (make base-image)")
fi
[ -x build/node/node_modules/.bin/configurable-http-proxy ] ||
  problems+=("configurable-http-proxy not in build/node (make deps-node)")
[ -s repo2desktop/viewer/dist/desktop.js ] || problems+=("viewer bundle not built (make viewer)")
missing_python=$("$python" - <<'PY'
import importlib.util
needed = ["repo2desktop", "pytest", "hypothesis", "testinfra", "playwright", "jupyter_server",
          "jupyter_server_proxy", "jupyterhub", "dockerspawner", "repo2docker", "docker", "websocket",
          "matplotlib", "jsonschema", "PySide6", "psutil"]
print(" ".join(n for n in needed if importlib.util.find_spec(n) is None))
PY
)
[ -z "$missing_python" ] || problems+=("Python modules missing: $missing_python (make deps-python)")
# The Desktop page's server extension is switched on by a file a wheel installs; an editable
# install skips it (make deps-python copies it).
"$python" -c 'import os, sys; sys.exit(not os.path.isfile(os.path.join(sys.prefix, "etc/jupyter/jupyter_server_config.d/repo2desktop.json")))' ||
  problems+=("the Desktop page's server extension is not enabled in $("$python" -c 'import sys; print(sys.prefix)') (make deps-python)")

if [ "${#problems[@]}" -gt 0 ]; then
  printf 'test prerequisites: %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "test prerequisites: all present"
