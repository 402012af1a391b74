"""Head office's ingest rules: the offices' messages in, their queues projected into one database.

Per office it keeps a ``queue_core`` ``Office`` built from that office's configuration (its
``hq/config``) and applies the office's events to it in ``seq`` order, saving with the very
projection the office hub uses (``storage.store.QueueStore``), so every report of an office
reads the same here as there. Messages come in batches (``Ingest.handle``), one transaction
per batch; whoever feeds it (``hq.subscriber``) acknowledges a batch to the broker only once
``handle`` returned, so a crash loses nothing the broker holds.

The rules, per office (each one has a test in tests/hq/test_ingest.py):

* an event at or below the last applied ``seq`` is a duplicate: skipped;
* an event beyond ``last + 1`` is held; if the gap is still open after ``GAP_GRACE_S`` a
  ``hq/replay`` for the missing range is requested, again with a growing pause while no
  answer fills it; held events are applied as soon as the gap is filled;
* a ``state/queue`` ``seq`` above the last applied one is a watermark: a tail that never came
  is asked for the same way;
* events that come before the office's first configuration are held in memory and applied
  when it comes (it is retained, so it comes at every subscription); after a restart they
  come back like any gap, by replay;
* a new configuration version is recorded (``storage.hq.record_config``) and the office's
  ``Office`` is rebuilt under it from the database;
* an unknown office, a topic outside the protocol or a malformed payload is logged and
  dropped; an event the office's ``Office`` cannot apply stops that office only (logged), until
  its next configuration.

On start the offices are rebuilt from the database (``QueueStore.load`` with the config in
force now, ``storage.hq.config_at``).
"""
from __future__ import annotations

import logging
import time
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo

from sqlalchemy.orm import Session, sessionmaker

from broker import messages
from broker.topics import ROOT, valid_id
from queue_core.config import OfficeConfig, parse_office_config
from queue_core.errors import ConfigError
from queue_core.model import Event, Ticket
from queue_core.office import Office
from storage import hq, presence
from storage.batch_store import BatchQueueStore, Save, save_all

log = logging.getLogger(__name__)

GAP_GRACE_S = 1.0            # a gap may be a message still on its way: ask for it after this
RETRY_S = (2.0, 60.0)        # then again after 2, 4, 8… up to 60 s while nothing fills it
HOLD_LIMIT = 200_000         # held events per office; beyond it they come back by replay
REPLAY_TOPIC = "hq/replay"
TOPIC_CACHE = 10_000         # split topics kept (a few per office)
_NOT_TALON: tuple[str, ...] = ()   # a topic outside the protocol's root or without an office id
_EVENT_KINDS = frozenset(messages.EVENT_KINDS)

# topic filters the ingest subscribes to (the protocol, notes in docs/scale.md)
SUBSCRIPTIONS = (f"{ROOT}/+/event/ticket", f"{ROOT}/+/hq/config", f"{ROOT}/+/hq/replayed",
                 f"{ROOT}/+/state/queue", f"{ROOT}/+/device/+/status")


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    retained: bool = False


@dataclass
class IngestCounts:
    applied: int = 0
    duplicates: int = 0
    dropped: int = 0            # malformed, unknown office, outside the protocol
    replays_requested: int = 0
    configs: int = 0


@dataclass
class _Feed:
    """One office as the ingest follows it."""
    id: str
    office: Office | None = None
    store: BatchQueueStore | None = None
    version: str | None = None
    last_seq: int = 0
    watermark: int = 0
    held: dict[int, Event] = field(default_factory=dict)
    broken: str | None = None
    presence: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # what this batch applied, saved at its end
    events: list[Event] = field(default_factory=list)
    tickets: dict[tuple[str, str], Ticket] = field(default_factory=dict)
    # the open gap, if any
    gap_since: float | None = None
    next_request: float = 0.0
    attempts: int = 0
    asked_at_seq: int = 0


