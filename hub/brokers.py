"""Three ways for the hub to have a broker: external URL, supervised mosquitto, embedded amqtt.

``choose_broker`` picks one: a URL if given, else mosquitto if installed, else the
embedded amqtt fallback (MQTT 3.1.1 only, no per-device users).
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from broker.mqtt import BrokerAddress
from hub.mosquitto_files import (
    Device,
    acl_text,
    bridge_lines,
    devices_from,
    mosquitto_conf,
    password_file_text,
)
from queue_core.config import HqLink

log = logging.getLogger(__name__)

__all__ = [
    "EmbeddedBroker",
    "ExternalBroker",
    "MosquittoBroker",
    "choose_broker",
    "find_mosquitto",
    "wait_for_port",
]


def find_mosquitto() -> str | None:
    # Debian puts it in /usr/sbin, which is not on a normal user's PATH
    return shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")


def wait_for_port(host: str, port: int, timeout: float, alive=lambda: True) -> bool:
    """True once ``host:port`` accepts TCP connections (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class _Broker:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class ExternalBroker(_Broker):
    """A broker someone else runs (mosquitto on another box, EMQX…): nothing to start."""

    def __init__(self, url: str):
        address = BrokerAddress.parse(url)
        self.host, self.port, self._url = address.host, address.port, url

    @property
    def url(self) -> str:
        return self._url

    def start(self) -> None:
        log.info("using the external MQTT broker %s", self.host)

    def stop(self) -> None:
        pass


class MosquittoBroker(_Broker):
    """mosquitto as a supervised child process with a generated config, users and ACL, and a
    bridge to head office when ``hq`` is given (with the office's ``hq_password`` there)."""

    def __init__(self, data_dir: str | os.PathLike, host: str = "127.0.0.1", port: int = 1883,
                 devices: Iterable[Device | tuple[str, str, str]] = (), allow_anonymous: bool = False,
                 office: str = "office", executable: str | None = None,
                 hq: HqLink | None = None, hq_password: str | None = None):
        self.dir = Path(data_dir) / "mosquitto"
        self.host, self.port, self.office = host, port, office
        self.bridge = bridge_lines(office, hq, hq_password or "") if hq is not None else None
        self.devices = devices_from(devices)
        self.allow_anonymous = allow_anonymous
        self.executable = executable or find_mosquitto() or "mosquitto"
        self.conf_path = self.dir / "mosquitto.conf"
        self.log_path = self.dir / "mosquitto.log"
        self.restarts = 0
        self._proc: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    # --- files ---------------------------------------------------------------------
    def write_files(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        passwd, acl = self.dir / "passwd", self.dir / "acl"
        with_users = bool(self.devices)
        if with_users:
            passwd.write_text(password_file_text(self.devices))
            acl.write_text(acl_text(self.office, self.devices, self.allow_anonymous))
            os.chmod(passwd, 0o600)
            os.chmod(acl, 0o600)
        run_as = self._run_as()
        self.conf_path.write_text(mosquitto_conf(
            self.host, self.port, self.dir, allow_anonymous=self.allow_anonymous or not with_users,
            password_file=passwd if with_users else None, acl_file=acl if with_users else None,
            user=run_as, bridge=self.bridge))
        os.chmod(self.conf_path, 0o600)     # the bridge's password to head office is in it
        if run_as == "mosquitto":
            # root mosquitto drops to user mosquitto BEFORE reading passwd/acl and persistence
            import pwd
            pw = pwd.getpwnam("mosquitto")
            for path in [self.dir, *self.dir.iterdir()]:
                os.chown(path, pw.pw_uid, pw.pw_gid)

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None  # mosquitto keeps our user
        try:
            import pwd
            pwd.getpwnam("mosquitto")
        except KeyError:
            log.warning("no user 'mosquitto': mosquitto will run as root")
            return "root"
        for parent in self.dir.resolve().parents:  # can user mosquitto reach our files?
            if not os.stat(parent).st_mode & 0o001:
                log.warning("%s is not traversable by user mosquitto; running mosquitto as root", parent)
                return "root"
        return "mosquitto"

    # --- process -----------------------------------------------------------------------
    @property
    def pid_path(self) -> Path:
        return self.dir / "mosquitto.pid"

    def _end_orphan(self) -> None:
        """A hub that was SIGKILLed leaves its mosquitto running (it outlives its parent:
        dropping privileges clears PDEATHSIG). Ours is recognised by its config path."""
        try:
            pid = int(self.pid_path.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        if str(self.conf_path).encode() not in cmdline:
            return
        log.warning("ending mosquitto %d left running by an earlier hub", pid)
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)

    def start(self, timeout: float = 10.0) -> None:
        self._end_orphan()
        if wait_for_port(self.host, self.port, 0.1):
            raise RuntimeError(f"mosquitto did not start: {self.host}:{self.port} is already in use")
        self.write_files()
        self._stopping.clear()
        self._spawn()
        up = wait_for_port(self.host, self.port, timeout, alive=lambda: self._proc.poll() is None)
        if not up or self._proc.poll() is not None:
            self.stop()
            raise RuntimeError(f"mosquitto did not start on {self.host}:{self.port}; see {self.log_path}:\n"
                               + self._log_tail())
        log.info("mosquitto listening on %s:%s (config %s)", self.host, self.port, self.conf_path)
        self._supervisor = threading.Thread(target=self._supervise, name="mosquitto-supervisor", daemon=True)
        self._supervisor.start()

    def _spawn(self) -> None:
        # In a session of its own, so a Ctrl-C in the terminal (SIGINT to the whole
        # foreground process group) reaches only the hub, which then stops its devices'
        # connections first and the broker last (``stop``), instead of the broker dying first.
        with self._lock, open(self.log_path, "ab") as out:
            self._proc = subprocess.Popen([self.executable, "-c", str(self.conf_path)],
                                          stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True)
            self.pid_path.write_text(str(self._proc.pid))

    def _supervise(self) -> None:
        delay = 0.2
        while not self._stopping.is_set():
            proc = self._proc
            rc = proc.wait()
            # A deliberate stop may reach mosquitto a moment before ``stop`` says so here
            # (systemd signalling the hub's whole cgroup): give it that moment before
            # calling the exit a failure.
            if self._stopping.wait(delay):
                return
            log.error("mosquitto exited (code %s); restarting", rc)
            self.restarts += 1
            self._spawn()
            if wait_for_port(self.host, self.port, 10.0, alive=lambda: self._proc.poll() is None):
                delay = 0.2
            else:
                delay = min(delay * 2, 10.0)

    def kill(self) -> None:
        """SIGKILL the broker (a crash, for tests); the supervisor restarts it."""
        with self._lock:
            if self._proc is not None:
                self._proc.kill()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Graceful stop: SIGTERM lets mosquitto save retained messages to disk."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout)
            self._supervisor = None

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class _SnapshotDict(dict):
    """amqtt 0.12 iterates its subscription table across ``await``s; a client that
    connects while another subscribes then dies with "dictionary changed size during
    iteration". Iterating over a snapshot makes that loop safe."""

    def __iter__(self):
        return iter(list(super().keys()))


class EmbeddedBroker(_Broker):
    """amqtt inside this process (a background thread with its own event loop).

    The fallback when mosquitto is not installed: MQTT 3.1.1 only, anonymous, no ACL,
    so it should listen on loopback only.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 1883):
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        log.warning("no mosquitto: using the embedded amqtt broker on %s:%s as a fallback "
                    "(MQTT 3.1.1, anonymous, no per-device users)", self.host, self.port)
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("the embedded broker has no authentication but listens on %s", self.host)
        for name in ("amqtt", "transitions"):  # chatty at INFO
            logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).getEffectiveLevel()))
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._start())
            except Exception as exc:  # noqa: BLE001 -- reported by start(), not lost in the thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="amqtt-broker", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or failure:
            raise RuntimeError(f"embedded broker did not start on {self.host}:{self.port}: "
                               f"{failure[0] if failure else 'timeout'}")

    async def _start(self) -> None:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._broker = Broker(config, loop=self._loop)
        if isinstance(getattr(self._broker, "_subscriptions", None), dict):
            self._broker._subscriptions = _SnapshotDict(self._broker._subscriptions)
        await self._broker.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._broker is not None and self._loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                fut.result(timeout)
            except Exception:
                log.exception("embedded broker did not shut down cleanly")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._loop.close()
        self._loop = self._thread = self._broker = None


def choose_broker(url: str | None = None, *, data_dir: str | os.PathLike = "data", host: str = "127.0.0.1",
                  port: int = 1883, devices: Iterable = (), office: str = "office",
                  allow_anonymous: bool = False) -> _Broker:
    """An external URL if given, else mosquitto if installed, else the embedded amqtt."""
    if url:
        return ExternalBroker(url)
    if find_mosquitto():
        return MosquittoBroker(data_dir, host, port, devices, allow_anonymous=allow_anonymous, office=office)
    return EmbeddedBroker(host, port)
