#!/usr/bin/env bash
# Build-time check of a desktop image, run as the notebook user after the repository's own
# environment is installed (so a downgrade by requirements.txt or environment.yml is caught):
#   - desktop.yml still validates with the repo2desktop installed in the image;
#   - the notebook environment has jupyter-server-proxy >= 4.2 (older releases skipped
#     authentication on websockets, CVE-2024-28179) and our "desktop" entry point;
#   - the bundled noVNC viewer is in the package (unless novnc.directory names another);
#   - every program the desktop starts is where the session looks for it (arguments).
set -euo pipefail
prefix="${NB_PYTHON_PREFIX:?NB_PYTHON_PREFIX is not set}"
config="${REPO2DESKTOP_CONFIG:?REPO2DESKTOP_CONFIG is not set}"

"$prefix/bin/python" -m repo2desktop validate --quiet "$config"

"$prefix/bin/python" - <<'PY'
import importlib.metadata as md
import os
import sys

try:
    version = md.version("jupyter-server-proxy")
except md.PackageNotFoundError:
    sys.exit("repo2desktop: error: jupyter-server-proxy is missing from the notebook environment")
numbers = []
for part in version.split(".")[:2]:
    digits = "".join(c for c in part if c.isdigit()) or "0"
    numbers.append(int(digits))
if tuple(numbers) < (4, 2):
    sys.exit(f"repo2desktop: error: the notebook environment has jupyter-server-proxy {version}; the "
             "desktop needs >= 4.2 (older releases skip authentication on websockets, "
             "CVE-2024-28179). Require 'jupyter-server-proxy>=4.2' in your environment files.")
points = md.entry_points()
group = "jupyter_serverproxy_servers"
found = points.select(group=group) if hasattr(points, "select") else points.get(group, ())  # 3.9
names = {ep.name for ep in found}
if "desktop" not in names:
    sys.exit("repo2desktop: error: the 'desktop' jupyter-server-proxy entry point is not registered")
from repo2desktop.config import discover
from repo2desktop import resources
if discover.load(os.environ["REPO2DESKTOP_CONFIG"]).novnc.directory is None:
    try:
        resources.viewer_files()  # the bundled noVNC page came with the wheel
    except RuntimeError as e:
        sys.exit(f"repo2desktop: error: {e}")
PY

for path in "$prefix/bin/websockify" "$@"; do
    if [[ ! -e "$path" ]]; then
        echo "repo2desktop: error: $path is missing from the image" >&2
        exit 1
    fi
done
echo "repo2desktop: desktop layer verified ($config)"
