"""The hub's retained state payloads, built from the live office (docs/contract.md).

Pure functions: the dispatcher publishes what they return.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from broker import messages
from queue_core.estimate import estimate
from queue_core.model import Ticket, TicketKind, WindowState
from queue_core.office import Office


def ticket_payload(t: Ticket) -> dict:
    return {"number": t.number, "topic": t.topic, "kind": str(t.kind), "state": str(t.state),
            "issued_at": t.issued_at.isoformat(timespec="seconds"), "people_ahead": t.people_ahead,
            "eta_min": t.eta_min, "window": t.window, "recalls": t.leg.recalls,
            "priority_category": t.priority_category, "assisted": t.assisted,
            "slot_start": t.slot_start.isoformat(timespec="seconds") if t.slot_start else None}


def config_state(office: Office, operators: Iterable[tuple[str, str]] = (),
                 public_url: str | None = None) -> dict:
    """``operators``: ``(code, name)`` of the active operators, for the counters' sign-in
    list (never a PIN). ``public_url``: the base of the visitors' ticket pages when the
    office serves them (a kiosk offers «Без печати — на телефон» from its start), else None."""
    c = office.config
    return messages.state(
        office={"id": c.office_id, "name": {"ru": c.name_ru, "en": c.name_en}, "timezone": c.timezone,
                "languages": list(c.languages), "phone": c.phone, "site": c.site,
                "public_url": public_url},
        topics=[{"code": t.code, "prefix": t.prefix, "name": {"ru": t.name_ru, "en": t.name_en},
                 "segment": t.segment, "wait_norm_min": t.wait_norm_min, "service_norm_min": t.service_norm_min,
                 "aggregation": t.aggregation, "per_account": t.per_account, "cutoff": t.cutoff.strftime("%H:%M") if t.cutoff else None}
                for t in c.topics],
        windows=[{"number": w.number, "zone": w.zone, "topics": list(w.topics)} for w in c.windows],
        priority={"mode": c.priority_mode, "categories": [
            {"code": p.code, "name": {"ru": p.name_ru, "en": p.name_en}} for p in c.priority_categories]},
        segments=[{"code": s, "name": SEGMENT_NAMES.get(s, {"ru": s, "en": s})}
                  for s in dict.fromkeys(t.segment for t in c.topics)],
        board={"history": c.board_history, "min_display_s": c.board_min_display_s,
               "notice": {"ru": c.notice_ru, "en": c.notice_en}},
        sound={"voice": True, "repeat": 1},
        operators=[{"code": code, "name": name} for code, name in operators],
    )


SEGMENT_NAMES = {"b2c": {"ru": "Частные клиенты", "en": "Private customers"},
                 "b2b": {"ru": "Корпоративные клиенты", "en": "Business customers"}}


def queue_state(office: Office, now: datetime) -> dict:
    topics = {}
    waiting = office.waiting()
    by_topic: dict[str, list[Ticket]] = {}
    for w in waiting:
        by_topic.setdefault(w.topic, []).append(w)
    for t in office.config.topics:
        mine = by_topic.get(t.code, [])
        accepting, reason = office.accepting(t.code, now)
        # ``Office.estimate`` with the waiting line read once for all topics (rebuilt after every burst)
        _, eta = estimate(office.config, t.code, TicketKind.WALK_IN, waiting, office.windows, office.recent)
        oldest = min((w.wait_from() for w in mine), default=None)
        topics[t.code] = {"waiting": len(mine), "eta_min": eta,
                          "oldest_wait_min": round((now - oldest).total_seconds() / 60, 1) if oldest else None,
                          "accepting": accepting, "reason": reason}
    return messages.state(office.seq, at=now.isoformat(timespec="seconds"), topics=topics,
                          windows_open=sum(s.state is WindowState.OPEN for s in office.windows.values()))


def window_state(office: Office, number: int, operator_names: dict[str, str], now: datetime | None = None,
                 actions: Iterable[str] | None = None) -> dict:
    """``actions``: ``office.allowed_actions(number, now)`` when the caller has it already."""
    s = office.windows[number]
    t = office.current(number)
    return messages.state(
        office.seq, window=number, state=str(s.state), break_kind=str(s.break_kind) if s.break_kind else None,
        operator={"code": s.operator, "name": operator_names.get(s.operator, s.operator)} if s.operator else None,
        ticket=None if t is None else {
            "number": t.number, "topic": t.topic, "state": str(t.state),
            "called_at": t.leg.called_at.isoformat(timespec="seconds") if t.leg.called_at else None,
            "started_at": t.leg.started_at.isoformat(timespec="seconds") if t.leg.started_at else None,
            "recalls": t.leg.recalls},
        topics=list(office.config.window(number).topics),
        actions=list(office.allowed_actions(number, now) if actions is None else actions))


def board_state(seq: int, calls: Iterable[dict]) -> dict:
    return messages.state(seq, calls=list(calls))
