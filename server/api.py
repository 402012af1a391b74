"""Read-only REST API ``/api/v1`` for other systems, with ``Authorization: Bearer <token>``.

Tokens come from ``API_TOKENS`` (env ``TALON_API_TOKENS``, comma-separated). No
token configured means the API answers 401 to everyone. No personal data is served.
"""
from __future__ import annotations

import hmac
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, request

from server import now_utc
from server.db import office_config, session_scope
from server.live import snapshot
from server.periods import MAX_DAYS
from storage import stats
from storage import tickets as stored_tickets

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(code: str, message: str, status: int):
    return jsonify(error={"code": code, "message": message}), status


@bp.before_request
def _require_token():
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    tokens = current_app.config.get("API_TOKENS") or ()
    if not token or not any(hmac.compare_digest(token, t) for t in tokens):
        return _error("unauthorized", "A valid 'Authorization: Bearer <token>' header is required.", 401)
    return None


@bp.route("/queue")
def queue():
    with session_scope() as db:
        return jsonify(snapshot(db, office_config(), now_utc(), current_app.config["ALERT_QUEUE_THRESHOLD"]))


def _iso(value: datetime | None, tz) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat(timespec="seconds")


@bp.route("/tickets")
def tickets():
    config = office_config()
    tz = ZoneInfo(config.timezone)
    try:
        day = date.fromisoformat(request.args.get("day") or now_utc().astimezone(tz).date().isoformat())
    except ValueError:
        return _error("bad_request", "day must be YYYY-MM-DD", 400)
    with session_scope() as db:
        rows = stored_tickets.on_day(db, config.office_id, day.isoformat())
        out = [{"number": t.number, "kind": t.kind, "state": t.state, "issued_at": _iso(t.issued_at, tz),
                "slot_start": _iso(t.slot_start, tz), "segment": t.segment, "rating": t.rating,
                "legs": [{"topic": g.topic, "window": g.window, "operator": g.operator,
                          "queued_at": _iso(g.queued_at, tz), "called_at": _iso(g.called_at, tz),
                          "started_at": _iso(g.started_at, tz), "finished_at": _iso(g.finished_at, tz),
                          "outcome": g.outcome, "recalls": g.recalls,
                          "wait_min": None if g.wait_s is None else round(g.wait_s / 60, 2),
                          "service_min": None if g.service_s is None else round(g.service_s / 60, 2)}
                         for g in t.legs]} for t in rows]
    return jsonify(day=day.isoformat(), office=config.office_id, tickets=out)


@bp.route("/reports/topics")
def report_topics():
    config = office_config()
    tz = ZoneInfo(config.timezone)
    try:
        first = date.fromisoformat(request.args["from"])
        last = date.fromisoformat(request.args["to"])
    except (KeyError, ValueError):
        return _error("bad_request", "from and to must be dates YYYY-MM-DD (inclusive)", 400)
    if last < first or (last - first).days > MAX_DAYS:
        return _error("bad_period", "the period must have from <= to and be at most three years long", 400)
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    end = datetime(last.year, last.month, last.day, tzinfo=tz) + timedelta(days=1)
    with session_scope() as db:
        figures = stats.report(db, config, start, end, "topic")
    return jsonify({"from": first.isoformat(), "to": last.isoformat(), "office": config.office_id,
                    "topics": [f.as_dict() for f in figures]})
