"""Web users: the rows only (the web hashes and checks passwords: ``server.users``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import UserRow


def get(session: Session, username: str) -> UserRow | None:
    return session.get(UserRow, username)


def add(session: Session, username: str, password_hash: str, role: str, at: datetime,
        office: str | None = None) -> UserRow:
    """Store a new user (the caller checked the name is free, and commits); ``office``: at head
    office, the one office the user sees (None: every office)."""
    row = UserRow(username=username, password_hash=password_hash, role=role, created_at=at, active=True,
                  office=office)
    session.add(row)
    return row


def remove(session: Session, username: str) -> bool:
    row = session.get(UserRow, username)
    if row is None:
        return False
    session.delete(row)
    return True


def list_all(session: Session) -> list[UserRow]:
    return list(session.execute(select(UserRow).order_by(UserRow.username)).scalars())
