"""The office's side of the link to head office (docs/contract.md, "Head office").

The office's mosquitto bridges its events, retained states and device presence to the
head-office broker (``hub.mosquitto_files.bridge_lines``); this module is what the hub
itself adds:

* ``hq/config`` (retained): the office's effective settings as TOML, published at every
  (re)connection and whenever the settings change (the web saves new ones), so head office
  knows which norms were in force when.
* ``hq/replay`` → ``hq/replayed``: head office asks for the events from ``seq`` N (it saw a
  gap the bridge could not fill) and gets them from the event log, in order, in batches.

Replays run on a thread of their own that only reads the database, so a long one never
delays a queue command. A bad request is dropped with a log line.
"""
from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from broker import messages
from broker.mqtt import MqttConnection
from broker.topics import Topics
from hub.dispatcher import event_payload
from queue_core.config import HqLink, OfficeConfig, parse_hq_section
from queue_core.config_toml import config_to_toml
from storage import events as event_log
from storage.queue_db import QueueDatabase

log = logging.getLogger(__name__)

REPLAY_BATCH = 500              # events per ``hq/replayed`` message at most
REPLAY_BATCH_BYTES = 200_000    # and bytes: the office broker's max_packet_size is 256 KiB
REPLAY_MAX_EVENTS = 100_000     # per request; head office sees ``last_seq`` and asks for the rest
REQUEST_MAX_BYTES = 1024
PENDING_MAX = 64                # requests waiting for the replay thread; more are dropped
CONFIG_CHECK_S = 2.0            # how often the settings are compared with the published ones
PUBLISH_WAIT_S = 30.0


PASSWORD_FILE = "hq.password"


def hq_password(data_dir: str | os.PathLike) -> str:
    """The office's password on the head-office broker: ``hq.password`` in the data directory
    (``talon setup hub --hq`` writes it, mode 0600). Exits with what to do when it is missing."""
    path = Path(data_dir) / PASSWORD_FILE
    try:
        password = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SystemExit(f"[hq]: no password for head office ({exc.strerror}: {path}). Write the office's "
                         f"password on the head-office broker there (one line, mode 0600), or run "
                         f"`talon setup hub --hq URL --hq-password ...`") from None
    if not password or any(c.isspace() for c in password):
        raise SystemExit(f"[hq]: {path} must hold one line without spaces, the office's password on the "
                         f"head-office broker")
    if os.stat(path).st_mode & 0o077:
        log.warning("%s is readable by others: chmod 600 it", path)
    return password


def hq_from_file(path: str | os.PathLike, office_id: str) -> HqLink | None:
    """The ``[hq]`` section of the file ``talon setup hub --hq`` writes (``TALON_HQ_CONFIG``)."""
    import tomllib

    from queue_core.errors import ConfigError
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return parse_hq_section(data["hq"], office_id) if "hq" in data else None
    except (OSError, tomllib.TOMLDecodeError, ConfigError) as exc:
        raise SystemExit(f"{path}: {exc}") from None


def hq_topic(office: str, name: str) -> str:
    """``talon/<office>/hq/<name>``: ``config``, ``replay`` or ``replayed``."""
    return f"{Topics(office).base}hq/{name}"


class ReplayRequest(NamedTuple):
    id: str
    from_seq: int
    to_seq: int | None


def parse_replay_request(raw: bytes) -> ReplayRequest:
    """A head-office replay request, or ValueError saying what is wrong with it."""
    if len(raw) > REQUEST_MAX_BYTES:
        raise ValueError(f"longer than {REQUEST_MAX_BYTES} bytes")
    msg = messages.parse_payload(raw)
    if msg is None:
        raise ValueError("not a JSON object with \"v\": 1")
    request_id, start, end = msg.get("id"), msg.get("from_seq"), msg.get("to_seq")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 64:
        raise ValueError("\"id\" must be a string of 1-64 characters")
    if type(start) is not int or start < 1:
        raise ValueError("\"from_seq\" must be an integer >= 1")
    if end is not None and (type(end) is not int or end < start):
        raise ValueError("\"to_seq\" must be null or an integer >= from_seq")
    return ReplayRequest(request_id, start, end)


def config_message(config: OfficeConfig, at: datetime) -> dict:
    """The ``hq/config`` payload: the settings as TOML (without ``[hq]``: head office needs
    neither its own address nor anything secret) and a short hash of that text as version."""
    text = config_to_toml(replace(config, hq=None))
    return {"v": messages.VERSION, "office": config.office_id,
            "version": hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
            "at": at.isoformat(timespec="seconds"), "toml": text}


