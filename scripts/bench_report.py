"""`make bench` output: medians with min-max and n, ratios to the peers, the issue's targets
(met or missed, said plainly), a Markdown table and a matplotlib chart."""
from __future__ import annotations

import statistics
from typing import Dict, List, Optional

METRICS = ("cold_s", "warm_s", "first_byte_s", "requests", "kib", "pss_mib", "rss_mib", "stop_s",
           "desktop_stop_s", "leftovers")
OURS, PEERS = ("ours-default", "ours-xfce4"), ("jrdp", "selkies")


def fmt(value, unit: str = " s", digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}{unit}"


def stats(values: List) -> Optional[Dict]:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def summarise(report: Dict) -> Dict:
    """{system: {where: {metric: stats, 'runs': n, 'never_ready': n}}}."""
    out: Dict = {}
    for key in report["systems"]:
        for where in ("host", "container"):
            runs = [r for r in report["runs"] if r["system"] == key and r["where"] == where]
            if not runs:
                continue
            entry = {m: stats([r.get(m) for r in runs]) for m in METRICS}
            entry["runs"] = len(runs)
            entry["never_ready"] = sum(1 for r in runs if r.get("failed"))
            # stop_s is None when something outlived the 5 s window: count those apart.
            entry["not_stopped_in_5s"] = sum(1 for r in runs if "stop_s" in r and r["stop_s"] is None)
            out.setdefault(key, {})[where] = entry
    return out


def _median(summary: Dict, key: str, where: str, metric: str) -> Optional[float]:
    s = summary.get(key, {}).get(where, {}).get(metric)
    return s["median"] if s else None


def _cell(s: Optional[Dict], unit: str, digits: int) -> str:
    if not s:
        return "–"
    if s["n"] == 1:
        return f"{s['median']:.{digits}f}{unit} (n=1)"
    return f"{s['median']:.{digits}f}{unit} ({s['min']:.{digits}f}–{s['max']:.{digits}f}, n={s['n']})"


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a is not None and b else None


def targets(report: Dict) -> List[tuple]:
    """(target, measured, met?) for the issue's targets; met is None when not measured."""
    s = report["summary"]
    m = lambda k, w, x: _median(s, k, w, x)  # noqa: E731
    rows = []
    for where in ("host", "container"):
        r = ratio(m("ours-default", where, "cold_s"), m("jrdp", where, "cold_s"))
        rows.append((f"cold READY, default, {where}: <= 0.5x JRDP", fmt(r, "x"), None if r is None else r <= 0.5))
        r = ratio(m("ours-xfce4", where, "cold_s"), m("jrdp", where, "cold_s"))
        rows.append((f"cold READY, TigerVNC + xfce4, {where}: <= 0.7x JRDP", fmt(r, "x"), None if r is None else r <= 0.7))
    w = m("ours-default", "host", "warm_s")
    rows.append(("warm READY, default, host: < 0.3 s", fmt(w), None if w is None else w < 0.3))
    failed = sum(e.get("never_ready", 0) for k in OURS for e in s.get(k, {}).values())
    measured = any(k in s for k in OURS)
    rows.append(("ours: no run where the page never connects", f"{failed} failed", failed == 0 if measured else None))
    fb = m("ours-default", "host", "first_byte_s")
    rows.append(("first byte of /desktop/, host cold: <= 0.1 s", fmt(fb), None if fb is None else fb <= 0.1))
    req, kib = m("ours-default", "host", "requests"), m("ours-default", "host", "kib")
    rows.append(("cold requests / KiB to READY: <= 5 / 350", f"{fmt(req, '', 0)} / {fmt(kib, '', 0)}",
                 None if req is None else req <= 5 and kib <= 350))
    pss = m("ours-default", "host", "pss_mib")
    rows.append(("idle PSS, default: < 100 MiB", fmt(pss, " MiB", 0), None if pss is None else pss < 100))
    px, pj = m("ours-xfce4", "host", "pss_mib"), m("jrdp", "host", "pss_mib")
    rows.append(("idle PSS, xfce4: <= JRDP's", f"{fmt(px, ' MiB', 0)} vs {fmt(pj, ' MiB', 0)}",
                 None if px is None or pj is None else px <= pj))
    apt = report.get("apt_mib", {})
    if "ours-default" in apt and "jrdp" in apt:
        rows.append(("desktop packages, default: <= half of JRDP's set",
                     f"{apt['ours-default']} vs {apt['jrdp']} MiB", apt["ours-default"] <= apt["jrdp"] / 2))
    images = report.get("images", {})
    if "ours-default" in images and "jrdp" in images:
        a, b = images["ours-default"]["over_base_mb"], images["jrdp"]["over_base_mb"]
        rows.append(("whole image, default: smaller than JRDP's", f"+{a} vs +{b} MB", a < b))
    stop = max((e["desktop_stop_s"]["max"] for k in OURS for e in [s.get(k, {}).get("host", {})]
                if e.get("desktop_stop_s")), default=None)
    rows.append(("Jupyter server's SIGTERM -> desktop gone: <= 1 s", fmt(stop), None if stop is None else stop <= 1.0))
    left = sum((e["leftovers"]["max"] if e.get("leftovers") else 0) for k in OURS
               for e in [s.get(k, {}).get("host", {})])
    rows.append(("ours: zero leftovers 5 s after SIGTERM", str(left), left == 0 if measured else None))
    geometry = report.get("rebuild_s", {}).get("geometry")
    if geometry is not None:
        rows.append(("geometry-only rebuild: seconds", fmt(geometry, " s", 1), geometry < 15))
    return rows


