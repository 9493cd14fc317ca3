"""What sets of Debian packages add to a base image: `apt-get install -s --no-install-recommends`
(nothing is installed) in a throwaway container of the base, then one `apt-cache show` for the
Installed-Size of every package any set would add. Used by `make bench` and to choose the
desktop's package set (python3 scripts/bench_apt.py prints a table)."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Dict, List, Sequence, Tuple

DOCKER = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"

SCRIPT = r"""
set -e
apt-get update -qq >/dev/null
while read -r name packages; do
    echo "@@ $name"
    apt-get install -s --no-install-recommends $packages | awk '/^Inst /{print $2}'
done < /sets
echo "@@"
"""


def footprint(base_image: str, sets: Dict[str, Sequence[str]]) -> Dict[str, Tuple[float, List[str]]]:
    """{set name: (MiB installed, [packages added])} over BASE_IMAGE."""
    lines = "".join(f"{name} {' '.join(packages)}\n" for name, packages in sets.items())
    listing = subprocess.run(
        [DOCKER, "run", "--rm", "-i", "--network", "host", "--entrypoint", "bash", base_image,
         "-c", f"cat > /sets; {SCRIPT}"], input=lines, capture_output=True, text=True, timeout=600)
    if listing.returncode:
        raise RuntimeError(f"apt simulation failed: {listing.stderr[-2000:]}")
    added: Dict[str, List[str]] = {}
    current = None
    for line in listing.stdout.splitlines():
        if line.startswith("@@"):
            current = line[3:].strip() or None
            if current:
                added[current] = []
        elif current and line.strip():
            added[current].append(line.strip())
    union = sorted({p for names in added.values() for p in names})
    sizes: Dict[str, int] = {}
    if union:
        show = subprocess.run(
            [DOCKER, "run", "--rm", "-i", "--network", "host", "--entrypoint", "bash", base_image, "-c",
             "apt-get update -qq >/dev/null && xargs apt-cache show --no-all-versions"],
            input="\n".join(union), capture_output=True, text=True, timeout=600)
        package = None
        for line in show.stdout.splitlines():
            if line.startswith("Package: "):
                package = line.split(": ", 1)[1]
            elif line.startswith("Installed-Size: ") and package and package not in sizes:
                sizes[package] = int(line.split(": ", 1)[1])
    return {name: (sum(sizes.get(p, 0) for p in names) / 1024, names) for name, names in added.items()}


if __name__ == "__main__":
    base = os.environ.get("BASE_IMAGE", "repo2desktop/base:bookworm")
    sets = {}
    for arg in sys.argv[1:]:
        name, _, packages = arg.partition("=")
        sets[name] = packages.replace(",", " ").split()
    for name, (mib, names) in footprint(base, sets).items():
        print(f"{mib:7.1f} MiB {len(names):4d} packages  {name}")
