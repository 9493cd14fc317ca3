"""Real idleness: the person's last input on the desktop, as Jupyter's activity.

Two sources record it under ``last_activity_times["repo2desktop-input"]``, which Jupyter's
``/api/status`` ``last_activity`` (and so JupyterHub's idle culler and ``serve``'s) reads:

- the X server's idle time (the MIT-SCREEN-SAVER extension): while a TigerVNC desktop runs,
  the Jupyter server asks for it every ``REPO2DESKTOP_IDLE_POLL`` seconds (5 by default). It
  sees every input, from the page or from XTEST, and a program that must keep the server alive
  without input (a long computation shown on the desktop) says so the way screen savers are
  held off: ``xset s reset`` now and then (or ``xdg-screensaver reset``);
- the keys, pointer events and pasted text the page's relay carries (relay.py, parsed by
  runtime/rfbclientstream.py), on every server. Xtightvnc 1.3 has neither MIT-SCREEN-SAVER nor
  SYNC's IDLETIME counter (checked: its 7 extensions, SYNC with SERVERTIME only), so on TightVNC
  this is the only input Jupyter sees and ``xset s reset`` reaches nothing.

libX11 and libXss are loaded with ctypes (both come with the X client libraries the desktop
installs); without them, or on TightVNC, the X server's idle time is not asked.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import datetime
import os
from typing import Optional

POLL_SECONDS = 5.0
POLL_VARIABLE = "REPO2DESKTOP_IDLE_POLL"  # seconds between two questions (tests: 1)
ACTIVITY_KEY = "repo2desktop-input"


class _Info(ctypes.Structure):
    # XScreenSaverInfo (X11/extensions/scrnsaver.h)
    _fields_ = [("window", ctypes.c_ulong), ("state", ctypes.c_int), ("kind", ctypes.c_int),
                ("til_or_since", ctypes.c_ulong), ("idle", ctypes.c_ulong),
                ("eventMask", ctypes.c_ulong)]


def idle_seconds(display: str) -> Optional[float]:
    """Seconds since the last input on DISPLAY (with this process's XAUTHORITY), or None when
    its X server cannot tell (no MIT-SCREEN-SAVER: TightVNC 1.3) or cannot be reached.
    Run in a child process (``python -m repo2desktop.jupyter.idle``): Xlib ends the process
    whose X server goes away, which must never be the Jupyter server."""
    x11_path, xss_path = ctypes.util.find_library("X11"), ctypes.util.find_library("Xss")
    if not (x11_path and xss_path):
        return None
    x11, xss = ctypes.CDLL(x11_path), ctypes.CDLL(xss_path)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    xss.XScreenSaverQueryExtension.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int),
                                               ctypes.POINTER(ctypes.c_int)]
    xss.XScreenSaverQueryInfo.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_Info)]
    connection = x11.XOpenDisplay(display.encode())
    if not connection:
        return None
    try:
        base, error = ctypes.c_int(), ctypes.c_int()
        if not xss.XScreenSaverQueryExtension(connection, ctypes.byref(base), ctypes.byref(error)):
            return None
        info = _Info()
        if not xss.XScreenSaverQueryInfo(connection, x11.XDefaultRootWindow(connection), ctypes.byref(info)):
            return None
        return info.idle / 1000.0
    finally:
        x11.XCloseDisplay(connection)


async def ask_idle_seconds(display: str) -> Optional[float]:
    """idle_seconds(DISPLAY) from a child process, without blocking the event loop."""
    import asyncio
    import os
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "repo2desktop.jupyter.idle", display,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=dict(os.environ, DISPLAY=display))
    out, _ = await process.communicate()
    try:
        return float(out) if process.returncode == 0 else None
    except ValueError:
        return None


# The X server's idle time is read in a child process: "now - idle" lands a few milliseconds
# later or earlier for the same last input, depending on how long the answer took. Without this
# margin every poll would move last_activity on a little, and an untouched desktop never idles.
JITTER = datetime.timedelta(seconds=1)


def record_input(settings: dict, seconds: Optional[float],
                 margin: datetime.timedelta = datetime.timedelta(0)) -> Optional[datetime.datetime]:
    """Record the input SECONDS ago as Jupyter activity, when it is more than MARGIN later than
    the one recorded (never moving it back); the recorded time."""
    if seconds is None:
        return None
    last_input = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    times = settings.setdefault("last_activity_times", {})
    if times.get(ACTIVITY_KEY) is None or last_input > times[ACTIVITY_KEY] + margin:
        times[ACTIVITY_KEY] = last_input
    return times[ACTIVITY_KEY]


def poll_seconds(environ=os.environ) -> float:
    """REPO2DESKTOP_IDLE_POLL as seconds (> 0), else ValueError naming it."""
    text = environ.get(POLL_VARIABLE, "")
    if not text:
        return POLL_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 86400:
        raise ValueError(f"{POLL_VARIABLE}={text!r}: not a number of seconds between 0 and 86400")
    return seconds


def watch(settings: dict, display: str, running, seconds: float = POLL_SECONDS):
    """Every SECONDS, while RUNNING() says the desktop runs, record its last input (one child
    process at a time); the started tornado PeriodicCallback."""
    import asyncio

    from tornado.ioloop import PeriodicCallback

    pending = []

    async def poll() -> None:
        try:
            record_input(settings, await ask_idle_seconds(display), JITTER)
        finally:
            pending.clear()

    def tick() -> None:
        if running() and not pending:
            pending.append(asyncio.ensure_future(poll()))

    callback = PeriodicCallback(tick, seconds * 1000)
    callback.start()
    return callback


if __name__ == "__main__":
    import sys

    found = idle_seconds(sys.argv[1])
    if found is None:
        sys.exit(1)
    print(f"{found:.3f}")
