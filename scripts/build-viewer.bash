#!/bin/bash
# Bundle the desktop page's VNC client (repo2desktop/viewer/*.js: desktop.js and the modules it
# imports, the sound player audio.js among them, + npm @novnc/novnc,
# versions pinned in repo2desktop/viewer/package-lock.json) into ONE minified module: OUT_DIR/desktop.js.
# Run by `make viewer` (checkouts) and by setup.py when a wheel is built; images get the
# bundle inside the wheel, so they need neither node nor Debian's novnc.
# Usage: build-viewer.bash [OUT_DIR] (default repo2desktop/viewer/dist). WORK_DIR (env) holds node_modules.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$here/repo2desktop/viewer"
out="$(mkdir -p "${1:-$src/dist}" && cd "${1:-$src/dist}" && pwd)"
work="${WORK_DIR:-$here/build/viewer}"

if ! command -v npm >/dev/null 2>&1; then
    echo "build-viewer: npm is needed to bundle noVNC (Debian: apt-get install npm)" >&2
    exit 1
fi
mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$src"/*.js "$work/"
cd "$work"
# --ignore-scripts: esbuild's native binary comes as an optional dependency package;
# no install script needs to run.
if ! cmp -s package-lock.json node_modules/.package-lock.json.used 2>/dev/null; then
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
    cp package-lock.json node_modules/.package-lock.json.used
fi
version="$(node -p 'require("./node_modules/@novnc/novnc/package.json").version')"
./node_modules/.bin/esbuild desktop.js --bundle --minify --format=esm --target=es2022 \
    --legal-comments=eof --log-level=warning \
    --banner:js="/* repo2desktop viewer: noVNC $version (MPL-2.0, npm @novnc/novnc) bundled with esbuild */" \
    --outfile="$out/desktop.js.partial"
mv "$out/desktop.js.partial" "$out/desktop.js"
echo "build-viewer: $out/desktop.js ($(stat -c %s "$out/desktop.js") bytes, noVNC $version)"
