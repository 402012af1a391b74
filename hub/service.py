"""The hub process: a broker, the dispatcher, and the MQTT plumbing.

Commands are applied on paho's network thread as they arrive — one thread, so they
are applied one at a time in arrival order, and the reply and the call event leave
without a hop to another thread. Everything else that touches the dispatcher (the
queue state rebuilt after a burst, periodic refreshes, republishing on reconnect,
new settings) runs on a helper thread under the same lock: the dispatcher always
has a single writer. On every (re)connection all retained state is republished from
the database, and the queue state is refreshed periodically as waits age.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from broker.mqtt import MqttConnection
from broker.topics import Topics
from hub.dispatcher import Dispatcher, Listener, Publication
from storage.queue_db import QueueDatabase

log = logging.getLogger(__name__)

REFRESH_S = 15.0
FLUSH_EVERY_S = 0.1     # the queue state follows a burst of commands within this
_STOP = object()


class Hub:
    def __init__(self, db: QueueDatabase, broker_url: str, *, username: str | None = None,
                 password: str | None = None, clock: Callable[[], datetime] | None = None,
                 refresh_s: float = REFRESH_S, public_url: str | None = None):
        self.dispatcher = Dispatcher(db, clock=clock, public_url=public_url)
        self.topics = Topics(db.config.office_id)
        self.refresh_s = refresh_s
        self.commands_handled = 0
        self._lock = threading.Lock()              # the dispatcher's single writer
        self._chores: queue.Queue = queue.Queue()
        self._helper = threading.Thread(target=self._work, name="hub-helper", daemon=True)
        self.conn = MqttConnection(broker_url, f"talon-hub-{db.config.office_id}", username, password,
                                   persistent=True)
        self.conn.subscribe(self.topics.all_cmds, self._on_command)
        self.conn.subscribe(self.topics.all_statuses, self._on_status)
        self.conn.on_connection(lambda up: up and self._chores.put(self.dispatcher.all_states))

    # ------------------------------------------------------------------ lifecycle
    def start(self, wait_s: float = 10.0) -> None:
        self._helper.start()
        self.conn.start()
        if not self.conn.wait_subscribed(wait_s):
            log.warning("hub not connected to the broker yet; it keeps trying")

    def stop(self) -> None:
        self._chores.put(_STOP)
        self._helper.join(5)
        self.conn.stop()
        self.dispatcher.db.close()

    @property
    def healthy(self) -> bool:
        return self._helper.is_alive() and self.conn.connected

    # ------------------------------------------------------------------ network thread
    def _on_command(self, topic: str, payload: bytes, retained: bool) -> None:
        if retained:
            return      # a command is never retained; ignore anything a broker replays
        try:
            _, device = self.topics.parse(topic)
        except ValueError:
            return
        with self._lock:
            self._publish(self.dispatcher.handle_command(device, payload))
            self.commands_handled += 1

    def _on_status(self, topic: str, payload: bytes, retained: bool) -> None:
        try:
            _, device = self.topics.parse(topic)
        except ValueError:
            return
        with self._lock:
            self.dispatcher.handle_status(device, payload, retained)

    # ------------------------------------------------------------------ helper thread
    def _work(self) -> None:
        next_refresh = time.monotonic() + self.refresh_s
        while True:
            try:
                chore = self._chores.get(timeout=FLUSH_EVERY_S)
            except queue.Empty:
                chore = None
            if chore is _STOP:
                return
            try:
                with self._lock:
                    if chore is not None:
                        self._publish(chore() or ())
                    if time.monotonic() >= next_refresh:
                        next_refresh = time.monotonic() + self.refresh_s
                        self._publish(self.dispatcher.refresh())
                    else:
                        self._publish(self.dispatcher.flush())
            except Exception:
                log.exception("hub helper: %s failed; carrying on", getattr(chore, "__name__", "flush"))

    def _publish(self, pubs: Iterable[Publication]) -> None:
        for p in pubs:
            self.conn.publish(p.topic, p.payload, qos=1, retain=p.retain)

    def apply_config(self, config) -> None:
        """New office settings (saved on the web): applied between commands, then pushed
        to every device through the retained ``state/config``."""
        self._chores.put(lambda: self.dispatcher.apply_config(config))

    def run_on_writer(self, fn: Callable[[], Iterable[Publication] | None]) -> None:
        """Run ``fn`` as the dispatcher's writer, between commands; publish what it returns."""
        self._chores.put(fn)

    # ------------------------------------------------------------------ in-process parts (the web)
    def visitor_leave(self, token: str) -> dict:
        """«Я ухожу» from the visitor's phone page: applied as the single writer, like a device
        command, and published the same way. Returns the ticket's payload (contract ``Ticket``);
        raises ``QueueError`` (``unknown_ticket``, ``illegal_transition``) for a refusal."""
        with self._lock:
            ticket, pubs = self.dispatcher.visitor_leave(token)
            self._publish(pubs)
        return ticket

    def announce(self, text: str) -> None:
        """The announcement to everyone waiting (``state/notice``, retained and kept in the
        database); empty text clears it. Raises ``QueueError`` (``bad_schema``) for a bad text."""
        with self._lock:
            self._publish(self.dispatcher.announce(text))

    def add_listener(self, callback: Listener) -> None:
        """``callback(items)`` after each committed change (the published events) and after an
        announcement (``{"kind": "notice", ...}``): see ``Dispatcher.add_listener``. It runs on
        the writer's thread under its lock, so it must only hand the items over (a queue)."""
        with self._lock:
            self.dispatcher.add_listener(callback)

