"""The live office bound to its database: one transaction per operation.

The in-memory ``Office`` and the database must never disagree. A refused operation
(``QueueError``) changes neither. Any other failure rolls the transaction back and
reloads the office from the database, so memory follows what was committed.

The hub works through a ``UnitOfWork``: ``unit_of_work(op)`` runs ``op(uow)`` in one
transaction (the queue's events and projection stored with it); ``reading()`` and
``writing()`` give one for the hub's other reads and writes (directory, command log,
presence). Every statement stays in ``storage``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from queue_core.errors import QueueError
from queue_core.model import Event
from queue_core.office import Office
from storage import commands, directory, events, presence, ticket_links
from storage.bookings import Bookings
from storage.engine import init_db, make_engine, make_sessionmaker
from storage.store import QueueStore

log = logging.getLogger(__name__)
R = TypeVar("R")


class UnitOfWork:
    """What the hub may read and write in one session: ``office`` (the live queue, inside
    ``QueueDatabase.unit_of_work``), the office's bookings and operators, the command log,
    the directory, the board's recent calls and device presence. Cheap to make: one per
    command, no query until a method asks for one."""
    __slots__ = ("session", "office", "office_id")

    def __init__(self, session: Session, office: Office, office_id: str):
        self.session, self.office, self.office_id = session, office, office_id

    @property
    def bookings(self) -> Bookings:
        return Bookings(self.session, self.office_id)

    @property
    def operators(self) -> directory.Operators:
        return directory.Operators(self.session, self.office_id)

    # the command log
    def stored_reply(self, device: str, command_id: str) -> dict | None:
        return commands.stored_reply(self.session, self.office_id, device, command_id)

    def record_reply(self, device: str, command_id: str, op: str, at: datetime, reply: dict) -> None:
        commands.record_reply(self.session, self.office_id, device, command_id, op, at, reply)

    def recent_commands(self, limit: int) -> list[tuple[str, str]]:
        return commands.recent_keys(self.session, self.office_id, limit)

    # the visitor's phone: ticket links (storage.ticket_links)
    def create_link(self, day: str, number: str, at: datetime) -> str:
        return ticket_links.create(self.session, self.office_id, day, number, at)

    def end_link(self, day: str, number: str, at: datetime, outcome: str | None) -> None:
        ticket_links.end(self.session, self.office_id, day, number, at, outcome)

    def link(self, token: str) -> ticket_links.Link | None:
        return ticket_links.find(self.session, token)

    def purge_links(self, before_day: str) -> int:
        return ticket_links.purge(self.session, self.office_id, before_day)

    def set_notice(self, text: str, at: datetime) -> None:
        ticket_links.set_notice(self.session, self.office_id, text, at)

    def notice(self) -> tuple[str, datetime] | None:
        return ticket_links.notice(self.session, self.office_id)

    # start-up views and device health
    def directory(self) -> tuple[dict[str, directory.DeviceEntry], dict[str, str]]:
        return directory.snapshot(self.session, self.office_id)

    def recent_calls(self, limit: int) -> list[events.Call]:
        return events.recent_calls(self.session, self.office_id, limit)

    def record_presence(self, statuses: list[presence.Status]) -> None:
        presence.record(self.session, self.office_id, statuses)


class QueueDatabase:
    def __init__(self, url: str, config: OfficeConfig):
        self.url = url
        self.config = config
        self.engine = make_engine(url)
        init_db(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.store = QueueStore(config.office_id)
        with self.sessions() as session:
            self.office: Office = self.store.load(session, config)

    def transaction(self, operation: Callable[[Session, Office], R]) -> tuple[R, list[Event]]:
        """Run ``operation`` and store what it changed, atomically. Returns (result, events)."""
        session = self.sessions()
        try:
            with session.begin():
                result = operation(session, self.office)
                events, tickets = self.office.take_events()
                self.store.save(session, events, tickets, self.office.windows)
            return result, events
        except QueueError:
            self.office.take_events()   # a refusal emitted nothing; keep the buffers clean
            raise
        except Exception:
            log.exception("transaction failed; reloading the office from the database")
            self.reload()
            raise
        finally:
            session.close()

    @property
    def office_id(self) -> str:
        return self.store.office_id

    def unit_of_work(self, operation: Callable[[UnitOfWork], R]) -> tuple[R, list[Event]]:
        """``transaction`` for the hub: ``operation`` gets a ``UnitOfWork`` (``uow.office`` and
        the repositories on the transaction's session). Returns (result, events)."""
        office_id = self.office_id
        return self.transaction(lambda session, office: operation(UnitOfWork(session, office, office_id)))

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """A short read-only session."""
        with self.sessions() as session:
            yield UnitOfWork(session, self.office, self.office_id)

    @contextmanager
    def writing(self) -> Iterator[UnitOfWork]:
        """A short transaction for rows outside the queue (presence, a refusal's reply):
        committed on success, rolled back on error; the live office is not touched."""
        with self.sessions() as session, session.begin():
            yield UnitOfWork(session, self.office, self.office_id)

    def roll_up_closed_days(self, start: datetime, end: datetime) -> int:
        """File the closed office days in [start, end) as report roll-ups (what the first
        report over them would do), so that report is fast; returns the closed days seen."""
        from storage import stats

        with self.sessions() as session:
            return stats.roll_up(session, self.config, start, end)

    def reload(self) -> None:
        self.store.forget()
        with self.sessions() as session:
            self.office = self.store.load(session, self.config)

    def close(self) -> None:
        self.engine.dispose()
