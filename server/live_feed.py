"""One change feed per app: the live queue worked out once per change, shared by every phone.

A phone page's stream must not cost a database query per connected phone per tick
(300 phones polling every 100 ms would be 3,000 queries a second). Instead ONE thread
polls the cheap version (``server.live.version``: last event seq and presence id, plus
the announcement) every ``interval`` seconds; when it changed, the feed brings its
office up to date and publishes a new :class:`Snapshot` — an immutable view of every live
ticket and everyone's place in the queue — and wakes every waiting stream through one
``threading.Condition``. Streams only read snapshots, which never change once published.

Bringing the office up to date (:class:`OfficeFollower`): the first time, after a gap or
a settings change it is rebuilt with the storage layer's own loader (``QueueStore.load``,
as the dashboard does); otherwise the new events are read from the log and applied to
it, as the hub applies them to its own — one query instead of a reload of every live
ticket with its legs (hundreds of queries when the hall is full).

The thread runs only while someone is subscribed; with no phone connected it sleeps on
the condition and touches no database.

When the web runs inside the hub process, the hub's listener calls :meth:`LiveFeed.poke`
after each commit (``server.serve``), so the feed looks at once instead of at its next
tick; the poll stays, for a standalone ``talon web`` and anything no poke announced.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from queue_core.estimate import ahead_of_all
from queue_core.model import TicketState
from queue_core.office import Office
from storage.events import events_between
from storage.store import QueueStore

log = logging.getLogger(__name__)
MAX_CATCH_UP = 500            # more new events than this: rebuild instead of replaying them
POKE_GAP_S = 0.02             # pokes or not, at most one look this often: a busy hub's commits coalesce


@dataclass(frozen=True, slots=True)
class TicketView:
    """What a visitor's page shows of a live ticket."""
    number: str
    day: str
    topic: str
    state: TicketState
    window: int | None
    recalls: int
    legs: int                      # > 1: the visitor was transferred
    target_window: int | None      # transferred to this one window


@dataclass(frozen=True, slots=True)
class OfficeView:
    seq: int
    tickets: dict[str, TicketView]                            # live tickets by number
    positions: dict[str, tuple[int, float | None]]            # waiting ones: (people ahead, minutes)


def office_view(office: Office) -> OfficeView:
    """The immutable picture of ``office`` every phone reads (one pass for all of them)."""
    tickets = {t.number: TicketView(t.number, t.day, t.topic, t.state, t.window, t.leg.recalls, len(t.legs),
                                    t.leg.target_window) for t in office.tickets.values()}
    positions = ahead_of_all(office.config, office.waiting(), office.windows, office.recent)
    return OfficeView(office.seq, tickets, positions)


class OfficeFollower:
    """The feed's own office, kept up to date from the event log (see the module's doc)."""

    def __init__(self):
        self._office: Office | None = None
        self._config: OfficeConfig | None = None
        self.rebuilds = 0

    def update(self, session: Session, config: OfficeConfig) -> Office:
        office = self._office
        if office is None or self._config is not config or not self._catch_up(session, office):
            office = QueueStore(config.office_id).load(session, config)
            self._office, self._config = office, config
            self.rebuilds += 1
        return office

    @staticmethod
    def _catch_up(session: Session, office: Office) -> bool:
        events = events_between(session, office.config.office_id, office.seq + 1, None, MAX_CATCH_UP + 1)
        if len(events) > MAX_CATCH_UP:
            return False
        try:
            for e in events:
                office.apply(e)                 # refuses an event that does not follow (a gap)
        except Exception:                       # anything unexpected: the loader knows best
            log.info("phone feed: rebuilding the office after event replay failed", exc_info=True)
            return False
        return True


@dataclass(frozen=True, slots=True)
class Snapshot:
    generation: int                # grows by one per change the feed saw
    version: tuple                 # what the database said (seq, presence id, announcement, config)
    view: OfficeView               # the live queue as of this version; read-only for everyone
    notice: str | None             # the announcement to everyone waiting


class LiveFeed:
    """``probe()`` → a cheap version tuple; ``load()`` → (OfficeView, notice) for the current data."""

    def __init__(self, probe: Callable[[], tuple], load: Callable[[], tuple[OfficeView, str | None]],
                 interval: float = 0.1):
        self._probe, self._load, self.interval = probe, load, interval
        self._cond = threading.Condition()
        self._refresh_lock = threading.Lock()      # one update at a time (the thread or a request)
        self._snapshot: Snapshot | None = None
        self._subscribers = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._poked = threading.Event()             # a look is due now (set by poke, cleared by the poller)
        self.updates = 0                            # snapshots made (tests, bench: one per change)

    # ------------------------------------------------------------------ readers
    def snapshot(self) -> Snapshot:
        """The current snapshot, checked against the database now (one cheap query; an
        update only if something changed). Page loads and JSON polls use this."""
        return self._refresh()

    def wait(self, generation: int, timeout: float) -> Snapshot:
        """Block until the snapshot is newer than ``generation`` or ``timeout`` passes;
        returns the current one either way. Call between ``subscribe`` and ``unsubscribe``."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed or (self._snapshot is not None
                                                          and self._snapshot.generation > generation), timeout)
            snap = self._snapshot
        return snap if snap is not None else self._refresh()

    def subscribe(self) -> None:
        with self._cond:
            self._subscribers += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="phone-feed", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def unsubscribe(self) -> None:
        with self._cond:
            self._subscribers = max(0, self._subscribers - 1)

    @property
    def subscribers(self) -> int:
        return self._subscribers

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._poked.set()

    def poke(self) -> None:
        """Look at the database now rather than at the next tick (something was committed).
        Only sets a flag the poller waits on: safe from the hub's writer, never blocks it."""
        self._poked.set()

    # ------------------------------------------------------------------ the one poller
    def _refresh(self) -> Snapshot:
        with self._refresh_lock:
            version = self._probe()
            current = self._snapshot
            if current is not None and current.version == version:
                return current
            view, notice = self._load()
            self.updates += 1
            snap = Snapshot((current.generation + 1) if current else 1, version, view, notice)
            with self._cond:
                self._snapshot = snap
                self._cond.notify_all()
            return snap

    def _run(self) -> None:
        while True:
            with self._cond:
                # nobody listening: sleep without touching the database until someone subscribes
                self._cond.wait_for(lambda: self._closed or self._subscribers > 0)
                if self._closed:
                    return
            self._poked.clear()            # a poke from now on means another look after this one
            looked = time.monotonic()
            try:
                self._refresh()
            except Exception:              # a database hiccup: keep serving the last snapshot, retry
                log.warning("phone feed: could not read the office", exc_info=True)
                time.sleep(1.0)
            self._poked.wait(self.interval)
            time.sleep(max(0.0, looked + POKE_GAP_S - time.monotonic()))