class Ingest:
    """The rules, with no MQTT: ``handle`` batches of messages, ``tick`` now and then.

    :param sessions: the head-office database.
    :param publish: ``publish(topic, payload)`` sends a replay request to an office.
    :param known_offices: the ids allowed to report (the registry); None accepts any.
    :param describe: an office's ``(name, region, branch)`` from the registry, which win
        over its configuration's; None for none.
    """

    def __init__(self, sessions: sessionmaker[Session], publish: Callable[[str, dict], object], *,
                 known_offices: Callable[[], Collection[str]] | None = None,
                 describe: Callable[[str], tuple[str, str, str] | None] | None = None,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] | None = None,
                 gap_grace_s: float = GAP_GRACE_S, retry_s: tuple[float, float] = RETRY_S,
                 hold_limit: int = HOLD_LIMIT):
        self.sessions = sessions
        self.publish = publish
        self.known_offices = known_offices
        self.describe = describe
        self.clock = clock
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.gap_grace_s, self.retry_s, self.hold_limit = gap_grace_s, retry_s, hold_limit
        self.counts = IngestCounts()
        self.feeds: dict[str, _Feed] = {}
        self._replay_no = 0
        self._topics: dict[str, tuple[str, ...]] = {}

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        """Rebuild every office from the database (after a restart, a crash, a failed batch)."""
        self.feeds.clear()
        with self.sessions() as session:
            for o in hq.offices(session):
                self.feeds[o.office] = self._load(session, o.office)

    def _load(self, session: Session, office_id: str) -> _Feed:
        feed = _Feed(office_id)
        feed.presence = {s.device: (s.state, s.printer) for s in presence.latest(session, office_id)}
        found = hq.config_in_force(session, office_id, self.now())
        if found is None:
            return feed
        version, toml = found
        try:
            config, _, _ = parse_config(toml)
        except ConfigError as exc:
            log.error("office %s: its stored configuration no longer parses (%s)", office_id, exc)
            return feed
        feed.version = version
        feed.store = BatchQueueStore(office_id)
        feed.office = feed.store.load(session, config)
        feed.last_seq = feed.office.seq
        return feed

    # ------------------------------------------------------------------ a batch
    def handle(self, batch: Iterable[Message]) -> None:
        """Apply a batch in one transaction. On a database failure nothing of it counts: the
        offices are rebuilt from the database and the exception goes to the caller, which
        must not acknowledge the batch (and may hand it in again)."""
        try:
            known = self.known_offices() if self.known_offices is not None else None   # once a batch
            with self.sessions() as session, session.begin():
                for m in batch:
                    self._one(session, m, known)
                self._save(session, list(self.feeds.values()))
                # an office whose event cannot be applied shows on the live page, not only in a log
                hq.mark_stuck(session, [(f.id, f.last_seq + 1, f.broken, self.now())
                                        for f in self.feeds.values() if f.broken])
        except Exception:
            log.exception("a batch could not be stored; rebuilding the offices from the database")
            self.start()
            raise

    def _one(self, session: Session, m: Message, known: Collection[str] | None) -> None:
        parts = self._topics.get(m.topic) or self._topic(m.topic)
        if parts is _NOT_TALON:
            return self._drop(m, "not a Talon topic")
        office_id, rest = parts[1], parts[-1]
        if known is not None and office_id not in known:
            return self._drop(m, "unknown office")
        payload = messages.parse_payload(m.payload)
        if payload is None:
            return self._drop(m, "not a JSON object with v=1")
        feed = self.feeds.get(office_id) or self.feeds.setdefault(office_id, _Feed(office_id))
        if rest == "event/ticket":
            self._event(feed, payload, m)
        elif rest == "hq/config":
            self._config(session, feed, payload, m)
        elif rest == "hq/replayed":
            self._replayed(feed, payload, m)
        elif rest == "state/queue":
            if type(payload.get("seq")) is int:
                feed.watermark = max(feed.watermark, payload["seq"])
        elif len(parts) == 6 and parts[2] == "device" and parts[4] == "status" and valid_id(parts[3]):
            self._status(session, feed, parts[3], payload)
        else:
            self._drop(m, "not a topic head office reads")

    def _topic(self, topic: str) -> tuple[str, ...]:
        """A topic's parts and, last, what follows the office id; the few topics of the offices are
        split and checked once, not once a message."""
        parts = topic.split("/")
        if len(parts) < 3 or parts[0] != ROOT or not valid_id(parts[1]):
            split: tuple[str, ...] = _NOT_TALON
        else:
            split = (*parts, "/".join(parts[2:]))
        if len(self._topics) >= TOPIC_CACHE:
            self._topics.clear()
        self._topics[topic] = split
        return split

    def _drop(self, m: Message, why: str) -> None:
        self.counts.dropped += 1
        log.warning("dropped a message on %s: %s", m.topic, why)

    # ------------------------------------------------------------------ events
    def _event(self, feed: _Feed, payload: dict, m: Message) -> None:
        event = _event_of(payload, feed.office.tz if feed.office is not None else None)
        if event is None:
            return self._drop(m, "malformed event")
        self._take(feed, event)

    def _take(self, feed: _Feed, event: Event) -> None:
        if event.seq <= feed.last_seq or event.seq in feed.held:
            self.counts.duplicates += 1
            return
        if len(feed.held) >= self.hold_limit and event.seq != feed.last_seq + 1:
            return   # acknowledged but not kept: it comes back with the replay of the gap
        feed.held[event.seq] = event
        self._drain(feed)

    def _drain(self, feed: _Feed) -> None:
        office = feed.office
        if office is None or feed.broken:
            return
        tz = office.tz
        while (event := feed.held.pop(feed.last_seq + 1, None)) is not None:
            if event.at.tzinfo is not tz:         # came before the office's (current) configuration
                event = _in_zone(event, office)
            try:
                office.apply(event)
            except Exception as exc:   # the office's own rules refuse its own event: stop this office only
                feed.broken = f"event {event.seq} ({event.kind}) cannot be applied: {exc!r}"
                feed.held[event.seq] = event
                log.error("office %s: %s; its events are held until its next configuration", feed.id, feed.broken)
                return
            feed.last_seq = event.seq
            feed.events.append(event)
            for t in office.take_events()[1]:
                feed.tickets[(t.day, t.number)] = t
            self.counts.applied += 1

    def _save(self, session: Session, feeds: list[_Feed]) -> None:
        """What the batch applied, all offices' statements together (``storage.batch_store``)."""
        feeds = [f for f in feeds if f.events]
        if not feeds:
            return
        save_all(session, [Save(f.store, f.events, list(f.tickets.values()), f.office.windows) for f in feeds])
        hq.touch_many(session, [(f.id, f.last_seq, f.events[-1].at) for f in feeds])
        for f in feeds:
            f.events, f.tickets = [], {}

    def _replayed(self, feed: _Feed, payload: dict, m: Message) -> None:
        events = payload.get("events")
        if not isinstance(events, list):
            return self._drop(m, "replayed without a list of events")
        if type(payload.get("last_seq")) is int:
            feed.watermark = max(feed.watermark, payload["last_seq"])
        tz = feed.office.tz if feed.office is not None else None
        for item in events:
            event = _event_of(item, tz) if isinstance(item, dict) else None
            if event is None:
                self._drop(m, "malformed event in a replay")
                continue
            self._take(feed, event)

    # ------------------------------------------------------------------ configuration
    def _config(self, session: Session, feed: _Feed, payload: dict, m: Message) -> None:
        version, toml, at = payload.get("version"), payload.get("toml"), _time(payload.get("at"))
        if not (isinstance(version, str) and 0 < len(version) <= 64 and isinstance(toml, str) and at):
            return self._drop(m, "a configuration without version, at or toml")
        if payload.get("office") not in (None, feed.id):
            return self._drop(m, f"a configuration of office {payload.get('office')!r} under {feed.id}")
        try:
            config, region, branch = parse_config(toml)
        except ConfigError as exc:
            return self._drop(m, f"a configuration that does not parse: {exc}")
        if config.office_id != feed.id:
            return self._drop(m, f"a configuration of office {config.office_id!r} under {feed.id}")
        new = hq.record_config(session, feed.id, version, at, toml)
        self.counts.configs += new
        given = self.describe(feed.id) if self.describe else None
        name, reg, br = given or ("", "", "")
        hq.describe(session, feed.id, name=name or config.name_ru, region=reg or region or "",
                    branch=br or branch or "")
        if version == feed.version and not feed.broken:
            return
        self._save(session, [feed])    # what the old configuration applied is stored under it
        session.flush()
        feed.store = BatchQueueStore(feed.id)
        feed.office = feed.store.load(session, config)
        feed.version, feed.broken, feed.last_seq = version, None, feed.office.seq
        log.info("office %s: configuration %s (%s), events applied up to %d", feed.id, version,
                 "new" if new else "known", feed.last_seq)
        for seq in [s for s in feed.held if s <= feed.last_seq]:
            del feed.held[seq]
        self._drain(feed)

    # ------------------------------------------------------------------ devices
    def _status(self, session: Session, feed: _Feed, device: str, payload: dict) -> None:
        state = payload.get("state") if payload.get("state") in ("online", "offline") else None
        printer = payload.get("printer")
        printer_state = printer.get("state") if isinstance(printer, dict) else None
        if state is None or feed.presence.get(device) == (state, printer_state):
            return
        feed.presence[device] = (state, printer_state)
        presence.record(session, feed.id, [presence.Status(device, self.now(), state, printer_state)])

    # ------------------------------------------------------------------ gaps
    def tick(self) -> None:
        """Ask for the missing events of every office whose gap stayed open."""
        now = self.clock()
        for feed in self.feeds.values():
            gap = self.gap(feed)
            if gap is None:
                feed.gap_since = None
                continue
            if feed.gap_since is None:                  # new: it may be a message still on its way
                feed.gap_since, feed.attempts, feed.asked_at_seq = now, 0, feed.last_seq
                feed.next_request = now + self.gap_grace_s
            elif feed.last_seq > feed.asked_at_seq:     # a replay is filling it: give it time
                feed.asked_at_seq, feed.attempts = feed.last_seq, 0
                feed.next_request = now + self.retry_s[0]
            if now >= feed.next_request:
                self._request(feed, *gap)
                feed.next_request = now + min(self.retry_s[0] * 2 ** feed.attempts, self.retry_s[1])
                feed.attempts += 1

    def gap(self, feed: _Feed) -> tuple[int, int | None] | None:
        """The missing range ``(from_seq, to_seq or None)`` of an office, if any."""
        if feed.office is None or feed.broken:
            return None
        if feed.held:
            return feed.last_seq + 1, min(feed.held) - 1
        if feed.watermark > feed.last_seq:
            return feed.last_seq + 1, None
        return None

    def _request(self, feed: _Feed, from_seq: int, to_seq: int | None) -> None:
        self._replay_no += 1
        request = {"v": 1, "id": f"hq-{int(time.time())}-{self._replay_no}", "from_seq": from_seq, "to_seq": to_seq}
        log.warning("office %s: events %d..%s missing; asking for a replay", feed.id, from_seq,
                    to_seq if to_seq is not None else "newest")
        self.counts.replays_requested += 1
        self.publish(f"{ROOT}/{feed.id}/{REPLAY_TOPIC}", request)


