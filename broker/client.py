"""``HubClient``: the device side of the bus (interface in docs/contract.md).

Commands carry their correlation id in the payload (MQTT 3.1.1 has no response
topic), are retried with the SAME id (the hub keeps ``(device, id) -> reply``, so a
retry never acts twice) and time out into ``HubUnreachable``.
"""
from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from broker import messages
from broker.errors import BusError, CommandError, HubUnreachable
from broker.mqtt import DEFAULT_URL, MqttConnection
from broker.topics import Topics, check_id, valid_state_name

__all__ = [
    "BusError",
    "CommandError",
    "HubClient",
    "HubUnreachable",
    "MqttConnection",
    "add_connection_arguments",
    "client_from_args",
]

log = logging.getLogger(__name__)


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("talon")
    except PackageNotFoundError:  # running from a source tree
        return "unknown"


class _Pending:
    __slots__ = ("done", "payload", "reply")

    def __init__(self, payload: bytes):
        self.payload = payload
        self.done = threading.Event()
        self.reply: dict | None = None


class HubClient:
    """One device's connection to the hub through the broker."""

    def __init__(self, broker_url: str, office: str, device: str, role: str,
                 username: str | None = None, password: str | None = None, *,
                 version: str | None = None, tries: int = 3, tls_ca: str | None = None,
                 protocol: int | None = None, keepalive: int = 15):
        self.topics = Topics(office)
        self.device = check_id(device, "device id")
        self.role = role
        self.tries = max(1, tries)
        self.version = version or _app_version()
        self._lock = threading.RLock()
        self._pending: dict[str, _Pending] = {}
        self._state: dict[str, dict] = {}
        self._state_watchers: dict[str, list[Callable[[dict], Any]]] = {}
        self._event_watchers: list[Callable[[dict], Any]] = []
        self._status_extra: dict = {}
        # each device is its own broker user; its id is the user name by default
        if username is None and password is not None:
            username = device
        will = messages.device_status(device, role, "offline", self.version)
        self._conn = MqttConnection(broker_url, f"talon-{office}-{device}", username, password,
                                    will=(self.topics.status(device), will), tls_ca=tls_ca,
                                    protocol=protocol, keepalive=keepalive)
        self._conn.subscribe(self.topics.reply(device), self._on_reply)
        self._conn.on_connection(self._on_connection)

    # --- the bus interface ---------------------------------------------------------
    def start(self) -> None:
        self._conn.start()

    def stop(self) -> None:
        """Say ``offline`` ourselves (a clean DISCONNECT suppresses the last will)."""
        if self._conn.connected:
            info = self._conn.publish_retained(self.topics.status(self.device), self._status("offline"))
            try:
                info.wait_for_publish(1.0)
            except (RuntimeError, ValueError):
                pass
        self._conn.stop()

    @property
    def connected(self) -> bool:
        return self._conn.connected

    def wait_connected(self, timeout: float) -> bool:
        return self._conn.wait_connected(timeout)

    def wait_ready(self, timeout: float) -> bool:
        """Connected and every watch/event subscription acknowledged (tests, start-up)."""
        return self._conn.wait_subscribed(timeout)

    def on_connection(self, cb: Callable[[bool], Any]) -> None:
        self._conn.on_connection(cb)

    def request(self, op: str, args: dict | None = None, timeout: float = 3.0, request_id: str | None = None) -> dict:
        """Send a command, return the reply's ``data``.

        Raises CommandError on ``ok: false`` and HubUnreachable when no reply came
        within ``timeout`` after ``tries`` sends of the same id. A caller that retries
        later (the visitor taps again) passes the same ``request_id``: the hub then
        answers with what it did the first time instead of doing it twice.
        """
        if self._conn.in_network_thread():
            raise RuntimeError("request() would deadlock on the MQTT thread; call it from another thread")
        msg = messages.request(op, args, request_id)
        pending = _Pending(messages.encode(msg))
        with self._lock:
            self._pending[msg["id"]] = pending
        deadline = time.monotonic() + timeout
        interval = timeout / self.tries
        try:
            for attempt in range(self.tries):
                if self._conn.connected:
                    if attempt:
                        log.info("no reply to %s %s yet; retrying with the same id", op, msg["id"])
                    self._send(pending)
                wait = min(interval, deadline - time.monotonic()) if attempt < self.tries - 1 \
                    else deadline - time.monotonic()
                if pending.done.wait(max(0.0, wait)):
                    break
        finally:
            with self._lock:
                self._pending.pop(msg["id"], None)
        reply = pending.reply
        if reply is None:
            raise HubUnreachable(f"no reply to {op!r} within {timeout:g} s")
        if not reply["ok"]:
            raise messages.reply_error(reply)
        return reply.get("data", {})

    def watch_state(self, name: str, cb: Callable[[dict], Any]) -> None:
        if not valid_state_name(name):
            raise ValueError(f"bad state name {name!r}")
        with self._lock:
            first = name not in self._state_watchers
            self._state_watchers.setdefault(name, []).append(cb)
            known = self._state.get(name)
        if known is not None:
            cb(known)
        if first:
            self._conn.subscribe(self.topics.state(name), self._on_state)

    def reread_state(self, name: str) -> None:
        """Have the broker send the retained ``state/<name>`` again (re-subscribe); the
        watchers get it as an update. A consumer that saw a gap in event ``seq`` calls this."""
        if not valid_state_name(name):
            raise ValueError(f"bad state name {name!r}")
        with self._lock:
            watched = name in self._state_watchers
        if not watched:
            raise ValueError(f"state {name!r} is not watched; call watch_state first")
        self._conn.resubscribe(self.topics.state(name))

    def on_event(self, cb: Callable[[dict], Any]) -> None:
        with self._lock:
            first = not self._event_watchers
            self._event_watchers.append(cb)
        if first:
            self._conn.subscribe(self.topics.event, self._on_event)

    def publish_status(self, status: dict) -> None:
        """Retained ``device/<id>/status``, merged with the birth fields; kept for reconnects."""
        with self._lock:
            self._status_extra.update(status)
        if self._conn.connected:
            self._conn.publish_retained(self.topics.status(self.device), self._status("online"))

    # --- internals (network thread) -----------------------------------------------------
    def _status(self, state: str) -> dict:
        payload = messages.device_status(self.device, self.role, state, self.version)
        with self._lock:
            payload.update({k: v for k, v in self._status_extra.items() if k not in ("v", "device", "state")})
        payload["at"] = messages.now_iso()
        return payload

    def _send(self, pending: _Pending) -> None:
        self._conn.publish(self.topics.cmd(self.device), pending.payload, qos=1)

    def _on_connection(self, connected: bool) -> None:
        if not connected:
            return
        self._conn.publish_retained(self.topics.status(self.device), self._status("online"))
        with self._lock:
            waiting = [p for p in self._pending.values() if not p.done.is_set()]
        for pending in waiting:  # don't make a command wait a whole retry interval
            self._send(pending)

    def _on_reply(self, topic: str, payload: bytes, retained: bool) -> None:
        reply = messages.parse_reply(payload)
        if reply is None:
            log.warning("ignoring a malformed reply on %s", topic)
            return
        with self._lock:
            pending = self._pending.get(reply["id"])
        if pending is not None and not pending.done.is_set():
            pending.reply = reply
            pending.done.set()
        # else: a late answer to a retry that was already answered; harmless

    def _on_state(self, topic: str, payload: bytes, retained: bool) -> None:
        try:
            _, name = self.topics.parse(topic)
        except ValueError:
            return
        state = messages.parse_payload(payload)
        with self._lock:
            if state is None:
                self._state.pop(name, None)  # cleared or unreadable: forget it
                return
            self._state[name] = state
            watchers = list(self._state_watchers.get(name, ()))
        for cb in watchers:
            self._call(cb, state)

    def _on_event(self, topic: str, payload: bytes, retained: bool) -> None:
        event = messages.parse_payload(payload)
        if event is None:
            log.warning("ignoring a malformed event")
            return
        with self._lock:
            watchers = list(self._event_watchers)
        for cb in watchers:
            self._call(cb, event)

    @staticmethod
    def _call(cb: Callable[[dict], Any], payload: dict) -> None:
        try:
            cb(payload)
        except Exception:  # one faulty screen callback must not stop the others
            log.exception("callback %r failed", cb)


# --- command line: every device CLI connects the same way -----------------------------

def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    g = parser.add_argument_group("hub connection")
    g.add_argument("--broker", default=env("TALON_BROKER", DEFAULT_URL),
                   help="broker URL, mqtt://host:port or mqtts://host:port (env TALON_BROKER; default %(default)s)")
    g.add_argument("--office", default=env("TALON_OFFICE", "office"), help="office id (env TALON_OFFICE)")
    g.add_argument("--device", default=env("TALON_DEVICE"),
                   help="this device's id, also its broker user (env TALON_DEVICE; default <role>-1)")
    g.add_argument("--password", default=env("TALON_DEVICE_PASSWORD"),
                   help="this device's broker password (prefer env TALON_DEVICE_PASSWORD: argv is visible to ps)")
    g.add_argument("--broker-ca", default=env("TALON_BROKER_CA"),
                   help="CA certificate file for an mqtts:// broker (env TALON_BROKER_CA)")


def client_from_args(args: argparse.Namespace, role: str, **kwargs: Any) -> HubClient:
    return HubClient(args.broker, args.office, args.device or f"{role}-1", role,
                     password=args.password, tls_ca=getattr(args, "broker_ca", None), **kwargs)
