import socket
import threading

import pytest

from host import watchdog


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def test_watchdog_noop_without_notify_socket():
    assert watchdog.notify_ready() is False
    assert watchdog.notify_watchdog() is False


def test_watchdog_ready_sends_datagram(notify_socket):
    assert watchdog.notify_ready("up") is True
    assert notify_socket.recv(4096) == b"READY=1\nSTATUS=up"
    assert watchdog.notify_watchdog() is True
    assert notify_socket.recv(4096) == b"WATCHDOG=1"


def test_watchdog_abstract_namespace_socket(monkeypatch):
    name = f"talon-test-{threading.get_ident()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(10)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert watchdog.notify_stopping()
        assert sock.recv(100) == b"STOPPING=1"
    finally:
        sock.close()


def test_watchdog_unreachable_socket_does_not_raise(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    assert watchdog.notify_watchdog() is False


@pytest.mark.parametrize("env, expected", [
    ({}, None),
    ({"WATCHDOG_USEC": "30000000"}, 15.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),
    ({"WATCHDOG_USEC": "junk"}, None),
])
def test_watchdog_interval_from_systemd(env, expected):
    assert watchdog.watchdog_interval(env) == expected


def test_heartbeat_pings_only_while_healthy():
    sent = []
    state = {"ok": True}
    beat = watchdog.Heartbeat(lambda: state["ok"], interval=60, send=lambda: sent.append(1) or True)
    assert beat.beat() is True
    state["ok"] = False
    assert beat.beat() is False
    beat._healthy = lambda: 1 / 0  # a raising health check counts as unhealthy
    assert beat.beat() is False
    assert (len(sent), beat.pings, beat.skipped) == (1, 1, 2)


def test_heartbeat_thread_pings_the_real_socket(notify_socket):
    with watchdog.Heartbeat(interval=0.01):
        got = [notify_socket.recv(100) for _ in range(3)]
    assert got == [b"WATCHDOG=1"] * 3


def test_ui_watchdog_pings_from_the_scheduler(monkeypatch):
    from host import watchdog
    sent, scheduled = [], []
    monkeypatch.setattr(watchdog, "notify", lambda *fields, environ=None: sent.append(fields) or True)
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog.start_ui_watchdog(lambda fn, every: scheduled.append((fn, every)), "kiosk running")
    assert sent[0] == ("READY=1", "STATUS=kiosk running") and scheduled[0][1] == 15.0
    scheduled[0][0](0.5)                       # the UI thread's clock fires
    assert sent[-1] == ("WATCHDOG=1",)