# ---------------------------------------------------------------------- parsing
def parse_config(toml: str) -> tuple[OfficeConfig, str | None, str | None]:
    """An office's published TOML -> (config, region, branch). ``[office] region/branch`` and
    a top-level ``[hq]`` are read or left out here, whether or not the office's parser knows them."""
    try:
        data = tomllib.loads(toml)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(hq/config)", f"is not valid TOML: {exc}") from None
    data.pop("hq", None)
    office = data.get("office") if isinstance(data.get("office"), dict) else {}
    region, branch = office.pop("region", None), office.pop("branch", None)
    return (parse_office_config(data), region if isinstance(region, str) else None,
            branch if isinstance(branch, str) else None)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _event_of(payload: dict, tz: tzinfo | None = None) -> Event | None:
    """An ``event/ticket`` payload as a queue event (its time in ``tz`` when given), or None when
    it breaks the contract: the checks of ``broker.views.TicketEvent.from_payload``, a time with
    its zone and a known kind, made inline (this runs for every event head office stores)."""
    seq, kind, ticket, topic, window = (payload.get("seq"), payload.get("kind"), payload.get("ticket"),
                                        payload.get("topic"), payload.get("window"))
    data = payload.get("data") or {}
    if (type(seq) is not int or seq < 1 or not isinstance(kind, str) or kind not in _EVENT_KINDS
            or not (ticket is None or isinstance(ticket, str)) or not (topic is None or isinstance(topic, str))
            or not (window is None or type(window) is int) or not isinstance(data, Mapping)):
        return None
    at = _time(payload.get("at"))
    if at is None:
        return None
    return Event(seq=seq, at=at if tz is None else at.astimezone(tz), kind=kind, ticket=ticket, topic=topic,
                 window=window, data=dict(data))


def _in_zone(event: Event, office: Office) -> Event:
    return Event(seq=event.seq, at=event.at.astimezone(office.tz), kind=event.kind, ticket=event.ticket,
                 topic=event.topic, window=event.window, data=event.data)
