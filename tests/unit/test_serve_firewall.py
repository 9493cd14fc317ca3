"""The pure parts of serve's host firewall: which interface, which rules, which ones to delete.
(The rules themselves are applied and probed from a visitor's container in tests/serve.)"""
from __future__ import annotations

import pytest

from repo2desktop.serve.docker_adapter import bridge_name
from repo2desktop.serve.firewall import FirewallError, bridge_of, rules, tagged


def test_the_pools_bridge_name_is_stable_and_fits_linux_interface_names():
    longest = "p" * 40  # --pool-name allows 40 characters
    assert bridge_name(longest) == bridge_name(longest)
    assert len(bridge_name(longest)) <= 15
    assert bridge_name("serve-8000") != bridge_name("serve-8001")


@pytest.mark.parametrize("network, bridge", [
    ({"Driver": "bridge", "Id": "0123456789abcdef", "Options": {"com.docker.network.bridge.name": "r2d-x"}}, "r2d-x"),
    ({"Driver": "bridge", "Id": "0123456789abcdef", "Options": {}}, "br-0123456789ab"),  # the engine's default name
    ({"Driver": "bridge", "Id": "0123456789abcdef", "Options": {"com.docker.network.bridge.name": "docker0"}}, "docker0"),
])
def test_bridge_of_a_network(network, bridge):
    assert bridge_of(network) == bridge


def test_a_network_that_is_not_a_bridge_is_refused_with_the_way_out():
    with pytest.raises(FirewallError, match=r"network ov uses the 'overlay' driver; .*--allow-host-access"):
        bridge_of({"Name": "ov", "Driver": "overlay", "Id": "0" * 12})


def test_replies_are_accepted_before_everything_else_is_dropped():
    accept, drop = rules("r2d-abc", "p1")
    assert accept == ["-i", "r2d-abc", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED",
                      "-m", "comment", "--comment", "r2d-serve:p1", "-j", "ACCEPT"]
    assert drop == ["-i", "r2d-abc", "-m", "comment", "--comment", "r2d-serve:p1", "-j", "DROP"]


def test_only_this_pools_rules_are_found_for_deletion():
    listing = "\n".join([
        "-P INPUT ACCEPT",
        '-A INPUT -i r2d-abc -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "r2d-serve:p1" -j ACCEPT',
        '-A INPUT -i r2d-abc -m comment --comment "r2d-serve:p1" -j DROP',
        '-A INPUT -i r2d-def -m comment --comment "r2d-serve:p10" -j DROP',  # another pool
        '-A INPUT -i eth0 -m comment --comment "something else" -j ACCEPT',
        "-A INPUT -i lo -j ACCEPT",
    ])
    assert tagged(listing, "p1") == [
        ["-i", "r2d-abc", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-m", "comment",
         "--comment", "r2d-serve:p1", "-j", "ACCEPT"],
        ["-i", "r2d-abc", "-m", "comment", "--comment", "r2d-serve:p1", "-j", "DROP"],
    ]
    assert tagged(listing, "p2") == []
