#!/usr/bin/env python3
"""`make bench`: ours side by side with jupyter-remote-desktop-proxy 3.0.1 and Selkies 2.1.

Prints figures and never fails on a slow machine (it fails only when it cannot measure).
Rounds are interleaved (system A, B, C, D, A, B, ...); every figure is a median with its
min-max and run count. Output under OUT (default build/bench/): bench.json, bench.md (the
Markdown table printed at the end) and bench.png (the chart).

  python3 scripts/bench.py                 # 5 host rounds + 3 container rounds, images, rebuilds
  python3 scripts/bench.py --quick         # every step once, ours only (what the tests run)
  python3 scripts/bench.py --rounds 3 --container-rounds 0 --systems ours-default,jrdp
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_report  # noqa: E402
from bench_browser import Browser  # noqa: E402
from bench_systems import (REPO, SYSTEMS, build_image, build_repo, container_round,  # noqa: E402
                           docker, host_round, image_size_mb, peer_python)

BASE_IMAGE = os.environ.get("BASE_IMAGE", "repo2desktop/base:bookworm")


def machine() -> str:
    cpus = os.cpu_count()
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    distro = ""
    try:
        with open("/etc/os-release") as f:
            distro = next((l.split("=", 1)[1].strip().strip('"') for l in f if l.startswith("PRETTY_NAME")), "")
    except OSError:
        pass
    return f"{distro}, {cpus} cores ({model}), {mem:.0f} GiB, Python {platform.python_version()}"


def docker_ok() -> bool:
    return shutil.which(os.path.basename("/usr/bin/docker")) is not None and \
        docker("info", check=False).returncode == 0 and \
        docker("image", "inspect", BASE_IMAGE, check=False).returncode == 0


def rebuilds(work: str) -> Dict[str, float]:
    """Ours: build the default repository, then rebuild after a geometry-only change and after
    adding one package to desktop.yml. Each desktop.yml is written whole (never edited in place)."""
    repo = os.path.join(work, "repos", "rebuild")
    shutil.rmtree(repo, ignore_errors=True)
    os.makedirs(repo)
    path = os.path.join(repo, "desktop.yml")
    image = "r2d-bench-rebuild"
    times = {}
    for step, text in (("first", "version: 1\n"),
                       ("geometry", "version: 1\ndisplay: {geometry: 1024x640}\n"),
                       ("package", "version: 1\ndisplay: {geometry: 1024x640}\npackages: [x11-apps]\n")):
        with open(path, "w") as f:
            f.write(text)
        began = time.monotonic()
        build_repo(repo, image)
        times[step] = round(time.monotonic() - began, 1)
        print(f"  rebuild ({step}): {times[step]} s", flush=True)
    docker("rmi", "-f", image, check=False)
    return times


def containers(args, systems, browser, report, work) -> None:
    """Images over the same base, container rounds, and our rebuild times; every figure is
    written to OUT as soon as it is measured."""
    images, runs = report["images"], report["runs"]
    base_mb = image_size_mb(BASE_IMAGE)
    for system in systems:
        image = f"r2d-bench-{system.key}"
        seconds = build_image(system, BASE_IMAGE, args.out, image)
        images[system.key] = {"image": image, "build_s": round(seconds, 1),
                              "over_base_mb": round(image_size_mb(image) - base_mb)}
        print(f"  image {system.key}: +{images[system.key]['over_base_mb']} MB over the base "
              f"(built in {seconds:.0f} s)", flush=True)
        write_report(args, report)
    for n in range(args.container_rounds):
        for system in systems:
            try:
                r = container_round(system, images[system.key]["image"], browser)
            except (RuntimeError, OSError) as e:
                r = {"system": system.key, "where": "container", "failed": True, "error": str(e)[-300:]}
            r["round"] = n
            runs.append(r)
            print(f"  container {n + 1}/{args.container_rounds} {system.key:13s} cold "
                  f"{bench_report.fmt(r.get('cold_s'))} warm {bench_report.fmt(r.get('warm_s'))}", flush=True)
            write_report(args, report)
    report["rebuild_s"].update(rebuilds(work))


def apt_footprints(systems) -> Dict[str, int]:
    """MiB of Debian packages each system adds to the base (a simulated install, nothing built)."""
    from bench_apt import footprint
    from repo2desktop.config import discover
    from repo2desktop.image.packages import apt_packages
    sets = {}
    for system in systems:
        if system.peer:
            sets[system.key] = list(system.apt)
        else:
            with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
                f.write(system.desktop_yml or "version: 1\n")
            try:
                sets[system.key] = list(apt_packages(discover.load(f.name)))
            finally:
                os.unlink(f.name)
    return {key: round(mib) for key, (mib, _) in footprint(BASE_IMAGE, sets).items()}


def write_report(args, report: Dict, final: bool = False) -> str:
    """bench.json, bench.md (and at the end bench.png) from what is measured so far: a step that
    fails later never loses the figures already taken."""
    report["seconds"] = round(time.monotonic() - report["_started"])
    report["summary"] = bench_report.summarise(report)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump({k: v for k, v in report.items() if not k.startswith("_")}, f, indent=1)
    table = bench_report.markdown(report)
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(table)
    if final:
        report["chart"] = bench_report.chart(report, os.path.join(args.out, "bench.png"))
    return table


OURS = ("ours-default", "ours-xfce4")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="every step once, ours only (unless --systems names peers): one host round of "
                             "each, one container round of the default desktop, rebuilds, package sizes")
    parser.add_argument("--rounds", type=int, default=5, help="host rounds per system")
    parser.add_argument("--container-rounds", type=int, default=3)
    parser.add_argument("--systems", default=None, help="comma-separated (default: all; --quick: ours)")
    parser.add_argument("--out", default=os.path.join(REPO, "build", "bench"))
    parser.add_argument("--venvs", default=None, help="where the peers' venvs live (default: OUT)")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before measuring memory")
    args = parser.parse_args(argv)
    container_systems = None
    if args.quick:
        # The same steps as a full run, fewer of them: a crash anywhere shows in the test suite.
        args.rounds, args.container_rounds, args.idle = 1, 1, 2.0
        args.systems = args.systems or ",".join(OURS)
        container_systems = ["ours-default"]
    wanted = (args.systems or ",".join(s.key for s in SYSTEMS)).split(",")
    unknown = sorted(set(wanted) - {s.key for s in SYSTEMS})
    if unknown:
        parser.error(f"--systems: unknown {', '.join(unknown)} (known: {', '.join(s.key for s in SYSTEMS)})")
    systems = [s for s in SYSTEMS if s.key in wanted]
    os.makedirs(args.out, exist_ok=True)
    os.environ["BENCH_OUT"] = args.out  # failed rounds keep their Jupyter log there
    work = tempfile.mkdtemp(prefix="r2d-bench-")

    print(f"bench: {machine()}", flush=True)
    report: Dict = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(), "quick": args.quick, "seconds": 0, "_started": time.monotonic(),
        "systems": {s.key: s.label for s in systems}, "runs": [], "images": {}, "rebuild_s": {},
        "apt_mib": {}, "stopped": [],
    }
    pythons = {}
    for system in systems:
        pythons[system.key] = peer_python(system, args.venvs or args.out) if system.peer else sys.executable
    browser = Browser()
    try:
        for n in range(args.rounds):
            for system in systems:  # interleaved: one round of each, then the next round
                try:
                    r = host_round(system, pythons[system.key], browser, work, args.idle)
                except (RuntimeError, OSError) as e:  # a system that never served: a row, not a crash
                    r = {"system": system.key, "where": "host", "failed": True, "error": str(e)[-300:]}
                r["round"] = n
                report["runs"].append(r)
                print(f"  host {n + 1}/{args.rounds} {system.key:13s} cold {bench_report.fmt(r.get('cold_s'))} "
                      f"warm {bench_report.fmt(r.get('warm_s'))} first byte {bench_report.fmt(r.get('first_byte_s'))} "
                      f"req {r.get('requests')} PSS {r.get('pss_mib')} MiB stop {bench_report.fmt(r.get('stop_s'))} "
                      f"left {r.get('leftovers')}", flush=True)
                write_report(args, report)
        in_containers = [s for s in systems if container_systems is None or s.key in container_systems]
        try:
            if args.container_rounds and docker_ok():
                containers(args, in_containers, browser, report, work)
            elif args.container_rounds:
                print("  containers: skipped (no Docker engine or no base image; `make base-image`)")
                report["stopped"].append("containers: no Docker engine or no base image")
        except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
            # The host figures stand on their own: report them with what stopped this part.
            print(f"  containers: stopped by {str(e)[-300:]}", flush=True)
            report["images"]["error"] = str(e)[-500:]
            report["stopped"].append(f"containers: {str(e)[-300:]}")
    finally:
        browser.close()
        shutil.rmtree(work, ignore_errors=True)
        write_report(args, report)

    if docker_ok():
        try:
            report["apt_mib"] = apt_footprints(systems)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            print(f"  apt footprint: stopped by {str(e)[-300:]}")
            report["stopped"].append(f"apt footprint: {str(e)[-300:]}")
    table = write_report(args, report, final=True)
    print()
    print(table)
    print(f"written: {args.out}/bench.json, bench.md{', bench.png' if report.get('chart') else ''} "
          f"({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
