"""`repo2desktop serve`: wires engine, proxy, pool, culler and the HTTP servers together.

Start: find configurable-http-proxy (or say in one line how to install it), check the image,
take the pool's lease (refused while another live serve holds this pool name), make (or adopt)
the pool's private network and close it to this host (firewall.py), start the proxy, adopt this
pool's running containers (claimed ones get their routes back at once), then keep spares warm.
Stop: SIGINT/SIGTERM remove every container, route, network and firewall rule this pool made.
SIGHUP exits but leaves the containers for the next `serve` with the same pool name to adopt
(a restart in which no visitor loses their session). The lease goes last either way.
"""
from __future__ import annotations

import secrets
import signal
import sys
import threading
import time
from typing import Callable, Optional

from repo2desktop.runtime.allocate import free_port
from repo2desktop.serve import culler
from repo2desktop.serve.docker_adapter import Engine
from repo2desktop.serve.firewall import HostFirewall, bridge_of
from repo2desktop.serve.lease import Lease, PoolTaken
from repo2desktop.serve.options import ServeOptions
from repo2desktop.serve.pool import CLAIMED, STARTING, Pool, Slot
from repo2desktop.serve.proxy import Proxy, find_executable
from repo2desktop.serve.web import AdminHandler, PublicHandler, serve_in_thread


def terminal_log(line: str) -> None:
    print(time.strftime("%H:%M:%S ") + line, file=sys.stdout, flush=True)


class Service:
    def __init__(self, options: ServeOptions, log: Callable[[str], None] = terminal_log):
        self.options, self.log = options, log
        self.executable = find_executable(options.proxy_command)  # before touching Docker
        self.engine = Engine(options)
        self.lease = Lease(self.engine.client, options.pool_name, options.image, self.engine.user)
        self.stopping = threading.Event()
        self.exit_mode = "stop"
        self.pool: Optional[Pool] = None
        self.filler: Optional[threading.Thread] = None
        self.proxy: Optional[Proxy] = None
        self.firewall: Optional[HostFirewall] = None
        self.started = False
        self.servers = []

    def start(self) -> None:
        o = self.options
        web_port = free_port()
        token = o.proxy_token or secrets.token_hex(32)
        self.lease.acquire(on_lost=self._lease_lost)  # before anything of the pool is touched
        self._close_to_host(self.engine.ensure_network())  # before any container starts
        self.proxy = Proxy(self.executable, o.ip, o.port, f"http://127.0.0.1:{web_port}", token,
                           self.log, on_restart=lambda: self.pool and self.pool.reroute(),
                           api_port=o.proxy_api_port)
        self.proxy.start()
        self.pool = Pool(o, self.engine, self.proxy.client, self.log)
        self.engine.watch_deaths(self.pool.on_death, self.stopping)
        self._adopt()
        # Only now the public side answers: a visitor of an adopted session who reloads never
        # falls through to our 404 because their route is not back yet.
        self.servers.append(serve_in_thread(PublicHandler, "127.0.0.1", web_port, o, self.pool))
        self.servers.append(serve_in_thread(AdminHandler, o.admin_ip, o.admin_port, o, self.pool))
        culler.start(self.pool, o.cull_period, self.stopping, self.log)
        self.filler = threading.Thread(target=self.pool.fill_forever, daemon=True, name="filler")
        self.filler.start()
        self.started = True
        self.log(f"serve: {o.image} at http://{o.ip}:{o.port}/ (pool '{o.pool_name}': "
                 f"{o.pool_size} spares, at most {o.max_containers}); admin API "
                 f"http://{o.admin_ip}:{o.admin_port}/api/pool; Ctrl-C stops and removes everything")

    def _close_to_host(self, network: dict) -> None:
        if self.options.allow_host_access:
            self.log("serve: --allow-host-access: visitors can reach services listening on this host")
            return
        firewall = HostFirewall(bridge_of(network), self.options.pool_name,
                                ipv6=bool(network.get("EnableIPv6")))
        firewall.apply()
        self.firewall = firewall

    def _adopt(self) -> None:
        for found in self.engine.list_own():
            if not (found.running and found.token and found.user_id):
                self.engine.remove(found.id)
                self.log(f"pool: removed a stopped container of this pool ({found.id[:12]})")
                continue
            slot = Slot(found.user_id, found.token, created=found.created, container_id=found.id,
                        state=CLAIMED if found.claimed else STARTING)
            if found.claimed:
                slot.claimed_at = time.time()  # idle time counts from now on
            self.pool.adopt(slot)

    def _lease_lost(self) -> None:
        """The lease container went while we serve (`docker rm -f` of it, an engine restart):
        take it again, or step down, leaving the containers to the serve that holds it now."""
        while not self.stopping.is_set():
            try:
                self.lease.acquire(on_lost=self._lease_lost)
                self.log(f"serve: the lease of pool '{self.options.pool_name}' was lost and taken again")
                return
            except PoolTaken as e:
                self.log(str(e))
                self.log("serve: stepping down; the containers stay for that serve")
                self.stopping.set()  # shutdown() sees the lease is not held: nothing is removed
                return
            except Exception as e:  # the engine restarting: try again
                self.log(f"serve: the lease of pool '{self.options.pool_name}' was lost; "
                         f"taking it again failed: {e}")
                self.stopping.wait(2)

    def handle_signals(self) -> None:
        def on_signal(signum, frame):
            self.exit_mode = "detach" if signum == signal.SIGHUP else "stop"
            self.stopping.set()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, on_signal)

    def wait(self) -> None:
        while not self.stopping.wait(1.0):
            pass

    def shutdown(self) -> None:
        self.stopping.set()
        for server in self.servers:
            server.shutdown()
            server.server_close()
        self.engine.stop_watching()
        if self.pool:
            self.pool.stopping.set()
        if not self.lease.held:
            # Refused at start, or stepped down: the pool's containers are not ours to touch.
            if self.proxy:
                self.proxy.stop()
            return
        try:
            if self.exit_mode == "detach":
                self._detach()
            else:
                self._remove_everything()
        finally:
            self.lease.release()

    def _detach(self) -> None:
        kept = len(self.pool.snapshot()) if self.pool else 0
        if self.proxy:
            self.proxy.stop()
        self.log(f"serve: exiting; {kept} containers left running for the next "
                 f"`serve --pool-name {self.options.pool_name}` to adopt")

    def _remove_everything(self) -> None:
        if self.pool:
            # A container the filler is creating right now would otherwise appear after the
            # sweep below and keep the network busy ("has active endpoints"): let it finish
            # (launch() removes what it made once it sees the pool stopping).
            self.pool.stopping.set()
            if self.filler is not None:
                self.filler.join(120)
        removed = len(self.pool.snapshot()) if self.pool else 0
        if self.pool:
            self.pool.remove_all()
        # Containers a crashed launch may have left (labels say they are ours).
        for found in self.engine.list_own():
            self.engine.remove(found.id)
            removed += 1
        if self.proxy:
            self.proxy.stop()
        self.engine.remove_network()
        if self.firewall:
            self.firewall.remove()
        if not self.started:
            return  # the error that stopped the start is the one line to read
        self.log(f"serve: stopped; removed {removed} containers, their routes"
                 + (f", network {self.engine.network_name}" if self.engine.own_network else "")
                 + (f" and firewall rules on {self.firewall.bridge}" if self.firewall else ""))


def run(options: ServeOptions) -> int:
    service = Service(options)
    service.handle_signals()
    try:
        service.start()
        service.wait()
    finally:
        service.shutdown()
    return 0
