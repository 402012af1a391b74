"""Web users: add, list, remove, check a password. Passwords are stored only as hashes.

There is no default user: the first admin is made with ``talon users add NAME --role admin``.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from storage import users
from storage.models import UserRow

ROLES = ("operator", "head", "admin")
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_OFFICE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MIN_PASSWORD = 8
# A hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-password")


class UserError(ValueError):
    pass


def add_user(session: Session, username: str, password: str, role: str, office: str | None = None) -> UserRow:
    """``office``: at head office, the one office this user sees (an office head); None sees
    every office (a head-office analyst). An office's own web ignores it."""
    if not _NAME.match(username):
        raise UserError("username: 1-64 latin letters, digits, '_', '.', '@' or '-'")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    if office is not None and not _OFFICE.match(office):
        raise UserError("office: 1-32 latin letters, digits, '_' or '-'")
    if users.get(session, username) is not None:
        raise UserError(f"user {username!r} already exists")
    return users.add(session, username, generate_password_hash(password), role, datetime.now(timezone.utc),
                     office=office)


def remove_user(session: Session, username: str) -> bool:
    return users.remove(session, username)


def list_users(session: Session) -> list[UserRow]:
    return users.list_all(session)


def authenticate(session: Session, username: str, password: str) -> UserRow | None:
    row = users.get(session, username) if _NAME.match(username or "") else None
    if row is None or not row.active:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return row if check_password_hash(row.password_hash, password or "") else None
