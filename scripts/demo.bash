#!/usr/bin/env bash
# The main job: build an example repository into a desktop image with repo2desktop, run it
# like Binder does (Jupyter on a loopback port, a random token) and print the desktop's URL.
# Usage: scripts/demo.bash REPO [PORT]
set -euo pipefail
repo=${1:?usage: demo.bash REPO [PORT]}
port=${2:-8888}
image=repo2desktop-demo
name=repo2desktop-demo
docker=/usr/bin/docker
state=build/demo
mkdir -p "$state"

python3 -m repo2desktop build "$repo" --no-run --image-name "$image"

# The token goes to the container's environment and a 0600 file, never into a URL or a log.
umask 077
python3 -c 'import secrets; print(secrets.token_hex(24))' > "$state/token"
"$docker" rm -f "$name" >/dev/null 2>&1 || true
"$docker" run -d --name "$name" -p "127.0.0.1:$port:8888" --env-file <(printf 'JUPYTER_TOKEN=%s\n' "$(cat "$state/token")") \
  "$image" jupyter server --ip=0.0.0.0 --port=8888 >/dev/null

auth="Authorization: token $(cat "$state/token")"
echo "Waiting for Jupyter and the desktop ..."
for _ in $(seq 1 120); do
  if curl -fsS -H "$auth" "http://127.0.0.1:$port/desktop/session.json" 2>/dev/null | grep -q '"ready"'; then
    cat <<EOT

Desktop is ready:  http://127.0.0.1:$port/desktop/
Jupyter asks for the token once; it is in $state/token
(the Jupyter UI is at http://127.0.0.1:$port/lab, with a "Desktop" tile).
Stop it with:      $docker rm -f $name
EOT
    exit 0
  fi
  sleep 1
done
echo "The desktop did not become ready; container log:" >&2
"$docker" logs --tail 40 "$name" >&2
exit 1
