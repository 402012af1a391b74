"""Ticket links: the address of a ticket's live page on the visitor's phone (its QR code).

One row per ticket, made in the same transaction as the ticket (``issue``, ``checkin``)
and ended in the transaction that ends the ticket. The token is the only key a phone
holds: 128 random bits (``secrets.token_urlsafe(16)``), never derived from the number.
A link opens its page only on its office day and until its ticket ends (``Link.valid_on``);
``find`` returns an ended or older link anyway, so the page can say politely that the
ticket is finished. The Telegram chat a visitor attached is forgotten when the ticket ends;
the link keeps what that chat was told (``notified_*``), so nothing is told twice or lost
across hub restarts.

Also here: small per-office values kept across hub restarts (table ``office_values``):
the announcement to everyone waiting (``set_notice``/``notice``), the office's Telegram
bot name for the page's deep link (``set_bot``/``bot``) and the first Telegram update not
yet handled (``set_updates_handled``/``updates_handled``).

Every function takes the caller's session and leaves the commit to it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from storage.events import CALL_EVENTS
from storage.models import EventRow, OfficeValueRow, TicketLinkRow

TOKEN_BYTES = 16                   # 128 bits
LANGS = ("ru", "en")
NOTICE_MAX = 200                   # characters of an announcement
_MAX_TOKEN = 32                    # the column; anything longer is no token of ours
_NOTICE, _BOT, _UPDATES = "notice", "telegram_bot", "telegram_updates_handled"
# Telegram numbers updates in sequence, but after a week without any it may start anywhere:
# an older mark could then hide new updates, so it is trusted for a day only
UPDATES_MARK_FRESH = timedelta(days=1)

# the hub runs these for every ticket issued and ended: prepared once, as Core statements
_L = cast(Table, TicketLinkRow.__table__)
_INSERT = insert(_L)
_END = update(_L).where(_L.c.office == bindparam("l_office"), _L.c.day == bindparam("l_day"),
                        _L.c.number == bindparam("l_number"), _L.c.ended_at.is_(None))


@dataclass(frozen=True, slots=True)
class Link:
    token: str
    office: str
    day: str                       # the ticket's office day (ISO date)
    number: str
    created_at: datetime
    ended_at: datetime | None      # set when the ticket reached a final state
    outcome: str | None            # its last leg's outcome then: done, no_show, cancelled, left, ...
    lang: str                      # the page's language, "ru" or "en"
    chat_id: int | None            # the Telegram chat told of the turn (None once the ticket ends)
    notified_ahead: bool           # the chat was told «Перед Вами N человек»
    notified_call_seq: int | None  # the seq of the call/recall event last told to the chat
    notified_notice_at: datetime | None    # the ``at`` of the announcement last told to the chat

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    def valid_on(self, day: str) -> bool:
        """Whether the page may show the live ticket on office day ``day``."""
        return self.ended_at is None and self.day == day


def _link(row: TicketLinkRow) -> Link:
    return Link(row.token, row.office, row.day, row.number, row.created_at, row.ended_at, row.outcome,
                row.lang, row.chat_id, bool(row.notified_ahead), row.notified_call_seq, row.notified_notice_at)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def create(session: Session, office: str, day: str, number: str, at: datetime) -> str:
    """A new link for the ticket ``number`` of ``day``; returns its token."""
    token = new_token()
    session.connection().execute(_INSERT, dict(token=token, office=office, day=day, number=number, created_at=at,
                                               lang="ru", notified_ahead=False))
    return token


def _row(session: Session, token: object) -> TicketLinkRow | None:
    if not isinstance(token, str) or not 0 < len(token) <= _MAX_TOKEN:
        return None
    return session.get(TicketLinkRow, token)


def find(session: Session, token: str) -> Link | None:
    """The link of ``token`` (ended or not), or None for a token that is not ours."""
    row = _row(session, token)
    return None if row is None else _link(row)


def for_ticket(session: Session, office: str, day: str, number: str) -> Link | None:
    row = session.execute(select(TicketLinkRow).where(
        TicketLinkRow.office == office, TicketLinkRow.day == day, TicketLinkRow.number == number)).scalar_one_or_none()
    return None if row is None else _link(row)


def end(session: Session, office: str, day: str, number: str, at: datetime, outcome: str | None = None) -> None:
    """The ticket reached a final state: its link stops opening the live page, its chat is
    forgotten. Ending an ended link changes nothing."""
    session.connection().execute(_END, dict(l_office=office, l_day=day, l_number=number, ended_at=at,
                                            outcome=outcome, chat_id=None))


def set_lang(session: Session, token: str, lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    session.execute(update(TicketLinkRow).where(TicketLinkRow.token == token).values(lang=lang))


def attach_chat(session: Session, token: str, chat_id: int, day: str | None = None) -> Link | None:
    """Tell ``chat_id`` of this ticket's turn. Refused (None) for an unknown or ended token,
    and, given ``day``, for a link of another day. A chat new to the link has not been told
    the current announcement (``notified_notice_at`` is cleared): a subscription hears it once."""
    row = _row(session, token)
    if row is None or row.ended_at is not None or (day is not None and row.day != day):
        return None
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        raise ValueError(f"chat_id must be an int, got {chat_id!r}")
    if row.chat_id != chat_id:
        row.chat_id, row.notified_notice_at = chat_id, None
    session.flush()
    return _link(row)


def forget_chat(session: Session, token: str) -> None:
    session.execute(update(TicketLinkRow).where(TicketLinkRow.token == token).values(chat_id=None))


def with_chats(session: Session, office: str) -> list[Link]:
    """The live links that have a chat, oldest first."""
    return [_link(r) for r in session.execute(select(TicketLinkRow).where(
        TicketLinkRow.office == office, TicketLinkRow.chat_id.is_not(None), TicketLinkRow.ended_at.is_(None))
        .order_by(TicketLinkRow.created_at)).scalars()]


def mark_ahead(session: Session, token: str) -> None:
    session.execute(update(TicketLinkRow).where(TicketLinkRow.token == token).values(notified_ahead=True))


def mark_call(session: Session, token: str, seq: int) -> None:
    session.execute(update(TicketLinkRow).where(TicketLinkRow.token == token).values(notified_call_seq=seq))


def mark_notice(session: Session, token: str, at: datetime) -> None:
    """The link's chat was told the announcement made at ``at`` (``notice``'s second value)."""
    session.execute(update(TicketLinkRow).where(TicketLinkRow.token == token).values(notified_notice_at=at))


def last_call(session: Session, office: str, number: str, since: datetime) -> tuple[int, int, bool] | None:
    """The newest call or recall of ticket ``number`` at or after ``since`` (its link's
    ``created_at``: the same number on an earlier day is another ticket), from the event log:
    ``(seq, window, recall)``, or None. After a hub restart the Telegram notifier tells a call it
    had not told yet (its seq above ``notified_call_seq``)."""
    row = session.execute(select(EventRow.seq, EventRow.window, EventRow.kind).where(
        EventRow.office == office, EventRow.ticket == number, EventRow.kind.in_(CALL_EVENTS), EventRow.at >= since)
        .order_by(EventRow.seq.desc()).limit(1)).first()
    return None if row is None or row.window is None else (row.seq, row.window, row.kind == "recalled")


def purge(session: Session, office: str, before_day: str) -> int:
    """Delete the links of the office days before ``before_day``; returns how many."""
    result = session.execute(delete(TicketLinkRow).where(TicketLinkRow.office == office,
                                                         TicketLinkRow.day < before_day))
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------- per-office values
def _set_value(session: Session, office: str, name: str, value: str | None, at: datetime) -> None:
    row = session.get(OfficeValueRow, (office, name))
    if value is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(OfficeValueRow(office=office, name=name, value=value, at=at))
    else:
        row.value, row.at = value, at
    session.flush()


def _value(session: Session, office: str, name: str) -> OfficeValueRow | None:
    return session.get(OfficeValueRow, (office, name))


def set_notice(session: Session, office: str, text: str, at: datetime) -> None:
    """The announcement to everyone waiting; empty text clears it. The caller validates."""
    _set_value(session, office, _NOTICE, text.strip() or None, at)


def notice(session: Session, office: str) -> tuple[str, datetime] | None:
    """The current announcement and when it was made, or None."""
    row = _value(session, office, _NOTICE)
    return None if row is None or not row.value else (row.value, row.at)


def set_bot(session: Session, office: str, username: str | None, at: datetime | None = None) -> None:
    """The office's Telegram bot user name (without ``@``) for the page's deep link; None forgets it."""
    name = (username or "").strip().lstrip("@") or None
    _set_value(session, office, _BOT, name, at or datetime.now(timezone.utc))


def bot(session: Session, office: str) -> str | None:
    row = _value(session, office, _BOT)
    return row.value if row is not None and row.value else None


def set_updates_handled(session: Session, office: str, next_update: int, at: datetime) -> None:
    """Telegram updates below ``next_update`` were handled (a restart must not handle them again)."""
    _set_value(session, office, _UPDATES, str(next_update), at)


def updates_handled(session: Session, office: str, now: datetime) -> int | None:
    """The first update not yet handled, if marked within ``UPDATES_MARK_FRESH`` of ``now``."""
    row = _value(session, office, _UPDATES)
    if row is None or not row.value.isdigit() or now - row.at > UPDATES_MARK_FRESH:
        return None
    return int(row.value)
