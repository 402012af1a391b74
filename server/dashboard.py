"""The live dashboard ``/`` and its server-sent event stream ``/events/stream``.

The stream polls a cheap version (last event seq, last presence row) every few
hundred milliseconds and sends a full JSON snapshot when it changed, or at least
every ``SSE_INTERVAL_S`` seconds so waiting times keep counting.
"""
from __future__ import annotations

import json
import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from queue_core.errors import QueueError
from server import now_utc
from server.auth import login_required
from server.db import office_config, session_scope
from server.i18n import _
from server.live import snapshot, version
from server.report_data import operator_names
from storage import presence, ticket_links

bp = Blueprint("dashboard", __name__)


def current_snapshot() -> dict:
    config = office_config()
    with session_scope() as db:
        snap = snapshot(db, config, now_utc(), current_app.config["ALERT_QUEUE_THRESHOLD"])
        names = operator_names(db, config.office_id)
    for w in snap["windows"]:                 # people read names, not sign-in codes
        w["operator_name"] = names.get(w["operator"], w["operator"]) if w["operator"] else None
    return snap


@bp.route("/")
@login_required
def index():
    with session_scope() as db:
        notice = ticket_links.notice(db, office_config().office_id)
    return render_template("dashboard.html", snap=current_snapshot(), notice=notice[0] if notice else "",
                           notice_max=ticket_links.NOTICE_MAX, can_announce=current_app.config.get("ANNOUNCE") is not None)


@bp.route("/announcement", methods=["POST"])
@login_required
def announce():
    """«Объявление для всех ожидающих»: the hub stores it and shows it on the board, on every
    open phone page and in Telegram (the ``ANNOUNCE`` hook); empty text (or «Убрать») clears it."""
    hook = current_app.config.get("ANNOUNCE")
    text = "" if request.form.get("clear") else " ".join((request.form.get("text") or "").split())
    if hook is None:
        flash(_("Объявления здесь недоступны: веб-сервер запущен без хаба."), "error")
    elif len(text) > ticket_links.NOTICE_MAX:
        flash(_("Объявление не длиннее {limit} символов.").format(limit=ticket_links.NOTICE_MAX), "error")
    else:
        try:
            hook(text)
        except QueueError as exc:               # the hub refused it: say why, in its words
            flash(exc.message_ru, "error")
        else:
            flash(_("Объявление показано на табло и на телефонах ожидающих.") if text else _("Объявление убрано."),
                  "info")
    return redirect(url_for("dashboard.index"))


@bp.route("/snapshot.json")
@login_required
def snapshot_json():
    return jsonify(current_snapshot())


@bp.route("/alerts/ack", methods=["POST"])
@login_required
def acknowledge():
    """Staff saw a visitor's alert (a call for staff, a ticket for assisted service): it
    leaves the dashboard. Form field ``key``: the alert's ``ack``."""
    key = (request.form.get("key") or "").strip()
    if not key or len(key) > 32:
        abort(400)
    with session_scope(write=True) as db:
        presence.acknowledge(db, office_config().office_id, key, now_utc())
    if request.headers.get("X-CSRF-Token"):          # from the page's script
        return ("", 204)
    return redirect(url_for("dashboard.index"))


@bp.route("/events/stream")
@login_required
def stream():
    app = current_app._get_current_object()
    interval = float(app.config["SSE_INTERVAL_S"])
    limit = int(app.config["SSE_MAX_EVENTS"])
    office = office_config().office_id

    def events():
        sent, last_version, last_sent = 0, None, 0.0
        yield "retry: 2000\n\n"
        while not limit or sent < limit:
            with session_scope() as db:
                v = version(db, office)
            if v != last_version or time.monotonic() - last_sent >= interval:
                data = json.dumps(current_snapshot(), ensure_ascii=False)
                yield f"event: snapshot\ndata: {data}\n\n"
                sent, last_version, last_sent = sent + 1, v, time.monotonic()
            else:
                time.sleep(min(0.3, interval))

    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
