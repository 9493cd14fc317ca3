"""runtime.allocate.reserve_display: the reservation (our own flock, an X lock naming us, an
abstract socket name for TightVNC), what counts as a taken display, and how the error says
who holds it. The X lock and socket paths are the real ones in /tmp (every X server and
repo2desktop process must agree on them), so these tests use display numbers far above any
in use. Other accounts' files are made by root (chown) here; tests/host/test_other_user.py
runs the same against a real second account."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from repo2desktop.runtime import allocate, guard, xsocket

NOBODY = 65534


def comm() -> str:
    with open(f"/proc/{os.getpid()}/comm") as f:
        return f.read().strip()


@pytest.fixture
def base() -> int:
    """Three free display numbers BASE..BASE+2, well away from real ones (and their VNC
    ports 5900+N from anything listening)."""
    def free(number: int) -> bool:
        if not allocate.display_is_free(number, needs_vnc_port=True):
            return False
        probe, _ = allocate.lock_display(number, allocate.VNC_BASE_PORT + number)
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


@pytest.fixture
def files():
    """Paths a test creates in /tmp, removed after it."""
    made = []
    yield made
    for path in made:
        if os.path.lexists(path):
            os.unlink(path)


def test_the_reservation_is_held_until_released(base, held):
    first = allocate.reserve_display(base)
    held.append(first)
    folder = f"/tmp/.repo2desktop-{os.getuid()}"
    assert (first.number, first.path) == (base, f"{folder}/display-{base}.lock")
    info = os.lstat(folder)
    assert info.st_uid == os.getuid() and info.st_mode & 0o777 == 0o700
    # An X lock naming us, in the X servers' own format, tells every user's X server and
    # repo2desktop that the display is taken.
    assert guard.x_lock_pid(base) == os.getpid() == first.x_lock_pid
    # Another process cannot take it, and is given the next one.
    assert allocate.lock_display(base)[0] is None
    second = allocate.reserve_display(base)
    held.append(second)
    assert second.number == base + 1
    with pytest.raises(allocate.DisplayUnavailable,
                       match=rf"^display :{base} is held by your {re.escape(comm())} \(pid {os.getpid()}\)$"):
        allocate.reserve_display(number=base)
    with pytest.raises(allocate.DisplayUnavailable) as error:
        allocate.reserve_display(base, limit=2)
    assert str(error.value) == (f"no free X display between :{base} and :{base + 1}: "
                                f":{base} is held by your {comm()} (pid {os.getpid()}); "
                                f":{base + 1} is held by your {comm()} (pid {os.getpid()})")
    # Released: the files go, the number is free again.
    first.release()
    assert not os.path.exists(first.path) and guard.x_lock_pid(base) is None
    again = allocate.reserve_display(base)
    held.append(again)
    assert again.number == base


def test_the_lock_dies_with_its_holder(base, held):
    """A killed holder loses nothing: the kernel drops its flock, and its X lock names a
    process that is gone (the files may stay)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from repo2desktop.runtime import allocate; "
         f"r = allocate.reserve_display(number={base}); print(r.number, flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == str(base)
        assert allocate.lock_display(base)[0] is None
        with pytest.raises(allocate.DisplayUnavailable, match=rf"held by your python\S* \(pid {holder.pid}\)"):
            allocate.reserve_display(number=base)
    finally:
        holder.kill()
        holder.communicate()
    assert guard.x_lock_pid(base) == holder.pid
    reservation = allocate.reserve_display(number=base)
    held.append(reservation)
    assert reservation.number == base and guard.x_lock_pid(base) == os.getpid()


