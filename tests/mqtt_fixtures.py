"""Real MQTT brokers for tests, reusable from any test folder.

In a conftest.py::

    from tests.mqtt_fixtures import mosquitto_broker, embedded_broker, mqtt_broker, bus  # noqa: F401

``mqtt_broker`` runs a test against both a real mosquitto (per session, random
loopback port, per-device users + ACL) and the embedded amqtt broker.
``bus`` is a factory of started, connected clients that are stopped after the test.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field

import pytest

from broker import messages
from broker.client import HubClient
from broker.mqtt import MqttConnection
from broker.topics import Topics
from host.ports import free_port
from hub.brokers import EmbeddedBroker, MosquittoBroker, find_mosquitto

OFFICE = "office"
CONNECT_TIMEOUT = 10.0
# (id, role, password) of every broker user the tests use
DEVICES = [
    ("hub", "hub", "hub-secret"),
    ("kiosk-1", "kiosk", "kiosk-1-secret"),
    ("kiosk-2", "kiosk", "kiosk-2-secret"),
    ("counter-1", "counter", "counter-1-secret"),
    ("board-1", "board", "board-1-secret"),
    ("rating-1", "rating", "rating-1-secret"),
    ("admin-1", "admin", "admin-1-secret"),
]
PASSWORDS = {d: p for d, _, p in DEVICES}
HUB_STATES = ("config", "queue", "board", "notice", "window/1", "window/2")   # a two-window hub's retained states


def broker_dir() -> str:
    """A temp dir that user ``mosquitto`` can traverse (mkdtemp makes 0700 dirs)."""
    path = tempfile.mkdtemp(prefix="talon-mqtt-")
    os.chmod(path, 0o755)
    return path


def start_mosquitto(**kwargs) -> MosquittoBroker:
    if not find_mosquitto():
        pytest.skip("mosquitto is not installed (apt install mosquitto)")
    kwargs.setdefault("devices", DEVICES)
    kwargs.setdefault("office", OFFICE)
    broker = MosquittoBroker(kwargs.pop("data_dir", None) or broker_dir(), "127.0.0.1", free_port(), **kwargs)
    broker.start()
    return broker


@dataclass
class BrokerHandle:
    """A running broker plus how to log in to it (no passwords for amqtt)."""

    kind: str
    broker: object
    authenticated: bool
    office: str = OFFICE
    topics: Topics = field(default_factory=lambda: Topics(OFFICE))

    @property
    def url(self) -> str:
        return self.broker.url

    def password(self, user: str) -> str | None:
        return PASSWORDS.get(user) if self.authenticated else None

    def hub_client(self, device: str, role: str, **kwargs) -> HubClient:
        kwargs.setdefault("password", self.password(device))
        return HubClient(self.url, self.office, device, role, **kwargs)

    def connection(self, user: str = "hub", client_id: str | None = None, **kwargs) -> MqttConnection:
        password = kwargs.pop("password", self.password(user))
        return MqttConnection(self.url, client_id or f"test-{user}-{os.urandom(3).hex()}",
                              user if self.authenticated or password else None, password, **kwargs)

    def clear_hub_states(self) -> None:
        """Make the broker forget the hub's retained states (so a test leaves none behind for the
        next one, or a restarted hub has to publish them again)."""
        conn = self.connection("hub")
        conn.start()
        conn.wait_connected(5)
        for name in HUB_STATES:
            conn.clear_retained(self.topics.state(name)).wait_for_publish(2)
        conn.stop()


@pytest.fixture(scope="session")
def mosquitto_broker():
    broker = start_mosquitto()
    yield BrokerHandle("mosquitto", broker, authenticated=True)
    broker.stop()
    shutil.rmtree(broker.dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_broker():
    broker = EmbeddedBroker("127.0.0.1", free_port())
    broker.start()
    yield BrokerHandle("amqtt", broker, authenticated=False)
    broker.stop()


@pytest.fixture(params=["mosquitto", "amqtt"])
def mqtt_broker(request) -> BrokerHandle:
    return request.getfixturevalue("mosquitto_broker" if request.param == "mosquitto" else "embedded_broker")


class Bus:
    """Start clients/connections and wait (bounded) until connected and subscribed; stops them later."""

    def __init__(self):
        self._started: list = []

    def start(self, conn, wait: bool = True):
        self._started.append(conn)
        conn.start()
        ready = getattr(conn, "wait_ready", None) or conn.wait_subscribed
        if wait and not ready(CONNECT_TIMEOUT):
            refusal = getattr(getattr(conn, "_conn", conn), "last_refusal", None)
            raise AssertionError(f"could not connect to the broker ({refusal or 'no answer'})")
        return conn

    def close(self) -> None:
        for conn in reversed(self._started):
            conn.stop()


@pytest.fixture
def bus():
    b = Bus()
    yield b
    b.close()


class EchoHub:
    """A tiny hub: answers every command with ``{"op", "args"}``.

    ``drop_first``: swallow the first copy of every command id (a lost reply), so
    the client must retry with the same id. Op ``cancel`` answers ``unknown_ticket``.
    """

    def __init__(self, handle: BrokerHandle, drop_first: bool = False):
        self.topics = handle.topics
        self.drop_first = drop_first
        self.seen: list[tuple[str, str]] = []  # (device, id) of every copy received
        self._lock = threading.Lock()
        self.conn = handle.connection("hub")
        self.conn.subscribe(self.topics.all_cmds, self._on_cmd)

    def _on_cmd(self, topic: str, payload: bytes, retained: bool) -> None:
        _, device = self.topics.parse(topic)
        try:
            cmd = messages.parse_command(payload)
        except messages.ContractError as exc:
            self.conn.publish(self.topics.reply(device), messages.error_reply(exc.request_id, exc))
            return
        with self._lock:
            first = (device, cmd.id) not in self.seen
            self.seen.append((device, cmd.id))
        if self.drop_first and first:
            return
        if cmd.op == "cancel":
            reply = messages.error_reply(cmd.id, "unknown_ticket")
        else:
            reply = messages.ok_reply(cmd.id, {"op": cmd.op, "args": cmd.args})
        self.conn.publish(self.topics.reply(device), reply)


class Inbox:
    """Thread-safe collector for callbacks; every wait is bounded."""

    def __init__(self):
        self.items: list = []
        self._cond = threading.Condition()

    def __call__(self, *item):
        with self._cond:
            self.items.append(item[0] if len(item) == 1 else item)
            self._cond.notify_all()

    def wait_for(self, pred=lambda item: True, timeout: float = CONNECT_TIMEOUT):
        """The first collected item matching ``pred`` (waits for it, bounded)."""
        with self._cond:
            found = []
            ok = self._cond.wait_for(lambda: found.extend(i for i in self.items if pred(i)) or found, timeout)
            if not ok:
                raise AssertionError(f"nothing matching arrived within {timeout} s; got {self.items!r}")
            return found[0]


def wait_until(pred, timeout: float = CONNECT_TIMEOUT, what: str = "condition") -> None:
    import time
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.01)
