"""Visitors cannot reach this host's own services: the pool's bridge is closed to the host.

A container reaches the host through its bridge interface: whatever host address it connects
to (the network's gateway, docker0's, the host's public one), the packets arrive on the host's
INPUT chain ``-i BRIDGE``. So a service listening on all interfaces (a database, a dev server,
the Docker API on TCP) was open to every visitor. Two rules at the top of INPUT, tagged
``r2d-serve:<pool>``, keep only what the containers need from the host, which is replies to
connections the host opened (the proxy and the readiness probes connect *to* the containers):

    -i BRIDGE -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    -i BRIDGE -j DROP

Traffic to other networks is forwarded (FORWARD), not delivered to the host, and stays as the
engine sets it; Docker's embedded DNS answers inside each container's own network namespace.
Containers on a network without IPv6 have IPv6 switched off; a network with IPv6 gets the same
two rules from ip6tables. Applied at start (a restarted serve finds them in place), kept over
SIGHUP (the containers stay too), removed when serve stops.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
from typing import List, Sequence

from repo2desktop.errors import Repo2DesktopError
from repo2desktop.serve.docker_adapter import BRIDGE_NAME

OPT_OUT = "--allow-host-access"
CHAIN = "INPUT"
# Where iptables lives when serve runs as a user whose PATH lacks the sbin folders.
SBIN = "/usr/local/sbin:/usr/sbin:/sbin"


class FirewallError(Repo2DesktopError):
    pass


def tag(pool: str) -> str:
    return f"r2d-serve:{pool}"


def bridge_of(network: dict) -> str:
    """The host-side interface of a Docker bridge network (from its inspect attributes)."""
    if network.get("Driver") != "bridge":
        raise FirewallError(
            f"serve: network {network.get('Name')} uses the {network.get('Driver')!r} driver; "
            f"closing the pool's network to this host works on bridge networks only "
            f"({OPT_OUT} runs without it, letting visitors reach services listening on this host)")
    return (network.get("Options") or {}).get(BRIDGE_NAME) or f"br-{network['Id'][:12]}"


def rules(bridge: str, pool: str) -> List[List[str]]:
    """The rules, in the order they must stand at the top of INPUT."""
    marked = ["-m", "comment", "--comment", tag(pool)]
    return [["-i", bridge, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", *marked,
             "-j", "ACCEPT"],
            ["-i", bridge, *marked, "-j", "DROP"]]


def tagged(listing: str, pool: str) -> List[List[str]]:
    """The rules of `iptables -S INPUT` output LISTING that carry POOL's tag, as arguments
    for ``-D INPUT`` (without the chain)."""
    found = []
    for line in listing.splitlines():
        words = shlex.split(line)
        if words[:2] != ["-A", CHAIN] or "--comment" not in words:
            continue
        if words[words.index("--comment") + 1:][:1] == [tag(pool)]:
            found.append(words[2:])
    return found


class HostFirewall:
    def __init__(self, bridge: str, pool: str, ipv6: bool = False):
        self.bridge, self.pool = bridge, pool
        self.tools = [_find(tool) for tool in (("iptables", "ip6tables") if ipv6 else ("iptables",))]

    def apply(self) -> None:
        """Put the rules in place (once, in order), or raise FirewallError with what failed
        and the way out. Nothing is left half-done."""
        try:
            for tool in self.tools:
                wanted = rules(self.bridge, self.pool)
                if all(_run(tool, "-C", rule, check=False).returncode == 0 for rule in wanted):
                    continue
                self._remove(tool)
                for rule in reversed(wanted):  # each goes to the top: the ACCEPT ends up first
                    _run(tool, "-I", rule, position=1)
        except FirewallError:
            self.remove()
            raise

    def remove(self) -> None:
        """Every rule tagged with this pool (whatever bridge it names) gone; quiet about
        what is already gone."""
        for tool in self.tools:
            try:
                self._remove(tool)
            except FirewallError:
                pass

    def _remove(self, tool: str) -> None:
        listing = _run(tool, "-S", [], check=True).stdout
        for rule in tagged(listing, self.pool):
            _run(tool, "-D", rule, check=False)


def _find(tool: str) -> str:
    found = shutil.which(tool) or shutil.which(tool, path=SBIN)
    if not found:
        raise FirewallError(
            f"serve: {tool} not found: it closes the pool's network to this host's services "
            f"(install iptables, which the engine's own package depends on, or pass {OPT_OUT} "
            f"to let visitors reach services listening on this host)")
    return found


def _run(tool: str, action: str, rule: Sequence[str], position: int = 0,
         check: bool = True) -> subprocess.CompletedProcess:
    argv = [tool, "-w", "10", action, CHAIN, *([str(position)] if position else []), *rule]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise FirewallError(
            f"serve: {' '.join(argv)}: {reason} (closing the pool's network to this host needs "
            f"root; {OPT_OUT} runs without it, letting visitors reach services listening on this "
            f"host)")
    return done
