"""The live office bound to its database: one transaction per operation.

The in-memory ``Office`` and the database must never disagree. A refused operation
(``QueueError``) changes neither. Any other failure rolls the transaction back and
reloads the office from the database, so memory follows what was committed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from queue_core.errors import QueueError
from queue_core.model import Event
from queue_core.office import Office
from storage.engine import init_db, make_engine, make_sessionmaker
from storage.store import QueueStore

log = logging.getLogger(__name__)
R = TypeVar("R")


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

    def reload(self) -> None:
        self.store.forget()
        with self.sessions() as session:
            self.office = self.store.load(session, self.config)

    def close(self) -> None:
        self.engine.dispose()
