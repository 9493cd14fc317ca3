"""`serve --cull-timeout` culls by the person's idleness (issue 17), for real: two visitors keep
their desktop open in Chromium while a clock on each desktop redraws (frames, and the viewer's
requests for them, flow through the proxy all along); the one who never touches it is culled,
the one who moves the mouse now and then is kept.
"""
from __future__ import annotations

import re
import time

import pytest

from tests.polling import wait_for

from .serving import open_desktop_page

pytestmark = pytest.mark.serve

CULL_TIMEOUT = 15

# Run inside a visitor's container, as the visitor's own program: an xterm showing a clock,
# on the desktop's display with the desktop's X cookie (found on the X server's command line).
CLOCK = r"""
import glob, os, subprocess
for path in glob.glob('/proc/[0-9]*/cmdline'):
    try:
        argv = open(path, 'rb').read().split(b'\0')
    except OSError:
        continue
    if os.path.basename(argv[0]).decode() in ('Xtightvnc', 'Xtigervnc', 'Xvnc') and b'-auth' in argv:
        display = next(a.decode() for a in argv if a.startswith(b':'))
        cookie = argv[argv.index(b'-auth') + 1].decode()
        subprocess.Popen(['xterm', '-geometry', '40x4+0+0', '-e', 'sh', '-c',
                          'while :; do date +%T.%N; sleep 0.2; done'],
                         env=dict(os.environ, DISPLAY=display, XAUTHORITY=cookie),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
        print('clock on', display)
        break
else:
    raise SystemExit('no X server found')
"""
# A digest of the canvas's top-left corner (where the clock is), to show that frames arrive.
CORNER_DIGEST = """() => {
  const c = [...document.querySelectorAll('canvas')].find(c => c.width > 100);
  const d = c.getContext('2d').getImageData(0, 0, 300, 60).data;
  let h = 0;
  for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + d[i + 1] * 7 + d[i + 2] * 13) | 0;
  return h;
}"""


def start_clock(container) -> None:
    """The clock on CONTAINER's desktop, started the way a visitor's program would be."""
    result = container.exec_run(["python3", "-c", CLOCK])
    assert result.exit_code == 0 and b"clock on" in result.output, result.output.decode(errors="replace")


def frames_flow(page) -> bool:
    first = page.evaluate(CORNER_DIGEST)
    return wait_for(lambda: page.evaluate(CORNER_DIGEST) != first, 5, "the clock redrawn on the canvas", 0.2)


def test_an_open_untouched_desktop_is_culled_and_one_in_use_is_kept(make_serve, chromium):
    serve = make_serve("idle", "--pool-size", "2", "--max-containers", "2", "--cull-timeout",
                       str(CULL_TIMEOUT), "--cull-period", "1", "--cull-max", "600")
    serve.wait_available(2, timeout=180)
    visitors = {}
    contexts = []
    try:
        for name in ("untouched", "working"):
            reply = serve.spawn()
            assert reply.status_code == 200, reply.text
            url = reply.json()["url"]
            base = url.split("desktop/")[0]
            context = chromium.new_context(viewport={"width": 1280, "height": 860})
            contexts.append(context)
            page, _ = open_desktop_page(context, serve.url(url))
            user = base.strip("/").split("/")[-1]
            (container,) = [c for c in serve.containers() if c.labels.get("repo2desktop.serve.user") == user]
            start_clock(container)
            visitors[name] = (page, base.rstrip("/"))
        for page, _ in visitors.values():
            assert frames_flow(page)

        untouched, working = visitors["untouched"][1], visitors["working"][1]
        page = visitors["working"][0]
        box = page.locator("canvas").first.bounding_box()
        began = time.monotonic()
        step = 0
        # The working visitor moves the mouse every 2 s; the untouched one must go within the
        # timeout plus a few culling periods, and the working one must outlive it.
        while untouched in serve.routes():
            assert time.monotonic() - began < CULL_TIMEOUT + 30, \
                "the open, untouched desktop was not culled: frames to the tab counted as use"
            assert working in serve.routes(), "the desktop in use was culled"
            step += 1
            page.mouse.move(box["x"] + 200 + 10 * (step % 20), box["y"] + 300)
            time.sleep(2)
        # ... and stays as long again as it keeps being used: past its own timeout since the claim.
        until = time.monotonic() + CULL_TIMEOUT
        while time.monotonic() < until:
            assert working in serve.routes(), "the desktop in use was culled"
            step += 1
            page.mouse.move(box["x"] + 200 + 10 * (step % 20), box["y"] + 300)
            time.sleep(2)
        assert re.search(rf"{untouched.rsplit('/', 1)[1]} removed \(culled: idle for \d+ s\)", serve.log())
        assert working.rsplit("/", 1)[1] + " removed" not in serve.log()
    finally:
        for context in contexts:
            context.close()
