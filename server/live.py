"""The live picture of the office, read from the database the hub writes.

``snapshot(session, config, now)`` rebuilds the live office with the storage layer's
own loader (``QueueStore.load``: live tickets, windows, recent service times), so the
dashboard shows exactly what the hub would after a restart, and adds presence and alerts.
It reads in two steps that a caller keeping offices up to date itself (head office's
all-offices page) takes apart: ``hear`` reads what the devices and staff said, ``picture``
works out the page from that and the live ``Office`` at ``now`` without a query.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from queue_core.model import TicketState
from queue_core.office import Office
from server.i18n import _, name_of, number
from storage import downtime, events, presence
from storage.store import QueueStore, wait_start

# minutes offline in working time (``storage.downtime``'s rule: a kiosk switched off for the
# night is no downtime, so no alert until the office opens)
OFFLINE_WARN_MIN = 1        # an offline device is worth a look at once
OFFLINE_CRIT_MIN = 45       # ... and urgent as it nears the 60-minute rule (REQ-Q-9)
OFFLINE_LIMIT_MIN = 60
HELP_ALERT_MIN = 10         # a visitor's «Вызов персонала» stays on the dashboard this long


def version(session: Session, office: str) -> tuple:
    """Changes whenever the hub stores an event or a device reports: cheap to poll."""
    return events.last_seq(session, office), presence.last_id(session, office)


def _minutes(a: datetime | None, b: datetime) -> float | None:
    return None if a is None else round(max(0.0, (b - a).total_seconds() / 60), 1)


@dataclass(frozen=True, slots=True)
class Heard:
    """What an office's devices and staff said, as read at some moment: each device's last
    status, the calls for staff from ``HELP_ALERT_MIN`` before it not acknowledged, and the
    acknowledgements of the assisted tickets issued from ``acks_since``. Still true later
    while no presence row is added (``picture`` drops the calls that grew old)."""
    devices: list[presence.Status]
    help: list[presence.Status]
    acks: dict[str, datetime]
    acks_since: datetime | None


def _assisted_since(office: Office) -> datetime | None:
    return min((t.issued_at for t in office.tickets.values() if t.assisted), default=None)


def hear(session: Session, office: Office, now: datetime, known: Heard | None = None) -> Heard:
    """Read ``Heard`` for ``office``. ``known``: what was heard of it before with no presence
    row added since: only the assisted tickets' acknowledgements are read again, if those
    tickets changed."""
    office_id, since = office.config.office_id, _assisted_since(office)
    acks = {} if since is None else (known.acks if known is not None and known.acks_since == since
                                     else presence.acknowledged(session, office_id, since))
    if known is not None:
        return Heard(known.devices, known.help, acks, since)
    return Heard(presence.latest(session, office_id),
                 presence.help_requests(session, office_id, now - timedelta(minutes=HELP_ALERT_MIN)), acks, since)


def snapshot(session: Session, config: OfficeConfig, now: datetime, queue_threshold: int = 10) -> dict:
    office = QueueStore(config.office_id).load(session, config)
    return picture(office, config, hear(session, office, now), now, queue_threshold,
                   version(session, config.office_id))


def picture(office: Office, config: OfficeConfig, heard: Heard, now: datetime, queue_threshold: int,
            version: tuple) -> dict:
    """The live page of ``office`` at ``now`` from what was read: no query."""
    now = now.astimezone(office.tz)
    alerts: list[dict] = []
    topics = []
    for t in config.topics:
        waiting = sorted(office.waiting(t.code), key=lambda x: x.wait_from())
        oldest = waiting[0] if waiting else None
        oldest_min = _minutes(oldest.wait_from(), now) if oldest else None
        _ahead, eta = office.estimate(t.code)
        over = oldest_min is not None and t.wait_norm_min is not None and oldest_min > t.wait_norm_min
        topics.append({"code": t.code, "prefix": t.prefix, "name": name_of(t), "waiting": len(waiting),
                       "oldest_ticket": oldest.number if oldest else None, "oldest_wait_min": oldest_min,
                       "wait_norm_min": t.wait_norm_min, "over_norm": over, "eta_min": eta})
        if over:
            alerts.append({"level": "crit" if oldest_min > 1.5 * t.wait_norm_min else "warn", "kind": "wait",
                           "text": _("Талон {ticket} ждёт {m} мин при нормативе {norm} мин").format(
                               ticket=oldest.number, m=_fmt(oldest_min), norm=_fmt(t.wait_norm_min))})
        if len(waiting) >= queue_threshold:
            alerts.append({"level": "warn", "kind": "queue",
                           "text": _("Очередь по теме «{topic}»: {n} чел. (порог {limit})").format(
                               topic=name_of(t), n=len(waiting), limit=queue_threshold)})
    _visit_alerts(office, config, now, alerts)
    _assist_alerts(office, config, heard.acks, now, alerts)
    windows = []
    for w in config.windows:
        s = office.windows[w.number]
        ticket = office.current(w.number)
        entry = {"number": w.number, "state": str(s.state), "break_kind": str(s.break_kind) if s.break_kind else None,
                 "operator": s.operator, "ticket": None, "topic": None, "ticket_state": None,
                 "service_min": None, "service_norm_min": None, "over_norm": False}
        if ticket is not None:
            topic = config.topic(ticket.topic)
            serving = ticket.state is TicketState.SERVING
            minutes = _minutes(ticket.leg.started_at if serving else ticket.leg.called_at, now)
            over = serving and topic.service_norm_min is not None and minutes > topic.service_norm_min
            entry.update(ticket=ticket.number, topic=topic.code, ticket_state=str(ticket.state),
                         service_min=minutes, service_norm_min=topic.service_norm_min, over_norm=over)
            if over:
                alerts.append({"level": "warn", "kind": "service", "text": _(
                    "Приём талона {ticket} в окне {window} идёт {m} мин при нормативе {norm} мин").format(
                    ticket=ticket.number, window=w.number, m=_fmt(minutes), norm=_fmt(topic.service_norm_min))})
        windows.append(entry)
    devices = _devices(heard, config, now, alerts)
    order = {"crit": 0, "warn": 1}
    alerts.sort(key=lambda a: order.get(a["level"], 2))
    return {"v": 1, "at": now.isoformat(timespec="seconds"), "office": name_of(config),
            "version": list(version), "topics": topics, "windows": windows,
            "devices": devices, "alerts": alerts,
            "totals": {"waiting": sum(t["waiting"] for t in topics),
                       "windows_open": sum(1 for w in windows if w["state"] == "open")}}


def _visit_alerts(office, config: OfficeConfig, now: datetime, alerts: list[dict]) -> None:
    """A visit in progress past the profile's visit ceiling (ОЭК 30 min, АтомЭнергоСбыт 28 min),
    counted as the reports count it: from the first leg's wait start (docs/architecture.md §4)."""
    ceiling = config.profile.total_visit_max_min
    if ceiling is None:
        return
    for t in sorted(office.tickets.values(), key=lambda x: x.issued_at):
        minutes = _minutes(wait_start(t, 0, t.legs[0]), now)
        if minutes is not None and minutes > ceiling:
            alerts.append({"level": "crit" if minutes > 1.5 * ceiling else "warn", "kind": "visit",
                           "text": _("Визит талона {ticket} идёт {m} мин при пределе {limit} мин").format(
                               ticket=t.number, m=_fmt(minutes), limit=_fmt(ceiling))})


