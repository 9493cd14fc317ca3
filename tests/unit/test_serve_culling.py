"""serve's culling by the person's idleness (pool.cull, serve/activity.py): the container's own
Jupyter activity decides, the proxy's traffic only where the container does not answer."""
from __future__ import annotations

import http.server
import json
import threading

from repo2desktop.serve import activity
from repo2desktop.serve.pool import CLAIMED, Pool, Slot

from .test_serve_options import FakeEngine, FakeProxy, parse


def test_the_persons_idleness_decides_not_the_traffic_and_silence_falls_back_to_the_proxy():
    now = 10_000.0
    o = parse("img", "--cull-timeout", "60", "--cull-max", "600")
    slots = {name: Slot(name, "t", created=now - 100, container_id=f"c-{name}", state=CLAIMED,
                        claimed_at=now - 90)
             for name in ("watched", "typing", "hung-busy", "hung-quiet")}
    # "watched": frames flow (traffic 1 s ago) but nobody touched it for 80 s.
    proxy = FakeProxy({"/user/watched": now - 1, "/user/typing": now - 200,
                       "/user/hung-busy": now - 2, "/user/hung-quiet": now - 300})
    person = {"watched": now - 80, "typing": now - 3}
    engine = FakeEngine()
    pool = Pool(o, engine, proxy, log=lambda line: None)
    pool.slots = dict(slots)
    pool.person_activity = lambda slot: person.get(slot.user_id)
    assert dict(pool.cull(now)) == {"watched": "idle for 80 s", "hung-quiet": "idle for 90 s"}
    assert set(pool.slots) == {"typing", "hung-busy"}


class _Status(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("Authorization")))
        ok = self.headers.get("Authorization") == "token sesame"
        body = json.dumps({"last_activity": "2026-12-02T08:00:00.500000Z"}).encode()
        self.send_response(200 if ok else 403)
        self.end_headers()
        self.wfile.write(body if ok else b"{}")

    def log_message(self, *args):
        pass


def test_the_status_is_asked_with_the_token_in_the_header_never_in_the_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"http://127.0.0.1:{server.server_port}"
        assert activity.person_last_activity(address, "/user/abc/", "sesame") == \
            activity.parse_stamp("2026-12-02T08:00:00.5+00:00")
        assert activity.person_last_activity(address, "/user/abc/", "wrong") is None
        assert _Status.seen == [("/user/abc/api/status", "token sesame"), ("/user/abc/api/status", "token wrong")]
        assert activity.person_last_activity("", "/user/abc/", "sesame") is None  # no address yet
    finally:
        server.shutdown()
        server.server_close()
    assert activity.person_last_activity(address, "/user/abc/", "sesame", timeout=1) is None  # gone


def test_the_hub_reads_idleness_from_the_servers_reports_not_the_proxys_traffic():
    """hub-config: the hub's poll of the proxy's traffic is off and each server reports its own
    activity at least four times per cull timeout (10 s at least, 300 s at most), in the
    jupyterhub_config.py and in the z2jh values alike."""
    from repo2desktop.serve import hubconfig

    for timeout, interval in ((30, 10), (600, 150), (3600, 300)):
        settings = hubconfig.HubSettings(image="img:1", cull_timeout=timeout)
        text = hubconfig.render_config(settings)
        assert "\nc.JupyterHub.last_activity_interval = 0\n" in text
        assert ('\nc.DockerSpawner.environment["JUPYTERHUB_ACTIVITY_INTERVAL"] = '
                'str(max(10, min(300, int(CULL_TIMEOUT) // 4)))\n') in text
        assert f"\nCULL_TIMEOUT = {timeout}\n" in text
        assert hubconfig.activity_interval(timeout) == max(10, min(300, timeout // 4)) == interval
        values = hubconfig.values(settings)
        assert values["hub"]["config"]["JupyterHub"]["last_activity_interval"] == 0
        assert values["singleuser"]["extraEnv"]["JUPYTERHUB_ACTIVITY_INTERVAL"] == str(interval)
