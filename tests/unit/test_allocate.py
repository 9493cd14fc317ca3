"""runtime.allocate.reserve_display: the flock()ed reservation, and what counts as a taken
display. The reservation and X lock paths are the real ones in /tmp (every repo2desktop
process must agree on them), so these tests use display numbers far above any in use."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from repo2desktop.runtime import allocate, guard


@pytest.fixture
def base() -> int:
    """Three free display numbers BASE..BASE+2, well away from real ones (and their VNC
    ports 5900+N from anything listening)."""
    def free(number: int) -> bool:
        if not allocate.display_is_free(number, needs_vnc_port=True):
            return False
        probe = allocate.lock_display(number)
        if probe is None:
            return False
        probe.release()
        return True

    for start in range(3000 + os.getpid() % 500 * 3, 4600, 3):
        if all(free(n) for n in range(start, start + 3)):
            return start
    pytest.fail("no three free display numbers between :3000 and :4600")


@pytest.fixture
def held():
    """Reservations made by a test, released after it."""
    taken = []
    yield taken
    for reservation in taken:
        reservation.release()


def test_the_reservation_is_held_until_released(base, held):
    first = allocate.reserve_display(base)
    held.append(first)
    assert (first.number, first.path) == (base, allocate.reservation_path(base))
    assert os.path.exists(first.path)
    # Another process (here: another open file) cannot take it, and is given the next one.
    assert allocate.lock_display(base) is None
    second = allocate.reserve_display(base)
    held.append(second)
    assert second.number == base + 1
    with pytest.raises(RuntimeError, match=rf"^display :{base} is in use$"):
        allocate.reserve_display(number=base)
    with pytest.raises(RuntimeError, match=rf"^no free X display between :{base} and :{base + 1}$"):
        allocate.reserve_display(base, limit=2)
    # Released: the file goes, the number is free again.
    first.release()
    assert not os.path.exists(first.path)
    again = allocate.reserve_display(base)
    held.append(again)
    assert again.number == base


def test_the_lock_dies_with_its_holder(base, held):
    """A killed holder loses nothing: the kernel drops its flock (the file may stay)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from repo2desktop.runtime import allocate; "
         f"r = allocate.reserve_display(number={base}); print(r.number, flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == str(base)
        assert allocate.lock_display(base) is None
    finally:
        holder.kill()
        holder.communicate()
    reservation = allocate.reserve_display(number=base)
    held.append(reservation)
    assert reservation.number == base


def test_a_live_x_server_takes_its_display(base, held):
    lock = guard.x_lock_path(base)
    with open(lock, "x") as f:
        f.write(f"{os.getpid():10d}\n")  # the X servers' own format, naming a live process
    try:
        assert not allocate.display_is_free(base, needs_vnc_port=False)
        reservation = allocate.reserve_display(base, needs_vnc_port=False)
        held.append(reservation)
        assert reservation.number == base + 1
    finally:
        os.unlink(lock)


def test_a_dead_x_servers_lock_counts_as_free(base, held):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    lock = guard.x_lock_path(base)
    with open(lock, "x") as f:
        f.write(f"{int(gone.stdout):10d}\n")
    try:
        assert allocate.display_is_free(base, needs_vnc_port=False)
        reservation = allocate.reserve_display(base, needs_vnc_port=False)
        held.append(reservation)
        assert reservation.number == base
    finally:
        if os.path.exists(lock):
            os.unlink(lock)


def test_a_bound_vnc_port_takes_the_display_only_when_one_is_needed(base, held):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", allocate.VNC_BASE_PORT + base))
        sock.listen(1)
        tightvnc = allocate.reserve_display(base, needs_vnc_port=True)
        held.append(tightvnc)
        assert tightvnc.number == base + 1  # TightVNC listens on 5900+N
        tightvnc.release()
        tigervnc = allocate.reserve_display(base, needs_vnc_port=False)
        held.append(tigervnc)
        assert tigervnc.number == base  # TigerVNC uses a unix socket
