"""Starting a whole hub from settings: database, broker, dispatcher.

``talon hub`` and ``talon demo`` both go through ``OfficeRuntime`` so the demo runs
exactly what production runs. The hub knows nothing of the web server: whoever
composes the office (``talon.office``) passes ``start_web``, called once the hub runs.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from broker.roles import DEVICE_ROLES, check_device_id
from hub.brokers import EmbeddedBroker, ExternalBroker, MosquittoBroker, find_mosquitto
from hub.dispatcher import default_public_url
from hub.hq_link import HeadOfficeLink, hq_password
from hub.mosquitto_files import HUB_USER, Device
from hub.service import Hub
from queue_core.config import OfficeConfig
from storage import directory
from storage.credentials import hash_secret, new_password
from storage.queue_db import QueueDatabase
from storage.settings import effective_config

log = logging.getLogger(__name__)
DIRECTORY_POLL_S = 5.0


@dataclass
class RuntimeSettings:
    config: OfficeConfig
    data_dir: Path
    database_url: str
    broker_url: str | None = None          # external broker
    broker_kind: str = "auto"              # auto | mosquitto | amqtt
    listen: str = "127.0.0.1"
    port: int = 1883
    hub_password: str | None = None        # for an external broker
    web_port: int | None = 8080            # None: no web server
    web_host: str = "127.0.0.1"
    public_url: str | None = None          # ticket pages when [web] public_url is not set (None: this host)
    clock: Callable[[], datetime] | None = None
    extra_devices: list[Device] = field(default_factory=list)   # e.g. the demo's simulated devices


class OfficeRuntime:
    def __init__(self, settings: RuntimeSettings, start_web: Callable[[OfficeRuntime], object] | None = None):
        self.s = settings
        self._start_web = start_web
        self.db = QueueDatabase(settings.database_url, settings.config)
        self.hq = settings.config.hq     # the link to head office is the file's, never the web's settings
        self.hq_link: HeadOfficeLink | None = None
        self._use_saved_settings()
        self.broker = None
        self.hub: Hub | None = None
        self.web = None
        self._users: list[Device] = []
        self._skipped: set[str] = set()
        self._stop = threading.Event()

    def _use_saved_settings(self) -> None:
        """Settings saved on the web win over the file, for the hub as for the web
        (``storage.settings.effective_config``)."""
        with self.db.sessions() as s:
            effective = effective_config(s, self.s.config)
        if effective.source == "saved":
            self.s.config = self.db.config = effective.config
            self.db.reload()

    @property
    def broker_url(self) -> str:
        return self.broker.url

    def _broker_users(self, hub_password: str) -> list[Device]:
        with self.db.sessions() as s:
            users = [Device(d.device, d.role, d.password_hash) for d in directory.list_devices(s, self.s.config.office_id)]
        users = [d for d in [*users, *self.s.extra_devices] if self._usable_device(d)]
        return [Device(HUB_USER, "hub", hash_secret(hub_password)), *users]

    def _usable_device(self, d: Device) -> bool:
        """A device row that would break the broker's users (one named like the hub, from a
        database older than the reserved-id check) is left out, never the hub itself."""
        try:
            check_device_id(d.id)
            if d.role not in DEVICE_ROLES:
                raise ValueError(f"role {d.role!r} is not a device role ({', '.join(DEVICE_ROLES)})")
        except ValueError as exc:
            if d.id not in self._skipped:
                self._skipped.add(d.id)
                log.error("device %r is left out of the broker's users: %s. Remove it with "
                          "`talon devices remove %s` and add it again under another id.", d.id, exc, d.id)
            return False
        return True

    def start(self) -> None:
        s = self.s
        hub_password = s.hub_password or os.environ.get("TALON_HUB_PASSWORD")
        username = HUB_USER
        if self.hq is not None and not s.broker_url and (s.broker_kind == "amqtt" or not find_mosquitto()):
            raise SystemExit("[hq]: the embedded broker cannot bridge to head office; install mosquitto "
                             "(apt install mosquitto) or leave out the [hq] section")
        if s.broker_url:
            self.broker = ExternalBroker(s.broker_url)
        elif s.broker_kind == "amqtt" or (s.broker_kind == "auto" and not find_mosquitto()):
            self.broker = EmbeddedBroker(s.listen, s.port)
            username, hub_password = None, None
        else:
            hub_password = new_password()          # a fresh secret for the hub user at every start
            self._users = self._broker_users(hub_password)
            self.broker = MosquittoBroker(s.data_dir, s.listen, s.port, self._users, office=s.config.office_id,
                                          hq=self.hq, hq_password=hq_password(s.data_dir) if self.hq else None)
        self.broker.start()
        log.info("broker ready at %s (%s)", self.broker.url, type(self.broker).__name__)
        self.hub = Hub(self.db, self.broker.url, username=username, password=hub_password, clock=s.clock,
                       public_url=s.public_url or self._default_pages())
        self.hub.start()
        if self.hq is not None:
            self.hq_link = HeadOfficeLink(self.db, self.hub.conn)
            self.hq_link.start()
        threading.Thread(target=self._watch_directory, args=(hub_password,), daemon=True,
                         name="hub-directory").start()
        if s.web_port is not None and self._start_web is not None:
            self.web = self._start_web(self)
            log.info("web dashboard at http://%s:%s/", s.web_host, s.web_port)

    def _watch_directory(self, hub_password: str | None) -> None:
        """Devices and operators added or removed with ``talon devices|operators`` reach the running
        office: the hub reloads its directory (and republishes ``state/config`` when the operators
        changed), and mosquitto its users (SIGHUP) when the devices changed."""
        known = {(d.id, d.role) for d in self._users}
        while not self._stop.wait(DIRECTORY_POLL_S):
            try:
                self.hub.run_on_writer(self.hub.dispatcher.reload_directory)
                if isinstance(self.broker, MosquittoBroker) and hub_password:
                    known = self._reload_broker_users(hub_password, known)
            except Exception:
                log.exception("could not reload the device list")

    def _reload_broker_users(self, hub_password: str, known: set) -> set:
        users = self._broker_users(hub_password)
        current = {(d.id, d.role) for d in users}
        if current != known:
            self.broker.devices = users
            self.broker.write_files()
            if self.broker.pid:
                os.kill(self.broker.pid, signal.SIGHUP)
            log.info("device list changed: broker users reloaded (%d devices)", len(users) - 1)
        return current

    def _default_pages(self) -> str | None:
        """The visitors' pages on this host's web server, when this runtime starts one."""
        s = self.s
        return default_public_url(s.web_port) if s.web_port is not None and self._start_web is not None else None

    def stop(self) -> None:
        self._stop.set()
        if self.web is not None:
            self.web.shutdown()
        if self.hq_link is not None:
            self.hq_link.stop()
        if self.hub is not None:
            self.hub.stop()
        if self.broker is not None:
            self.broker.stop()
