"""The report figures recomputed the slow, obvious way from the stored timestamps of
every ticket and leg (docs/architecture.md §4), to check ``storage.stats`` against."""
from __future__ import annotations

import math
from datetime import datetime
from statistics import fmean

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from storage.models import TicketRow

SERVED = ("done", "terminated", "needs_followup")


def minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def p90(values: list[float]) -> float | None:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1] if ordered else None


def wait_start(ticket: TicketRow, idx: int, leg) -> datetime:
    """The later of check-in and slot start for a booking's first leg, else when the leg
    joined the queue; and never after the call (an early booking called early waited 0)."""
    start = max(ticket.issued_at, ticket.slot_start) if idx == 0 and ticket.slot_start else leg.queued_at
    return min(start, leg.called_at) if leg.called_at else start


def tickets(session: Session, config: OfficeConfig, start: datetime, end: datetime) -> list[TicketRow]:
    return list(session.execute(select(TicketRow).where(
        TicketRow.office == config.office_id, TicketRow.issued_at >= start, TicketRow.issued_at < end)).scalars())


def legs_by_topic(rows: list[TicketRow], config: OfficeConfig) -> dict[str, dict]:
    """topic -> counts, waits and services (minutes) of its legs."""
    per_account = {t.code for t in config.topics if t.aggregation == "max"}
    out: dict[str, dict] = {}
    for t in rows:
        for idx, leg in enumerate(t.legs):
            a = out.setdefault(leg.topic, {"tickets": 0, "served": 0, "transferred": 0, "no_show": 0,
                                           "waits": [], "services": []})
            a["tickets"] += 1
            a["served"] += leg.outcome in SERVED
            a["transferred"] += leg.outcome == "transferred"
            a["no_show"] += leg.outcome == "no_show"
            if leg.outcome in SERVED or leg.outcome == "transferred":
                a["waits"].append(minutes(wait_start(t, idx, leg), leg.called_at))
                service = minutes(leg.started_at, leg.finished_at)
                a["services"].append(service / leg.accounts if leg.topic in per_account else service)
    return out


def visits(rows: list[TicketRow], config: OfficeConfig) -> list[tuple[float, float]]:
    """(total, judged) minutes of each visit that ended in service: its last leg's end minus
    its first leg's wait start (judged per account under a per-account profile)."""
    out = []
    for t in rows:
        if t.legs and t.legs[-1].outcome in SERVED:
            total = minutes(wait_start(t, 0, t.legs[0]), t.legs[-1].finished_at)
            accounts = max(leg.accounts for leg in t.legs)
            out.append((total, total / accounts if config.profile.unit == "personal_account" else total))
    return out


def mean(values: list[float]) -> float | None:
    return round(fmean(values), 2) if values else None


def r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