def replay_batches(db: QueueDatabase, request: ReplayRequest):
    """The ``hq/replayed`` payloads answering ``request``, built lazily (one database read per
    ``REPLAY_BATCH`` events). The last one says ``done``; an empty range is one empty batch."""
    office, tz = db.office_id, db.office.tz
    seq, sent = request.from_seq, 0
    while True:
        with db.sessions() as session:
            found = event_log.events_between(session, office, seq, request.to_seq, REPLAY_BATCH + 1)
            page, more = found[:REPLAY_BATCH], len(found) > REPLAY_BATCH
            recalls = event_log.recall_counts(session, office, page)
            newest = event_log.last_seq(session, office)
        payloads = [event_payload(replace(e, at=e.at.astimezone(tz)), recalls.get(e.seq)) for e in page]
        sent += len(payloads)
        more = more and sent < REPLAY_MAX_EVENTS
        chunks = _by_size(payloads)
        for i, chunk in enumerate(chunks):
            yield {"v": messages.VERSION, "id": request.id, "events": chunk, "last_seq": newest,
                   "done": not more and i == len(chunks) - 1}
        if not more:
            return
        seq = page[-1].seq + 1


def _by_size(payloads: list[dict]) -> list[list[dict]]:
    """Split one page of events so that no message outgrows ``REPLAY_BATCH_BYTES``."""
    chunks: list[list[dict]] = [[]]
    size = 0
    for p in payloads:
        n = len(messages.encode(p)) + 1
        if chunks[-1] and size + n > REPLAY_BATCH_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(p)
        size += n
    return chunks


class HeadOfficeLink:
    """Publishes ``hq/config`` and answers ``hq/replay`` on the hub's own MQTT connection."""

    def __init__(self, db: QueueDatabase, conn: MqttConnection,
                 clock: Callable[[], datetime] | None = None):
        self.db, self.conn = db, conn
        self.office = db.office_id
        self.clock = clock or (lambda: datetime.now(db.office.tz))
        self.replays_answered = 0
        self.requests_dropped = 0
        self._requests: queue.Queue = queue.Queue(maxsize=PENDING_MAX)
        self._stop = threading.Event()
        self._published: tuple[str, str] | None = None      # (version, at) last published
        self._republish = threading.Event()
        self._thread = threading.Thread(target=self._work, name="hq-link", daemon=True)

    def start(self) -> None:
        self.conn.subscribe(hq_topic(self.office, "replay"), self._on_request)
        self.conn.on_connection(lambda up: up and self._republish.set())
        self._republish.set()
        self._thread.start()
        log.info("head-office link on: hq/config is published, hq/replay answered (office %s)", self.office)

    def stop(self) -> None:
        self._stop.set()
        self._republish.set()
        self._thread.join(5)

    # --- network thread: never more than a parse and a put --------------------------
    def _on_request(self, topic: str, payload: bytes, retained: bool) -> None:
        if retained:
            log.warning("head office: a retained replay request ignored (requests are never retained)")
            return
        try:
            request = parse_replay_request(payload)
            self._requests.put_nowait(request)
        except ValueError as exc:
            self.requests_dropped += 1
            log.warning("head office: bad replay request dropped (%s): %r", exc, payload[:200])
        except queue.Full:
            self.requests_dropped += 1
            log.warning("head office: %d replay requests already waiting; %s dropped (it will ask again)",
                        PENDING_MAX, request.id)

    # --- the link's own thread ----------------------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                self._publish_config_if_changed()
                request = self._requests.get(timeout=CONFIG_CHECK_S)
            except queue.Empty:
                continue
            except Exception:
                log.exception("head office: could not publish hq/config; trying again")
                self._stop.wait(CONFIG_CHECK_S)
                continue
            try:
                self._answer(request)
            except Exception:
                log.exception("head office: replay %s (from seq %d) failed", request.id, request.from_seq)

    def _publish_config_if_changed(self) -> None:
        config = self.db.config      # replaced as a whole when new settings are applied
        message = config_message(config, self.clock())
        if self._published and self._published[0] == message["version"]:
            if not self._republish.is_set():
                return
            message["at"] = self._published[1]      # the same version keeps its time
        self._republish.clear()
        if not self.conn.connected:
            self._republish.set()                   # sent on (re)connection
            return
        self.conn.publish(hq_topic(self.office, "config"), message, qos=1, retain=True)
        if not self._published or self._published[0] != message["version"]:
            log.info("head office: settings version %s published", message["version"])
        self._published = (message["version"], message["at"])

    def _answer(self, request: ReplayRequest) -> None:
        count = 0
        for batch in replay_batches(self.db, request):
            info = self.conn.publish(hq_topic(self.office, "replayed"), batch, qos=1)
            try:       # one batch in flight at a time: a long replay never floods the broker
                info.wait_for_publish(PUBLISH_WAIT_S)
            except (RuntimeError, ValueError) as exc:
                log.warning("head office: replay %s batch not yet sent (%s); the client keeps it", request.id, exc)
            count += len(batch["events"])
            if self._stop.is_set():
                return
        self.replays_answered += 1
        log.info("head office: replay %s answered: %d events from seq %d", request.id, count, request.from_seq)