def _devices(heard: Heard, config: OfficeConfig, now: datetime, alerts: list[dict]) -> list[dict]:
    out = []
    for r in heard.devices:
        since = _minutes(r.at, now)
        out.append({"device": r.device, "state": r.state, "since_min": since, "printer": r.printer})
        if r.state == "offline":
            down = round(downtime.down_minutes(config.calendar, now.tzinfo, r.at, now), 1)
            if down >= OFFLINE_WARN_MIN:
                alerts.append({"level": "crit" if down >= OFFLINE_CRIT_MIN else "warn", "kind": "device",
                               "text": _("Устройство {device} не в сети {m} мин в рабочее время "
                                         "(предел 60 мин)").format(device=r.device, m=_fmt(down))})
        elif r.state == "online" and r.printer not in (None, "ok"):
            alerts.append({"level": "warn", "kind": "printer",
                           "text": _("Принтер {device}: {state}").format(device=r.device, state=r.printer)})
    recent = now - timedelta(minutes=HELP_ALERT_MIN)
    for h in (h for h in heard.help if h.at >= recent):
        alerts.append({"level": "crit", "kind": "help", "ack": h.device,
                       "text": _("Посетителю нужна помощь у {device} ({m} мин назад)").format(
                           device=h.device, m=_fmt(_minutes(h.at, now)))})
    return out


def assist_key(number: str) -> str:
    """The acknowledgement key of a ticket marked for assisted service."""
    return f"ticket:{number}"


def _assist_alerts(office, config: OfficeConfig, acks: dict[str, datetime], now: datetime,
                   alerts: list[dict]) -> None:
    """A live ticket marked for assisted service (``[priority] mode = "individual"``,
    АтомЭнергоСбыт 004:945-949) until staff acknowledge it on the dashboard."""
    assisted = sorted((t for t in office.tickets.values() if t.assisted), key=lambda x: x.issued_at)
    if not assisted:
        return
    names = {c.code: c for c in config.priority_categories}
    for t in assisted:
        seen = acks.get(assist_key(t.number))
        if seen is not None and seen >= t.issued_at:
            continue
        category = names.get(t.priority_category or "")
        alerts.append({"level": "crit", "kind": "assist", "ack": assist_key(t.number), "ticket": t.number,
                       "text": _("Талон {ticket}: индивидуальное обслуживание ({category}), "
                                 "подойдите к посетителю ({m} мин назад)").format(
                           ticket=t.number, category=name_of(category) if category else _("льготная категория"),
                           m=_fmt(_minutes(t.issued_at, now)))})


def _fmt(v: float | None) -> str:
    return number(v)            # «48,4» in Russian, as the tables write it
