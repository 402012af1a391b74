"""Pre-registration (предварительная запись): ``POST /api/bookings`` and the public ``/book`` page.

A booking holds a slot of the topic's ``slot_min`` minutes on the office calendar;
a slot takes at most as many bookings as there are windows serving the topic. The
kiosk's check-in is the hub's job: it looks the booking up by its 6-digit ``code``.
Names and phones are personal data (152-ФЗ): ``storage.bookings.purge_personal_data``
blanks them once the slot is older than the retention period. The statements are
``storage.bookings``'; this module holds the slot rules and the pages.
"""
from __future__ import annotations

import re
import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, render_template, request
from sqlalchemy.orm import Session

from queue_core import calendar
from queue_core.config import OfficeConfig
from server import now_utc
from server.db import office_config, session_scope
from server.i18n import _, name_of
from storage.bookings import Booking, Bookings, SlotFull

bp = Blueprint("bookings", __name__)
_PHONE = re.compile(r"^[0-9+()\- ]{5,32}$")
_lock = threading.Lock()      # the web process is the only writer of bookings: count + insert atomically


class BookingError(ValueError):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _slot(config: OfficeConfig, topic_code: str, day: date, at: time) -> datetime:
    """The slot containing ``at`` on the topic's grid (from opening time, ``slot_min`` steps)."""
    topic = config.topic(topic_code)
    hours = calendar.hours_on(config.calendar, day)
    if hours is None:
        raise BookingError("closed", "В этот день офис не работает. Пожалуйста, выберите другой день.")
    tz = ZoneInfo(config.timezone)
    opens, closes = (datetime.combine(day, h, tz) for h in hours)
    wanted = datetime.combine(day, at, tz)
    if not opens <= wanted < closes:
        raise BookingError("closed", f"Запись возможна с {hours[0]:%H:%M} до {hours[1]:%H:%M}.")
    step = timedelta(minutes=topic.slot_min)
    start = opens + step * ((wanted - opens) // step)
    end = start + step
    last = datetime.combine(day, topic.cutoff, tz) if topic.cutoff else closes
    if end > closes or start >= last:
        raise BookingError("closed", "На это время запись не ведётся. Пожалуйста, выберите время раньше.")
    for b0, b1 in config.calendar.breaks:
        if start < datetime.combine(day, b1, tz) and end > datetime.combine(day, b0, tz):
            raise BookingError("break", f"С {b0:%H:%M} до {b1:%H:%M} перерыв. Пожалуйста, выберите другое время.")
    return start


def create_booking(session: Session, config: OfficeConfig, data: dict, now: datetime,
                   horizon_days: int = 60) -> Booking:
    """Validate a booking request and store it (the caller commits)."""
    if not isinstance(data, dict):
        raise BookingError("bad_schema", "Ожидался объект JSON.")
    topic = data.get("topic")
    if not isinstance(topic, str) or topic not in {t.code for t in config.topics}:
        raise BookingError("unknown_topic", "Неизвестная тема обращения.")
    try:
        day = date.fromisoformat(str(data.get("date")))
        at = time.fromisoformat(str(data.get("time")))
    except ValueError:
        raise BookingError("bad_schema", "Укажите дату (ГГГГ-ММ-ДД) и время (ЧЧ:ММ).") from None
    name, phone = data.get("name") or None, data.get("phone") or None
    if name is not None and (not isinstance(name, str) or len(name) > 100):
        raise BookingError("bad_schema", "Имя: не длиннее 100 символов.")
    if phone is not None and (not isinstance(phone, str) or not _PHONE.match(phone)):
        raise BookingError("bad_schema", "Телефон: цифры, пробелы, +, (, ), -.")
    start = _slot(config, topic, day, at)
    if start <= now:
        raise BookingError("in_past", "Это время уже прошло. Пожалуйста, выберите другое.")
    if start > now + timedelta(days=horizon_days):
        raise BookingError("too_far", f"Запись открыта на {horizon_days} дн. вперёд.")
    capacity = sum(1 for w in config.windows if topic in w.topics)
    with _lock:
        try:
            return Bookings(session, config.office_id).book(topic, start, now, name=name, phone=phone,
                                                            capacity=capacity)
        except SlotFull:
            raise BookingError("slot_full", "Это время уже занято. Пожалуйста, выберите другое.", 409) from None


def free_slots(session: Session, config: OfficeConfig, topic_code: str, day: date, now: datetime,
               horizon_days: int = 60) -> list[tuple[datetime, int]]:
    """The slots of ``day`` a visitor may still book for the topic, with how many places each has left."""
    hours = calendar.hours_on(config.calendar, day)
    if hours is None or topic_code not in {t.code for t in config.topics}:
        return []
    tz = ZoneInfo(config.timezone)
    step = timedelta(minutes=config.topic(topic_code).slot_min)
    capacity = sum(1 for w in config.windows if topic_code in w.topics)
    store = Bookings(session, config.office_id)
    out, start, closes = [], datetime.combine(day, hours[0], tz), datetime.combine(day, hours[1], tz)
    while start + step <= closes:
        try:
            ok = _slot(config, topic_code, day, start.time()) == start
        except BookingError:
            ok = False
        if ok and now < start <= now + timedelta(days=horizon_days):
            free = capacity - store.booked(topic_code, start)
            if free > 0:
                out.append((start, free))
        start += step
    return out


def _book(data: dict) -> Booking:
    config = office_config()
    with session_scope(write=True) as db:
        return create_booking(db, config, data, now_utc(), current_app.config["BOOKING_HORIZON_DAYS"])


@bp.route("/api/bookings", methods=("POST",))
def api_create():
    if not request.is_json:
        return jsonify(error={"code": "bad_json", "message": "Ожидался JSON (Content-Type: application/json)."}), 415
    data = request.get_json(silent=True)
    try:
        row = _book(data)
    except BookingError as exc:
        return jsonify(error={"code": exc.code, "message": exc.message}), exc.status
    tz = ZoneInfo(office_config().timezone)
    return jsonify(code=row.code, topic=row.topic, slot_start=row.slot_start.astimezone(tz).isoformat()), 201


@bp.route("/book", methods=("GET", "POST"))
def page():
    """Pick a topic and a day, see the free times, book one. A refused booking keeps what
    the visitor typed; a made one clears the name, phone and time (the next visitor's form)."""
    config = office_config()
    tz = ZoneInfo(config.timezone)
    now = now_utc()
    horizon = current_app.config["BOOKING_HORIZON_DAYS"]
    result, error, status = None, None, 200
    fields = ("topic", "date", "time", "name", "phone")
    if request.method == "POST":
        form = {k: request.form.get(k, "").strip() for k in fields}
        try:
            row = _book(form)
            slot = row.slot_start.astimezone(tz)
            result = _("Вы записаны. Ваш код: {code}. Время: {slot}. Пожалуйста, введите код на терминале при входе."
                       ).format(code=row.code, slot=f"{slot:%d.%m.%Y %H:%M}")
            form = {"topic": form["topic"], "date": form["date"]}
        except BookingError as exc:
            error, status = exc.message, exc.status
    else:
        form = {k: request.args.get(k, "").strip() for k in ("topic", "date")}
    codes = [t.code for t in config.topics]
    if form.get("topic") not in codes:
        form["topic"] = codes[0]
    today = now.astimezone(tz).date()
    try:
        day = date.fromisoformat(form.get("date") or "")
    except ValueError:
        day = None
    with session_scope() as db:
        if day is None:               # the first day from today that has a free time
            day = next((today + timedelta(days=n) for n in range(min(horizon, 31) + 1)
                        if free_slots(db, config, form["topic"], today + timedelta(days=n), now, horizon)), today)
        slots = free_slots(db, config, form["topic"], day, now, horizon)
    form["date"] = day.isoformat()
    topics = [(t.code, name_of(t), t.slot_min) for t in config.topics]
    return render_template("book.html", topics=topics, result=result, error=error, form=form, day=day,
                           slots=[(f"{s.astimezone(tz):%H:%M}", free) for s, free in slots], today=today,
                           last_day=today + timedelta(days=horizon),
                           retention=current_app.config["BOOKING_RETENTION_DAYS"]), status
