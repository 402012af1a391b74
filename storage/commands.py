"""The command log: the reply given to each (device, command id), so that a retried
command gets the same reply again and changes nothing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage.models import CommandRow

# A prepared Core statement: the hub records one reply per command, on its hot path.
INSERT_COMMAND = insert(CommandRow.__table__)


def stored_reply(session: Session, office: str, device: str, command_id: str) -> dict | None:
    return session.execute(select(CommandRow.reply).where(
        CommandRow.office == office, CommandRow.device == device,
        CommandRow.command_id == command_id)).scalar_one_or_none()


def record_reply(session: Session, office: str, device: str, command_id: str, op: str, at: datetime,
                 reply: dict) -> None:
    session.connection().execute(INSERT_COMMAND, dict(office=office, device=device, command_id=command_id,
                                                      op=op, at=at, reply=reply))


def recent_keys(session: Session, office: str, limit: int) -> list[tuple[str, str]]:
    """The (device, command id) of the newest ``limit`` commands, oldest first."""
    rows = session.execute(select(CommandRow.device, CommandRow.command_id).where(CommandRow.office == office)
                           .order_by(CommandRow.at.desc()).limit(limit)).all()
    return [(device, command_id) for device, command_id in reversed(rows)]
