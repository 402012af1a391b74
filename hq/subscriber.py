"""The ingest's MQTT side: a persistent paho session that hands batches to ``hq.ingest.Ingest``.

* One fixed client id (``hq-ingest``), MQTT 5 with ``clean_start`` off and a week's session
  expiry: while the ingest is down the broker queues what its subscriptions match.
* Manual acknowledgement: a batch's PUBACKs go out only after ``Ingest.handle`` committed it,
  so a SIGKILLed ingest gets every message it had not stored again (duplicates are skipped on
  ``(office, seq)``). A message received before a reconnection is never acknowledged on the
  new connection (packet ids are per connection); the broker sends it again instead.
* TCP_NODELAY on every socket (docs/contract.md, «Writing a client»).
* One worker thread applies the batches and runs the gap timers (``Ingest.tick``), so the
  ingest needs no lock.
"""
from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker import messages
from broker.mqtt import BrokerAddress, set_nodelay
from hq.ingest import SUBSCRIPTIONS, Ingest, Message
from hq.offices import INGEST_USER

log = logging.getLogger(__name__)

CLIENT_ID = "hq-ingest"
SESSION_EXPIRY_S = 7 * 24 * 3600
BATCH_MAX = 1000          # messages per transaction (the broker's in-flight window holds three)
BATCH_WAIT_S = 0.02       # gather a batch for at most this long once a message came
GATHER_POLL_S = 0.002     # how often a batch being gathered looks whether it is full
TICK_S = 0.5              # gap timers
REPORT_S = 60.0           # the counts in the log, when they changed
RETRY_S = (0.5, 10.0)     # a batch the database refused is handed in again after these pauses


class IngestSubscriber:
    def __init__(self, ingest: Ingest, broker_url: str, password: str | None, *, client_id: str = CLIENT_ID,
                 tls_ca: str | None = None, batch_max: int = BATCH_MAX):
        self.ingest = ingest
        self.address = BrokerAddress.parse(broker_url)
        self.batch_max = batch_max
        self.batches = 0
        # paho's thread appends, the worker pops: a deque needs no lock for that (queue.Queue took
        # two lock round trips a message); ``_mail`` wakes the worker from idle
        self._inbox: deque[tuple[int, int, int, Message]] = deque()
        self._mail = threading.Event()
        self._generation = 0            # grows with every connection: packet ids are per connection
        self._ack_lock = threading.Lock()  # no reconnection between checking the generation and acking
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._worker: threading.Thread | None = None
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5,
                        manual_ack=True)
        c.username_pw_set(INGEST_USER, password)
        if self.address.tls:
            c.tls_set(ca_certs=tls_ca, cert_reqs=ssl.CERT_REQUIRED)
        c.reconnect_delay_set(1, 10)
        c.max_queued_messages_set(100_000)
        c.on_socket_open = lambda client, userdata, sock: set_nodelay(sock)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self._client = c

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.ingest.start()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(self.address.host, self.address.port, 30, clean_start=False, properties=props)
        self._client.loop_start()
        self._worker = threading.Thread(target=self._work, name="hq-ingest", daemon=True)
        self._worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def publish(self, topic: str, payload: dict) -> None:
        self._client.publish(topic, messages.encode(payload), qos=1)

    # ------------------------------------------------------------------ paho callbacks (network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("head-office broker %s:%s refused the ingest: %s", self.address.host, self.address.port,
                      reason_code)
            return
        with self._ack_lock:
            self._generation += 1
        client.subscribe([(f, 1) for f in SUBSCRIPTIONS])
        self._connected.set()
        log.info("ingest connected to %s:%s (session %s)", self.address.host, self.address.port,
                 "resumed" if flags.session_present else "new")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("ingest lost the broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, msg) -> None:
        self._inbox.append((self._generation, msg.mid, msg.qos, Message(msg.topic, msg.payload, bool(msg.retain))))
        if not self._mail.is_set():
            self._mail.set()

    # ------------------------------------------------------------------ the worker
    def _work(self) -> None:
        next_tick = next_report = time.monotonic()
        reported = None
        while not self._stop.is_set():
            batch = self._gather()
            if batch:
                self._apply(batch)
            now = time.monotonic()
            if now >= next_tick:
                try:
                    self.ingest.tick()
                except Exception:
                    log.exception("the ingest's gap timers failed; carrying on")
                next_tick = now + TICK_S
            if now >= next_report and self.ingest.counts != reported:
                reported = replace(self.ingest.counts)
                log.info("ingest: %s", reported)
                next_report = now + REPORT_S

    def _gather(self) -> list[tuple[int, int, int, Message]]:
        """Up to ``batch_max`` messages: those waiting, and what comes within ``BATCH_WAIT_S`` of
        the first one while the batch is not full; [] after ``TICK_S`` with none."""
        inbox = self._inbox
        if not inbox:
            self._mail.clear()
            if not inbox:                   # checked again: a message may have come before the clear
                self._mail.wait(TICK_S)
            if not inbox:
                return []
        until = time.monotonic() + BATCH_WAIT_S
        while len(inbox) < self.batch_max and (left := until - time.monotonic()) > 0:
            time.sleep(min(left, GATHER_POLL_S))
        return [inbox.popleft() for _ in range(min(len(inbox), self.batch_max))]

    def _apply(self, batch: list[tuple[int, int, int, Message]]) -> None:
        pause = RETRY_S[0]
        while not self._stop.is_set():
            try:
                self.ingest.handle([m for _, _, _, m in batch])
                break
            except Exception:   # the database is away: the same batch again (it is idempotent), no ack meanwhile
                log.warning("ingest batch not stored; trying again in %.1f s", pause)
                self._stop.wait(pause)
                pause = min(pause * 2, RETRY_S[1])
        else:
            return
        self.batches += 1
        with self._ack_lock:
            for generation, mid, qos, _ in batch:
                if qos > 0 and generation == self._generation:
                    self._client.ack(mid, qos)

    @property
    def paho(self) -> Any:
        return self._client
