"""``talon hq run``: the head-office broker, the ingest, and (later) the head-office web.

The registry of offices (``offices.toml``) is watched: an office added or removed with
``talon hq offices`` gets or loses its broker user within seconds (SIGHUP), and the ingest
accepts or drops its messages accordingly.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hq.broker import HqBroker
from hq.ingest import Ingest
from hq.offices import OfficeEntry, Registry
from hq.subscriber import IngestSubscriber
from storage import hq
from storage.credentials import new_password
from storage.engine import init_db, make_engine, make_sessionmaker

log = logging.getLogger(__name__)
REGISTRY_POLL_S = 2.0


@dataclass
class HqSettings:
    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 1883
    tls_cert: Path | None = None
    tls_key: Path | None = None
    broker_url: str | None = None          # an external broker (a cluster): start none, ingest only
    ingest_password: str | None = None     # with an external broker


class HqRuntime:
    """Broker + ingest (+ the web, when ``start_web`` is given: called once both run)."""

    def __init__(self, settings: HqSettings, start_web: Callable[[HqRuntime], object] | None = None):
        self.s = settings
        self._start_web = start_web
        self.engine = make_engine(settings.database_url)
        init_db(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.registry = Registry(settings.data_dir)
        self.entries: dict[str, OfficeEntry] = {}
        self.broker: HqBroker | None = None
        self.ingest: Ingest | None = None
        self.subscriber: IngestSubscriber | None = None
        self.web = None
        self._stop = threading.Event()
        self._mtime: float | None = None

    def start(self) -> None:
        s = self.s
        self._read_registry()
        password = s.ingest_password
        if s.broker_url:
            url = s.broker_url
        else:
            password = new_password()      # the ingest's broker password: fresh at every start
            tls = (s.tls_cert, s.tls_key) if s.tls_cert and s.tls_key else None
            self.broker = HqBroker(s.data_dir, s.host, s.port, self.entries.values(), password, tls=tls)
            self.broker.start()
            url = self.broker.local_url
        self.ingest = Ingest(self.sessions, lambda topic, payload: self.subscriber.publish(topic, payload),
                             known_offices=lambda: self.entries, describe=self._describe)
        self.subscriber = IngestSubscriber(self.ingest, url, password)
        self.subscriber.start()
        threading.Thread(target=self._watch_registry, name="hq-registry", daemon=True).start()
        if self._start_web is not None:
            self.web = self._start_web(self)

    def _describe(self, office: str) -> tuple[str, str, str] | None:
        e = self.entries.get(office)
        return (e.name, e.region, e.branch) if e else None

    def _read_registry(self) -> bool:
        mtime = self.registry.mtime()
        if mtime == self._mtime and self._mtime is not None:
            return False
        self._mtime = mtime
        self.entries = {e.id: e for e in self.registry.load()}
        with self.sessions.begin() as session:
            for e in self.entries.values():
                hq.describe(session, e.id, name=e.name or None, region=e.region or None, branch=e.branch or None)
        return True

    def _watch_registry(self) -> None:
        while not self._stop.wait(REGISTRY_POLL_S):
            try:
                if self._read_registry() and self.broker is not None:
                    self.broker.reload(self.entries.values())
                    log.info("offices changed: %d offices may report", len(self.entries))
            except Exception:
                log.exception("could not reload %s", self.registry.path)

    def stop(self) -> None:
        self._stop.set()
        if self.web is not None:
            self.web.shutdown()
        if self.subscriber is not None:
            self.subscriber.stop()
        if self.broker is not None:
            self.broker.stop()
        self.engine.dispose()


def ingest_password_from_env() -> str | None:
    return os.environ.get("TALON_HQ_INGEST_PASSWORD") or None
