"""The hub process: a broker, the dispatcher on one worker thread, and the MQTT plumbing.

paho's network thread only enqueues; one worker applies commands in arrival order
(the single writer) and publishes what the dispatcher returns, so a slow fsync never
stalls the socket. On every (re)connection all retained state is republished from
the database, and the queue state is refreshed periodically as waits age.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from broker.dispatcher import Dispatcher, Publication
from broker.mqtt import MqttConnection
from broker.topics import Topics
from storage.queue_db import QueueDatabase

log = logging.getLogger(__name__)

REFRESH_S = 15.0
FLUSH_EVERY_S = 0.2     # under a sustained burst the queue state still goes out this often
_STOP = object()


class Hub:
    def __init__(self, db: QueueDatabase, broker_url: str, *, username: str | None = None,
                 password: str | None = None, clock: Callable[[], datetime] | None = None,
                 refresh_s: float = REFRESH_S):
        self.dispatcher = Dispatcher(db, clock=clock)
        self.topics = Topics(db.config.office_id)
        self.refresh_s = refresh_s
        self.commands_handled = 0
        self._inbox: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="hub-dispatcher", daemon=True)
        self._ticker = threading.Event()
        self.conn = MqttConnection(broker_url, f"talon-hub-{db.config.office_id}", username, password,
                                   persistent=True)
        self.conn.subscribe(self.topics.all_cmds, self._on_command)
        self.conn.subscribe(self.topics.all_statuses, self._on_status)
        self.conn.on_connection(lambda up: up and self._inbox.put(("republish", None, None)))

    # ------------------------------------------------------------------ lifecycle
    def start(self, wait_s: float = 10.0) -> None:
        self._worker.start()
        threading.Thread(target=self._tick, name="hub-refresh", daemon=True).start()
        self.conn.start()
        if not self.conn.wait_subscribed(wait_s):
            log.warning("hub not connected to the broker yet; it keeps trying")

    def stop(self) -> None:
        self._ticker.set()
        self._inbox.put((_STOP, None, None))
        self._worker.join(5)
        self.conn.stop()
        self.dispatcher.db.close()

    @property
    def healthy(self) -> bool:
        return self._worker.is_alive() and self.conn.connected

    # ------------------------------------------------------------------ network thread
    def _on_command(self, topic: str, payload: bytes, retained: bool) -> None:
        if retained:
            return      # a command is never retained; ignore anything a broker replays
        try:
            _, device = self.topics.parse(topic)
        except ValueError:
            return
        self._inbox.put(("cmd", device, payload))

    def _on_status(self, topic: str, payload: bytes, retained: bool) -> None:
        try:
            _, device = self.topics.parse(topic)
        except ValueError:
            return
        self._inbox.put(("status", device, payload))

    # ------------------------------------------------------------------ worker
    def _work(self) -> None:
        last_flush = time.monotonic()
        while True:
            if self._inbox.empty() or time.monotonic() - last_flush > FLUSH_EVERY_S:
                try:
                    self._publish(self.dispatcher.flush())     # idle (or busy for long): queue state out
                except Exception:
                    log.exception("hub worker: publishing the queue state failed; carrying on")
                last_flush = time.monotonic()
            kind, device, payload = self._inbox.get()
            if kind is _STOP:
                return
            try:
                if kind == "cmd":
                    self._publish(self.dispatcher.handle_command(device, payload))
                    self.commands_handled += 1
                elif kind == "status":
                    self.dispatcher.handle_status(device, payload)
                elif kind == "republish":
                    self._publish(self.dispatcher.all_states())
                elif kind == "refresh":
                    self._publish(self.dispatcher.refresh())
                elif kind == "call":
                    device()   # a function to run on the writer thread (settings, directory reload)
            except Exception:
                log.exception("hub worker: %s from %s failed; carrying on", kind, device)

    def _publish(self, pubs: Iterable[Publication]) -> None:
        for p in pubs:
            self.conn.publish(p.topic, p.payload, qos=1, retain=p.retain)

    def _tick(self) -> None:
        while not self._ticker.wait(self.refresh_s):
            self._inbox.put(("refresh", None, None))

    def apply_config(self, config) -> None:
        """New office settings (saved on the web): applied between commands, then pushed
        to every device through the retained ``state/config``."""
        self.run_on_writer(lambda: self._publish(self.dispatcher.apply_config(config)))

    def run_on_writer(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the dispatcher's thread, between commands."""
        self._inbox.put(("call", fn, None))


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
