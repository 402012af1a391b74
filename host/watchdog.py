"""systemd readiness and watchdog pings, without python-systemd.

A unit with ``Type=notify`` and ``WatchdogSec=30`` expects the service to say
``READY=1`` once it is up and ``WATCHDOG=1`` more often than every 30 s; if the pings
stop (a hung main loop, a dead broker connection the app cannot recover from),
systemd kills the process and ``Restart=on-failure`` starts it again.

The protocol is one datagram per message on the AF_UNIX socket named by
``NOTIFY_SOCKET`` (``@name`` = abstract namespace). When ``NOTIFY_SOCKET`` is unset
(a developer's terminal, the tests) every function here does nothing.

Example (a role's entry point)::

    from host.watchdog import Heartbeat, notify_ready

    beat = Heartbeat(lambda: client.is_connected() and loop_alive())
    beat.start()
    notify_ready("connected to the broker")
    ...
    beat.stop()
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 10.0
"""Seconds between pings when systemd does not say (a third of WatchdogSec=30)."""


def _address(environ: dict[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    addr = env.get("NOTIFY_SOCKET")
    if not addr:
        return None
    if addr.startswith("@"):
        return "\0" + addr[1:]
    return addr


def notify(*fields: str, environ: dict[str, str] | None = None) -> bool:
    """Send ``KEY=value`` fields to systemd; False (and nothing sent) when not under systemd."""
    addr = _address(environ)
    if addr is None:
        return False
    payload = "\n".join(fields).encode("utf-8")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(addr)
            sock.sendall(payload)
    except OSError as exc:
        # Never let the watchdog plumbing take the service down; systemd will notice.
        log.warning("sd_notify to %s failed: %s", addr.lstrip("\0"), exc)
        return False
    return True


def notify_ready(status: str | None = None) -> bool:
    """Tell systemd the service is up (``READY=1``), with an optional status line."""
    fields = ["READY=1"]
    if status:
        fields.append(f"STATUS={status}")
    return notify(*fields)


def notify_watchdog() -> bool:
    """One keep-alive ping (``WATCHDOG=1``)."""
    return notify("WATCHDOG=1")


def notify_status(status: str) -> bool:
    """Update the line ``systemctl status`` shows."""
    return notify(f"STATUS={status}")


def notify_stopping() -> bool:
    """Tell systemd a clean shutdown has begun (``STOPPING=1``)."""
    return notify("STOPPING=1")


def watchdog_interval(environ: dict[str, str] | None = None) -> float | None:
    """Half of the watchdog timeout systemd passed (``WATCHDOG_USEC``), or None when unset.

    ``WATCHDOG_PID`` names the process meant to ping; another process gets None.
    """
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    try:
        return max(int(usec) / 1_000_000 / 2, 0.1)
    except ValueError:
        return None


class Heartbeat:
    """A daemon thread that pings the watchdog while ``healthy()`` returns True.

    When ``healthy()`` returns False (or raises) the ping is skipped, so a process
    stuck in a bad state is restarted by systemd instead of limping on.

    :param healthy: called once per interval from the heartbeat thread; keep it cheap
        and thread-safe (read a flag or a timestamp the main loop updates).
    :param interval: seconds between pings; default half of ``WATCHDOG_USEC``, else 10 s.
    :param send: the ping function (tests pass a recorder).
    """

    def __init__(
        self,
        healthy: Callable[[], bool] = lambda: True,
        *,
        interval: float | None = None,
        send: Callable[[], bool] = notify_watchdog,
    ) -> None:
        self._healthy = healthy
        self.interval = interval or watchdog_interval() or DEFAULT_INTERVAL
        self._send = send
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pings = 0
        self.skipped = 0

    def beat(self) -> bool:
        """Check health once and ping if healthy; returns whether a ping was sent."""
        try:
            ok = bool(self._healthy())
        except Exception:  # a failing health check means "unhealthy", never a crash
            log.exception("health check raised; not pinging the watchdog")
            ok = False
        if not ok:
            self.skipped += 1
            return False
        self._send()
        self.pings += 1
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.interval)

    def start(self) -> Heartbeat:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="talon-watchdog", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> Heartbeat:  # noqa: PYI034 - Self needs 3.11 typing; fine either way
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_ui_watchdog(schedule_interval: Callable[[Callable, float], object], status: str) -> bool:
    """For the Kivy roles: say READY=1 and ping the watchdog *from the UI thread*
    (``schedule_interval`` is Kivy's ``Clock.schedule_interval``), so a frozen screen
    stops the pings and systemd restarts the app. A no-op outside systemd."""
    notify_ready(status)
    interval = watchdog_interval()
    if interval:
        schedule_interval(lambda _dt: notify_watchdog(), interval)
    return interval is not None
