"""The one paho-mqtt wrapper every Talon process uses (devices and hub).

One place for what every connection needs: TCP_NODELAY on each new socket
(otherwise Nagle + delayed ACK cost 40-90 ms per round trip), reconnect forever
with backoff, re-subscribe after each reconnect, callbacks that never kill the
network thread. Works with MQTT 3.1.1 (amqtt) and 5 (mosquitto).
"""
from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.client import MQTTMessageInfo
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker import messages

log = logging.getLogger(__name__)

DEFAULT_URL = "mqtt://127.0.0.1:1883"
MessageCallback = Callable[[str, bytes, bool], Any]  # (topic, payload, retained)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """``mqtt://[user:pass@]host[:port]`` or ``mqtts://…`` (TLS, default port 8883)."""
        if "://" not in url:
            url = "mqtt://" + url
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp", "mqtts", "ssl", "tls"):
            raise ValueError(f"unsupported broker URL scheme {parts.scheme!r} (use mqtt:// or mqtts://)")
        tls = parts.scheme in ("mqtts", "ssl", "tls")
        if not parts.hostname:
            raise ValueError(f"broker URL {url!r} has no host")
        return cls(parts.hostname, parts.port or (8883 if tls else 1883), tls,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


def set_nodelay(sock: Any) -> None:
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # websocket wrappers, closed sockets
        log.debug("could not set TCP_NODELAY on %r", sock)


class MqttConnection:
    """A resilient MQTT connection: ``subscribe`` once, it stays subscribed across reconnects."""

    def __init__(self, broker_url: str, client_id: str, username: str | None = None,
                 password: str | None = None, *, will: tuple[str, bytes | dict] | None = None,
                 persistent: bool = False, keepalive: int = 15, tls_ca: str | None = None,
                 protocol: int | None = None, reconnect_delay: tuple[int, int] = (1, 10)):
        self.address = BrokerAddress.parse(broker_url)
        self.client_id = client_id
        self.protocol = protocol or paho.MQTTv311
        self.persistent = persistent
        self.keepalive = keepalive
        self.last_refusal: str | None = None  # why the broker refused the last CONNECT
        self._lock = threading.RLock()
        self._subs: list[tuple[str, int, MessageCallback]] = []
        self._hooks: list[Callable[[bool], Any]] = []
        self._connected = threading.Event()
        self._unacked: set[int] = set()  # SUBSCRIBE mids without a SUBACK yet
        self._subs_done = threading.Condition(self._lock)
        self._started = False

        kwargs: dict[str, Any] = {}
        if self.protocol != paho.MQTTv5:
            kwargs["clean_session"] = not persistent
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion(self.protocol),
                        **kwargs)
        c.suppress_exceptions = True  # belt and braces: our callbacks catch their own
        c.max_queued_messages_set(10000)
        c.reconnect_delay_set(*reconnect_delay)
        user = username if username is not None else self.address.username
        if user is not None:
            c.username_pw_set(user, password if password is not None else self.address.password)
        if self.address.tls:
            c.tls_set(ca_certs=tls_ca, cert_reqs=ssl.CERT_REQUIRED)
        if will is not None:
            topic, payload = will
            c.will_set(topic, self._bytes(payload), qos=1, retain=True)
        c.on_socket_open = self._on_socket_open
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        self._client = c

    # --- lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background; paho's thread reconnects forever."""
        if self._started:
            return
        self._started = True
        kwargs: dict[str, Any] = {}
        if self.protocol == paho.MQTTv5:
            kwargs["clean_start"] = not self.persistent
            if self.persistent:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = 24 * 3600
                kwargs["properties"] = props
        self._client.connect_async(self.address.host, self.address.port, self.keepalive, **kwargs)
        self._client.loop_start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._client.disconnect()
        self._client.loop_stop()
        self._set_connected(False)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def wait_subscribed(self, timeout: float) -> bool:
        """True once connected and every subscription is acknowledged by the broker."""
        with self._subs_done:
            return self._subs_done.wait_for(lambda: self.connected and not self._unacked, timeout)

    def in_network_thread(self) -> bool:
        return threading.current_thread() is getattr(self._client, "_thread", None)

    def on_connection(self, cb: Callable[[bool], Any]) -> None:
        """``cb(connected)`` on every change; on connect it runs after re-subscribing."""
        with self._lock:
            self._hooks.append(cb)

    @property
    def paho(self) -> paho.Client:
        return self._client

    # --- messaging -----------------------------------------------------------------
    def subscribe(self, topic_filter: str, cb: MessageCallback, qos: int = 1) -> None:
        """``cb(topic, payload, retained)`` for each message matching ``topic_filter``."""
        with self._lock:
            self._subs.append((topic_filter, qos, cb))
            if self.connected:
                self._subscribe([(topic_filter, qos)])

    def resubscribe(self, topic_filter: str) -> bool:
        """Subscribe to ``topic_filter`` again so the broker resends its retained messages.

        Unsubscribe then subscribe (MQTT 3.1.1 §3.8.4 and 5 resend retained messages on a
        new subscription). False when not connected: the next connection subscribes anew
        and gets them then. ``topic_filter`` must have been ``subscribe``-d before."""
        with self._lock:
            qos = max((q for f, q, _ in self._subs if f == topic_filter), default=None)
            if qos is None:
                raise ValueError(f"not subscribed to {topic_filter!r}")
            if not self.connected:
                return False
            self._client.unsubscribe(topic_filter)
            self._subscribe([(topic_filter, qos)])
            return True

    def publish(self, topic: str, payload: bytes | str | dict, qos: int = 1, retain: bool = False) -> MQTTMessageInfo:
        return self._client.publish(topic, self._bytes(payload), qos=qos, retain=retain)

    def publish_retained(self, topic: str, payload: bytes | str | dict, qos: int = 1) -> MQTTMessageInfo:
        return self.publish(topic, payload, qos=qos, retain=True)

    def clear_retained(self, topic: str) -> MQTTMessageInfo:
        """An empty retained message removes the retained one from the broker."""
        return self.publish(topic, b"", qos=1, retain=True)

    def _subscribe(self, filters: list[tuple[str, int]]) -> None:
        with self._lock:  # held so the SUBACK callback cannot run before we note the mid
            rc, mid = self._client.subscribe(filters)
            if rc == paho.MQTT_ERR_SUCCESS and mid is not None:
                self._unacked.add(mid)

    @staticmethod
    def _bytes(payload: bytes | str | dict) -> bytes:
        if isinstance(payload, dict):
            return messages.encode(payload)
        return payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)

    # --- paho callbacks (network thread) ----------------------------------------------
    def _on_socket_open(self, client, userdata, sock) -> None:
        set_nodelay(sock)  # every new socket, i.e. after every reconnect too

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.last_refusal = str(reason_code)
            log.error("broker %s:%s refused %s: %s (check the device id and password)",
                      self.address.host, self.address.port, self.client_id, reason_code)
            return
        self.last_refusal = None
        sock = client.socket()
        if sock is not None:
            set_nodelay(sock)
        with self._lock:
            filters: dict[str, int] = {}
            for topic_filter, qos, _ in self._subs:
                filters[topic_filter] = max(qos, filters.get(topic_filter, 0))
            self._unacked.clear()
            if filters:
                self._subscribe(list(filters.items()))
        log.info("connected to broker %s:%s as %s", self.address.host, self.address.port, self.client_id)
        self._set_connected(True)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected and self._started:
            log.warning("lost the broker connection (%s); reconnecting", reason_code)
        self._set_connected(False)

    def _set_connected(self, value: bool) -> None:
        if value == self.connected:
            return
        with self._subs_done:
            (self._connected.set if value else self._connected.clear)()
            self._subs_done.notify_all()
        with self._lock:
            hooks = list(self._hooks)
        for cb in hooks:
            try:
                cb(value)
            except Exception:
                log.exception("connection callback %r failed", cb)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [rc for rc in reason_codes if rc.is_failure]
        if refused:
            log.error("broker refused a subscription of %s: %s", self.client_id, refused)
        with self._subs_done:
            self._unacked.discard(mid)
            self._subs_done.notify_all()

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            targets = [cb for f, _, cb in self._subs if paho.topic_matches_sub(f, msg.topic)]
        for cb in targets:
            try:
                cb(msg.topic, msg.payload, bool(msg.retain))
            except Exception:
                log.exception("message callback for %s failed", msg.topic)
