"""Device presence: online/offline transitions, printer states and «Вызов персонала».

The hub records a row whenever a device's status changes (REQ-Q-9 downtime) and when a
visitor at a kiosk asks for staff (``state = "help"``); the dashboard reads them back.
Staff acknowledge a dashboard alert for a visitor (a call for staff, a ticket marked for
assisted service) from the dashboard: a row ``state = "ack"`` whose ``device`` holds the
alert's key (the kiosk's device id, or ``ticket:<number>``), which no downtime counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import PresenceRow

HELP = "help"
ACK = "ack"


@dataclass(frozen=True, slots=True)
class Status:
    device: str
    at: datetime
    state: str                   # online / offline / help
    printer: str | None = None   # ok / paper_out / ...


def record(session: Session, office: str, statuses: list[Status]) -> None:
    """Append these status changes (the caller commits)."""
    session.add_all([PresenceRow(office=office, device=s.device, at=s.at, state=s.state, printer=s.printer)
                     for s in statuses])


def latest(session: Session, office: str) -> list[Status]:
    """Each device's last online/offline status, by device id."""
    last = (select(PresenceRow.device, func.max(PresenceRow.id).label("id"))
            .where(PresenceRow.office == office, PresenceRow.state.notin_((HELP, ACK)))
            .group_by(PresenceRow.device).subquery())
    return [Status(r.device, r.at, r.state, r.printer) for r in session.execute(
        select(PresenceRow).join(last, PresenceRow.id == last.c.id).order_by(PresenceRow.device)).scalars()]


def help_requests(session: Session, office: str, since: datetime) -> list[Status]:
    """The visitors' calls for staff since ``since`` that staff have not acknowledged since,
    oldest first."""
    acks = acknowledged(session, office, since)
    return [Status(device, at, HELP) for device, at in session.execute(select(PresenceRow.device, PresenceRow.at).where(
        PresenceRow.office == office, PresenceRow.state == HELP, PresenceRow.at >= since).order_by(PresenceRow.at))
        if not (device in acks and acks[device] >= at)]


def acknowledge(session: Session, office: str, key: str, at: datetime) -> None:
    """Staff saw the alert ``key`` (a device id, or ``ticket:<number>``) at ``at`` (the caller commits)."""
    session.add(PresenceRow(office=office, device=key[:32], at=at, state=ACK))


def acknowledged(session: Session, office: str, since: datetime) -> dict[str, datetime]:
    """The last acknowledgement of each alert key since ``since``."""
    return {key: at for key, at in session.execute(
        select(PresenceRow.device, func.max(PresenceRow.at)).where(
            PresenceRow.office == office, PresenceRow.state == ACK, PresenceRow.at >= since)
        .group_by(PresenceRow.device))}


def last_id(session: Session, office: str) -> int:
    """Grows with every status stored: cheap to poll for a change."""
    return session.execute(select(func.max(PresenceRow.id)).where(PresenceRow.office == office)).scalar() or 0


def history(session: Session, office: str, device: str) -> list[Status]:
    """Every status stored for ``device``, oldest first."""
    return [Status(r.device, r.at, r.state, r.printer) for r in session.execute(
        select(PresenceRow).where(PresenceRow.office == office, PresenceRow.device == device)
        .order_by(PresenceRow.id)).scalars()]