def markdown(report: Dict) -> str:
    s, systems = report["summary"], report["systems"]
    keys = list(systems)
    lines = [f"Benchmark of {report['date']} on {report['machine']}"
             f"{' (quick: one round)' if report['quick'] else ''}.",
             "READY: the largest canvas, sampled on a 157x97 grid, is at least half non-black and shows "
             "two or more colours. Medians (min–max, n). Bytes: HTTP responses until READY.", "",
             "| metric | " + " | ".join(systems[k] for k in keys) + " |",
             "|---|" + "---|" * len(keys)]

    def row(name, where, metric, unit, digits):
        cells = [_cell(s.get(k, {}).get(where, {}).get(metric), unit, digits) for k in keys]
        if any(c != "–" for c in cells):
            lines.append(f"| {name} | " + " | ".join(cells) + " |")

    for where, label in (("host", "host"), ("container", "in containers")):
        row(f"{label}, cold: goto → READY", where, "cold_s", " s", 2)
        row(f"{label}, warm: new page → READY", where, "warm_s", " s", 2)
    row("first HTTP response, host cold", "host", "first_byte_s", " s", 2)
    row("HTTP requests until READY, cold", "host", "requests", "", 0)
    row("KiB until READY, cold", "host", "kib", "", 0)
    row("idle PSS of the desktop's processes", "host", "pss_mib", " MiB", 0)
    row("idle RSS of the desktop's processes", "host", "rss_mib", " MiB", 0)
    row("server SIGTERM → all its desktop's processes gone", "host", "stop_s", " s", 2)
    row("server SIGTERM → desktop gone (without watchdogs)", "host", "desktop_stop_s", " s", 2)
    row("processes left 5 s after SIGTERM", "host", "leftovers", "", 0)
    never = [f"{sum(e.get('never_ready', 0) for e in s.get(k, {}).values())}/"
             f"{sum(e.get('runs', 0) for e in s.get(k, {}).values())}" for k in keys]
    lines.append("| runs where the page never became READY | " + " | ".join(never) + " |")
    images, apt = report.get("images", {}), report.get("apt_mib", {})
    if images:
        lines.append("| image size over the same base | " + " | ".join(
            f"+{images[k]['over_base_mb']} MB" if k in images else "–" for k in keys) + " |")
    if apt:
        lines.append("| desktop's Debian packages over the base | " + " | ".join(
            f"+{apt[k]} MiB" if k in apt else "–" for k in keys) + " |")
    rebuild = report.get("rebuild_s") or {}
    if rebuild:
        lines += ["", f"Ours, rebuild of the default image: after a geometry-only change {rebuild.get('geometry')} s, "
                      f"after adding one package {rebuild.get('package')} s (first build {rebuild.get('first')} s)."]
    ratios = []
    for peer in PEERS:
        for where in ("host", "container"):
            for metric, name in (("cold_s", "cold"), ("warm_s", "warm")):
                for k in OURS:
                    r = ratio(_median(s, k, where, metric), _median(s, peer, where, metric))
                    if r is not None:
                        ratios.append(f"{k} / {peer}, {where} {name}: {r:.2f}x")
    if ratios:
        lines += ["", "Ratios of medians (below 1: ours is faster): " + "; ".join(ratios) + "."]
    if report.get("stopped"):
        lines += ["", "Not measured (what stopped it): " + "; ".join(report["stopped"]) + "."]
    lines += ["", "| target (issue 11) | measured | |", "|---|---|---|"]
    for name, value, met in targets(report):
        lines.append(f"| {name} | {value} | {'met' if met else 'not measured' if met is None else '**MISSED**'} |")
    return "\n".join(lines) + "\n"


def chart(report: Dict, path: str) -> bool:
    """Cold and warm time to READY (bars with min-max) and idle memory, side by side."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("chart: skipped (matplotlib is not installed)")
        return False
    s, systems = report["summary"], report["systems"]
    keys = list(systems)
    panels = [("cold_s", "host", "cold → READY, host (s)"), ("cold_s", "container", "cold → READY, containers (s)"),
              ("warm_s", "host", "warm → READY, host (s)"), ("pss_mib", "host", "idle PSS (MiB)")]
    panels = [p for p in panels if any(s.get(k, {}).get(p[1], {}).get(p[0]) for k in keys)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), squeeze=False)
    colours = {"ours-default": "#5e81ac", "ours-xfce4": "#88c0d0", "jrdp": "#d08770", "selkies": "#b48ead"}
    for ax, (metric, where, title) in zip(axes[0], panels):
        xs, heights, low, high, names = [], [], [], [], []
        for i, k in enumerate(keys):
            st = s.get(k, {}).get(where, {}).get(metric)
            if not st:
                continue
            xs.append(i)
            heights.append(st["median"])
            low.append(st["median"] - st["min"])
            high.append(st["max"] - st["median"])
            names.append(k)
        ax.bar(xs, heights, yerr=[low, high], capsize=4, color=[colours.get(k, "grey") for k in names])
        ax.set_xticks(xs, [systems[k].split(" (")[0].replace(", ", "\n") for k in names], fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"repo2desktop vs peers — {report['date']} — {report['machine']}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