def test_another_users_files_in_the_old_shared_place_block_nothing(base, held, files):
    """Before issue 16 every user reserved through /tmp/.repo2desktop-display-N.lock: a file
    of mode 0600 made there by another account kept everyone else off display N."""
    for number in range(base, base + 3):
        path = allocate.legacy_reservation_path(number)
        files.append(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchown(fd, NOBODY, NOBODY)
        os.close(fd)
    reservation = allocate.reserve_display(base, limit=3)
    held.append(reservation)
    assert reservation.number == base


def test_an_older_repo2desktop_of_ours_keeps_its_display(base, held, files):
    """Processes of the version before keep holding the shared file of their display."""
    path = allocate.legacy_reservation_path(base)
    files.append(path)
    older = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; "
         f"fd = os.open({path!r}, os.O_RDONLY | os.O_CREAT, 0o644); fcntl.flock(fd, fcntl.LOCK_EX); "
         "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert older.stdout.readline().strip() == "held"
        with pytest.raises(allocate.DisplayUnavailable,
                           match=rf"^display :{base} is reserved by an older repo2desktop of yours \({path}\)$"):
            allocate.reserve_display(number=base)
        reservation = allocate.reserve_display(base)
        held.append(reservation)
        assert reservation.number == base + 1
    finally:
        older.kill()
        older.communicate()


def test_a_live_x_server_takes_its_display(base, held, files):
    lock = guard.x_lock_path(base)
    files.append(lock)
    with open(lock, "x") as f:
        f.write(f"{os.getpid():10d}\n")  # the X servers' own format, naming a live process
    assert not allocate.display_is_free(base, needs_vnc_port=False)
    reservation = allocate.reserve_display(base, needs_vnc_port=False)
    held.append(reservation)
    assert reservation.number == base + 1


def test_a_dead_x_servers_lock_counts_as_free_when_it_is_ours(base, held, files):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    lock = guard.x_lock_path(base)
    files.append(lock)
    with open(lock, "x") as f:
        f.write(f"{int(gone.stdout):10d}\n")
    assert allocate.display_is_free(base, needs_vnc_port=False)
    reservation = allocate.reserve_display(base, needs_vnc_port=False)
    held.append(reservation)
    assert reservation.number == base and guard.x_lock_pid(base) == os.getpid()


def test_another_users_x_files_are_named_in_the_error(base, files):
    """Each way another account's files hold a display, in words (even root skips them now:
    it cannot tell a stale lock from one handed over to a starting X server)."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    cases = {base: gone.stdout, base + 1: str(os.getpid()), base + 2: "garbage"}
    for number, content in cases.items():
        lock = guard.x_lock_path(number)
        files.append(lock)
        with open(lock, "x") as f:
            f.write(f"{content.strip():>10}\n")
        os.chown(lock, NOBODY, NOBODY)
    with pytest.raises(allocate.DisplayUnavailable) as error:
        allocate.reserve_display(base, limit=3)
    assert str(error.value) == (
        f"no free X display between :{base} and :{base + 2}: "
        f":{base} is held by /tmp/.X{base}-lock, a stale lock file of user nobody "
        f"(pid {int(gone.stdout)} has ended; only nobody or root can remove it); "
        f":{base + 1} is held by /tmp/.X{base + 1}-lock, a lock file of user nobody naming "
        f"your {comm()} (pid {os.getpid()}); "
        f":{base + 2} is held by /tmp/.X{base + 2}-lock of nobody, which is not a readable X lock")


def test_a_left_over_socket_of_another_user_is_named(base, files):
    os.makedirs("/tmp/.X11-unix", exist_ok=True)
    path = guard.x_socket_path(base)
    files.append(path)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()
    os.chown(path, NOBODY, NOBODY)
    with pytest.raises(allocate.DisplayUnavailable,
                       match=rf"^display :{base} is held by {path}, a left-over socket of user nobody "
                             r"\(only nobody or root can remove it\)$"):
        allocate.reserve_display(number=base)


def test_a_bound_abstract_name_takes_the_display(base, held):
    squatter = socket.socket(socket.AF_UNIX)
    squatter.bind(f"\0/tmp/.X11-unix/X{base}")
    try:
        with pytest.raises(allocate.DisplayUnavailable,
                           match=rf"^display :{base} is held by your {re.escape(comm())} \(pid {os.getpid()}\), "
                                 rf"bound to the abstract X socket @/tmp/.X11-unix/X{base}$"):
            allocate.reserve_display(number=base)
    finally:
        squatter.close()
    # TightVNC's reservation binds the name itself (without listening), for its whole life.
    tight = allocate.reserve_display(base, hold_abstract=True)
    held.append(tight)
    assert tight.number == base and xsocket.abstract_name_taken(base)
    with socket.socket(socket.AF_UNIX) as client, pytest.raises(ConnectionRefusedError):
        client.connect(f"\0/tmp/.X11-unix/X{base}")  # X clients fall back to the file
    tight.release()
    assert not xsocket.abstract_name_taken(base)


def test_the_x_lock_is_handed_over_to_a_process_that_cannot_exist(base, held):
    reservation = allocate.reserve_display(base, needs_vnc_port=False)
    held.append(reservation)
    inode = os.stat(guard.x_lock_path(base)).st_ino
    assert allocate.hand_over_x_lock(base, reservation.x_lock_pid)
    assert guard.x_lock_pid(base) == allocate.NO_PROCESS
    assert not guard.is_alive(allocate.NO_PROCESS)
    assert os.stat(guard.x_lock_path(base)).st_ino != inode  # replaced in one rename
    assert oct(os.stat(guard.x_lock_path(base)).st_mode & 0o777) == "0o444"
    # Not ours any more to hand over; and our own reservation still keeps the number.
    assert not allocate.hand_over_x_lock(base, reservation.x_lock_pid)
    assert allocate.lock_display(base)[0] is None
    reservation.release()
    guard.remove_stale_x_files(base)
    assert guard.x_lock_pid(base) is None


def test_our_own_flock_alone_keeps_the_display_after_the_hand_over(base, held, files):
    """With another account's file in the old shared place (ignored, so not locked), the
    flock on our own reservation file is all that keeps the number once the X lock names no
    process: another repo2desktop of ours must not take it then."""
    path = allocate.legacy_reservation_path(base)
    files.append(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchown(fd, NOBODY, NOBODY)
    os.close(fd)
    reservation = allocate.reserve_display(number=base, needs_vnc_port=False)
    held.append(reservation)
    assert reservation.locks == []  # the legacy file is not held
    assert allocate.hand_over_x_lock(base, reservation.x_lock_pid)
    taken, why = allocate.lock_display(base)
    if taken is not None:
        held.append(taken)
    assert taken is None and why == f"reserved by your repo2desktop (pid {os.getpid()})"


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
