"""JupyterHub's idle culler judges the person, not the traffic (issue 17), with the config
`repo2desktop hub-config` writes (test_hub.py's hub: --cull-timeout 30 --cull-every 5, so the
servers report their activity every 10 s and the hub does not poll the proxy's traffic): two
temporary users keep their desktop open in Chromium while a clock on each desktop redraws; the
one who never touches it is culled, the one who moves the mouse now and then keeps its server.
"""
from __future__ import annotations

import time

import pytest

from .test_hub import _servers, hub  # noqa: F401 (fixture)
from .serving import open_desktop_page
from .test_idle_culling import frames_flow, start_clock

pytestmark = pytest.mark.serve

CULL_TIMEOUT = 30  # test_hub.py's hub


def visit(hub, chromium):
    """A new temporary user's desktop, open in its own browser: (context, page, user name)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(hub.url + "/", timeout=120000)  # -> temporary user -> spawn -> /user/NAME/desktop/
    page.wait_for_url("**/user/*/desktop/**", timeout=120000)
    user_url = hub.url + "/user/" + page.url.split("/user/", 1)[1]
    page.close()
    page, _ = open_desktop_page(context, user_url)
    return context, page, page.url.split("/user/", 1)[1].split("/", 1)[0]


def running(hub, container_id: str) -> bool:
    return any(c.id == container_id for c in _servers(hub.client))


def test_an_open_untouched_desktop_is_culled_by_the_hub_and_one_in_use_is_kept(hub, chromium):  # noqa: F811
    contexts = []
    try:
        visitors = {}
        for name in ("untouched", "working"):
            before = {c.id for c in _servers(hub.client)}
            context, page, user = visit(hub, chromium)
            contexts.append(context)
            (container,) = [c for c in _servers(hub.client) if c.id not in before]
            start_clock(container)
            assert frames_flow(page)
            visitors[name] = (page, user, container.id)
        opened = time.monotonic()  # the working visitor's desktop, open since
        (_, untouched_user, untouched), (page, working_user, working) = visitors["untouched"], visitors["working"]
        box = page.locator("canvas").first.bounding_box()
        began, step = time.monotonic(), 0
        # The working visitor moves the mouse every 2 s. The untouched server goes within the
        # timeout plus a report and a few culler passes; the working one outlives it.
        while running(hub, untouched):
            assert time.monotonic() - began < CULL_TIMEOUT + 60, \
                "the open, untouched desktop was not culled: frames to the tab counted as use"
            assert running(hub, working), "the server in use was culled"
            step += 1
            page.mouse.move(box["x"] + 200 + 10 * (step % 20), box["y"] + 300)
            time.sleep(2)
        # ... and keeps it, as long as it is used, well past a whole timeout, a report (10 s)
        # and a culler pass (5 s) since its desktop opened.
        until = opened + CULL_TIMEOUT + 25
        while time.monotonic() < until:
            assert running(hub, working), "the server in use was culled"
            step += 1
            page.mouse.move(box["x"] + 200 + 10 * (step % 20), box["y"] + 300)
            time.sleep(2)
        log = hub.log_path.read_text()
        assert f"Culling server {untouched_user} (inactive for" in log, log[-3000:]
        assert f"Culling server {working_user}" not in log, log[-3000:]
    finally:
        for context in contexts:
            context.close()
