"""Client satisfaction (CSAT) per half-year (000:632, 646-651).

Sources: the ratings given through the queue (000:496, one per ticket, 1–5) and the paper
questionnaires (000:632 «по результатам обработки опросных листов»), whose counts per
score are entered on the web per half-year and merged into the totals. The standard
defines no formula (docs/requirements.md, open question 2); Talon's is

    CSAT = (ratings of 4 and 5) / (all ratings) × 100 %

with positive = 4–5, neutral = 3, negative = 1–2 («позитив/негатив», 000:651). The
split by client segment and by topic (000:650 «группам потребителей», «объектам
мониторинга») uses the queue's ratings only: a paper questionnaire has neither.
A rating's topic is the topic of the ticket's last leg (the service that was rated).
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from storage.models import CsatPaperRow, LegRow, TicketRow

SCORES = range(1, 6)
FORMULA = "CSAT = (оценки 4 и 5) / (все оценки) × 100 %; позитивные — 4–5, нейтральные — 3, негативные — 1–2"
MAX_COUNT = 1_000_000


def figures(dist: dict[int, int]) -> dict:
    """Count, mean, CSAT share, positive/neutral/negative of a score distribution."""
    n = sum(dist.values())
    return {"ratings": n,
            "mean": round(sum(s * c for s, c in dist.items()) / n, 2) if n else None,
            "csat": round((dist.get(4, 0) + dist.get(5, 0)) / n, 4) if n else None,
            "positive": dist.get(4, 0) + dist.get(5, 0), "neutral": dist.get(3, 0),
            "negative": dist.get(1, 0) + dist.get(2, 0),
            "distribution": {s: dist.get(s, 0) for s in SCORES}}


def _rated(session: Session, config: OfficeConfig, start: datetime, end: datetime) -> list:
    last_topic = (select(LegRow.topic).where(LegRow.ticket_id == TicketRow.id)
                  .order_by(LegRow.idx.desc()).limit(1).correlate(TicketRow).scalar_subquery())
    return session.execute(select(TicketRow.rating, TicketRow.segment, last_topic.label("topic")).where(
        TicketRow.office == config.office_id, TicketRow.issued_at >= start, TicketRow.issued_at < end,
        TicketRow.rating.is_not(None))).all()


def csat(session: Session, config: OfficeConfig, start: datetime, end: datetime,
         paper: dict[int, int] | None = None) -> dict:
    """Ratings (000:496) and CSAT as the share of 4–5 on the 1–5 scale (digest §5.3), with
    the ``paper`` questionnaire counts per score merged in. Keys of ``figures`` plus
    ``electronic`` and ``paper`` (how many ratings came from each source)."""
    scores = [r.rating for r in _rated(session, config, start, end)]
    dist = {s: scores.count(s) + (paper or {}).get(s, 0) for s in SCORES}
    out = figures(dist)
    out["electronic"], out["paper"] = len(scores), sum((paper or {}).values())
    return out


def split(session: Session, config: OfficeConfig, start: datetime, end: datetime, by: str) -> list[dict]:
    """The queue's ratings per ``segment`` or ``topic``: ``{"key", **figures}`` rows."""
    if by not in ("segment", "topic"):
        raise ValueError(f"cannot split CSAT by {by!r}")
    groups: dict = {}
    for r in _rated(session, config, start, end):
        dist = groups.setdefault(getattr(r, by), dict.fromkeys(SCORES, 0))
        dist[r.rating] = dist.get(r.rating, 0) + 1
    return [{"key": key, **figures(dist)} for key, dist in sorted(groups.items(), key=lambda kv: (kv[0] is None,
                                                                                                   str(kv[0])))]


def half_year(year: int, half: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """МЭК reports CSAT per half-year (000:632)."""
    start = datetime(year, 1 if half == 1 else 7, 1, tzinfo=tz)
    end = datetime(year, 7, 1, tzinfo=tz) if half == 1 else datetime(year + 1, 1, 1, tzinfo=tz)
    return start, end


def last_completed_half(today: date) -> tuple[int, int]:
    """The half-year due on the report dates 05.07 and 15.01 (000:632): the last one ended."""
    return (today.year - 1, 2) if today.month <= 6 else (today.year, 1)


def paper_counts(session: Session, office: str, year: int, half: int) -> dict[int, int]:
    rows = session.execute(select(CsatPaperRow.score, CsatPaperRow.count).where(
        CsatPaperRow.office == office, CsatPaperRow.year == year, CsatPaperRow.half == half)).all()
    return {s: 0 for s in SCORES} | {score: count for score, count in rows}


def save_paper_counts(session: Session, office: str, year: int, half: int, counts: dict[int, int]) -> None:
    """Store the paper questionnaires of a half-year per score (replacing earlier counts)."""
    if half not in (1, 2) or set(counts) - set(SCORES):
        raise ValueError("a half-year is 1 or 2 and a score 1–5")
    if any(not 0 <= c <= MAX_COUNT for c in counts.values()):
        raise ValueError("a count is between 0 and 1,000,000")
    for score, count in counts.items():
        row = session.get(CsatPaperRow, (office, year, half, score))
        if row is None:
            session.add(CsatPaperRow(office=office, year=year, half=half, score=score, count=count))
        else:
            row.count = count
