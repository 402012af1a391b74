"""The visitor's live ticket page: ``/t/<token>``, opened from the ticket's QR code.

No login and no personal data: the token (128 random bits, ``storage.ticket_links``) is
the only key, valid for its ticket on its office day. Routes:

* ``GET /t/<token>`` — the page (works without script: it refreshes itself every 30 s);
* ``GET /t/<token>.json`` — the same state as JSON (the script's fallback poll);
* ``GET /t/<token>/events`` — server-sent events: the state on connect and on every
  change, from the one change feed of the app (``server.live_feed``);
* ``POST /t/<token>/leave`` — «Я ухожу», through the hub's ``VISITOR_LEAVE`` hook.

Every request of a client address counts against ``PHONE_RATE_LIMIT`` a minute
(stream connects too); over it the visitor gets a polite 429 page. An unknown,
malformed or another day's token gets a polite 404 page with the office's name.

App config (env ``TALON_<KEY>``): ``PHONE_RATE_LIMIT`` (default 60 requests a minute per
address, 0 = off; behind a reverse proxy every phone has the proxy's address, so raise
it there), ``PHONE_HEARTBEAT_S`` (15: a comment line keeps idle streams open),
``PHONE_FEED_INTERVAL_S`` (0.1: how often the one change feed looks at the database);
hooks from the composition root (``server/serve.py``): ``VISITOR_LEAVE(token)`` and
``ANNOUNCE(text)`` — without them (``talon web`` alone) the page says to tell staff.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from queue_core.errors import QueueError
from server import now_utc
from server.db import office_config, session_scope
from server.i18n import LANGUAGES, _, current_language, name_of
from server.live import version
from server.live_feed import LiveFeed, OfficeFollower, office_view
from server.phone_state import page_state
from storage import ticket_links

bp = Blueprint("phone", __name__)

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")      # token_urlsafe(16) is 22 characters
RATE_WINDOW_S = 60.0


class RateLimit:
    """At most ``limit`` requests per client address in any ``window`` seconds (a sliding window).
    Memory stays bounded: addresses quiet for a whole window are dropped as the table grows."""

    def __init__(self, limit: int, window: float = RATE_WINDOW_S):
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str, now: float) -> bool:
        if self.limit <= 0:
            return True
        with self._lock:
            if len(self._hits) > 10_000:
                self._hits = {a: h for a, h in self._hits.items() if h and now - h[-1] < self.window}
            hits = self._hits.setdefault(address, deque())
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


def _extension(name: str, make):
    ext = current_app.extensions
    if name not in ext:
        with _CREATE_LOCK:
            if name not in ext:
                ext[name] = make(current_app._get_current_object())
    return ext[name]


_CREATE_LOCK = threading.Lock()


def _make_feed(app) -> LiveFeed:
    follower = OfficeFollower()

    def probe() -> tuple:
        b = app.extensions["talon"]
        with b.sessions() as s:
            office = b.config.office_id
            return (*version(s, office), ticket_links.notice(s, office), id(b.config))

    def load():
        b = app.extensions["talon"]
        with b.sessions() as s:
            notice = ticket_links.notice(s, b.config.office_id)
            return office_view(follower.update(s, b.config)), notice[0] if notice else None

    feed = LiveFeed(probe, load, float(app.config.get("PHONE_FEED_INTERVAL_S", 0.1)))
    feed.follower = follower
    return feed


def feed() -> LiveFeed:
    """The app's one change feed (made on first use)."""
    return _extension("talon_phone_feed", _make_feed)


def _limiter() -> RateLimit:
    return _extension("talon_phone_rate", lambda app: RateLimit(int(app.config.get("PHONE_RATE_LIMIT", 60))))


@bp.before_request
def _rate_limit():
    if not _limiter().allow(request.remote_addr or "?", time.monotonic()):
        message = _("Слишком много запросов с Вашего устройства. Пожалуйста, подождите минуту и обновите страницу.")
        if _wants_json():
            return jsonify(error={"code": "too_many_requests", "message": message}), 429
        return _polite(429, _("Слишком много запросов"), message)
    return None


def _wants_json() -> bool:
    return request.path.endswith(".json") or request.accept_mimetypes.best == "application/json"


def _polite(status: int, title: str, message: str):
    """A page for the visitor (not the staff error page: no menu, no login link)."""
    response = render_template("phone_message.html", office=name_of(office_config()), title=title,
                               message=message, status=status)
    headers = {"Retry-After": str(int(RATE_WINDOW_S))} if status == 429 else {}
    return response, status, headers


def _not_found():
    message = _("Этот талон не найден или действовал в другой день. Пожалуйста, проверьте ссылку "
                "или возьмите новый талон в терминале.")
    if _wants_json():
        return jsonify(error={"code": "unknown_ticket", "message": message}), 404
    return _polite(404, _("Талон не найден"), message)


def _today() -> str:
    return now_utc().astimezone(ZoneInfo(office_config().timezone)).date().isoformat()


def _link(token: str):
    """The link of ``token`` if it opens a page today, else None. Sets the page's language
    (the link's own, switched by ``?lang=``)."""
    if not TOKEN.fullmatch(token):
        return None
    lang = request.args.get("lang")
    with session_scope(write=lang in LANGUAGES) as s:
        link = ticket_links.find(s, token)
        if link is None or link.office != office_config().office_id or link.day != _today():
            return None
        if lang in LANGUAGES and lang != link.lang:
            ticket_links.set_lang(s, token, lang)
            link = ticket_links.find(s, token)
    g.lang = link.lang
    return link


def _state(link) -> dict:
    snap = feed().snapshot()
    return page_state(office_config(), snap.view, link, snap.notice)


def _reread(token: str):
    with session_scope() as s:
        return ticket_links.find(s, token)


@bp.route("/t/<token>")
def page(token: str):
    link = _link(token)
    if link is None:
        return _not_found()
    state = _state(link)
    leave_hook = current_app.config.get("VISITOR_LEAVE") is not None
    with session_scope() as s:
        bot = ticket_links.bot(s, link.office)
    telegram = f"https://t.me/{bot}?start={token}" if bot else None
    labels = {"events": url_for("phone.events", token=token), "json": url_for("phone.state_json", token=token),
              "leave": url_for("phone.leave", token=token), "offline": _("Нет связи. Переподключаемся…"),
              "ahead_label": _("Перед Вами"), "eta_label": _("Ожидаемое время"), "ok": _("Хорошо, иду")}
    return render_template("phone.html", state=state, office=state["office"], token=token, telegram=telegram, leave_hook=leave_hook,
                           labels=labels, messages=get_flashed_messages(with_categories=True),
                           other_lang="en" if current_language() == "ru" else "ru")


@bp.route("/t/<token>.json")
def state_json(token: str):
    link = _link(token)
    if link is None:
        return _not_found()
    response = jsonify(_state(link))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/t/<token>/events")
def events(token: str):
    link = _link(token)
    if link is None:
        return _not_found()
    app = current_app._get_current_object()
    heartbeat = float(app.config.get("PHONE_HEARTBEAT_S", 15.0))
    limit = int(app.config.get("SSE_MAX_EVENTS", 0))
    live = feed()

    def stream():
        nonlocal link
        live.subscribe()
        try:
            yield "retry: 3000\n\n"
            sent, generation, last = 0, 0, None
            while not limit or sent < limit:
                snap = live.wait(generation, heartbeat) if last is not None else live.snapshot()
                if snap.generation == generation:
                    yield ": ping\n\n"                     # keeps proxies and the phone's radio honest
                    continue
                generation = snap.generation
                ticket = snap.view.tickets.get(link.number)
                if not link.ended and (ticket is None or ticket.day != link.day):
                    link = _reread(token) or link          # it ended: read how (once per ending)
                if last is not None and last["final"]:
                    continue                               # an ended ticket's page changes no more
                state = page_state(app.extensions["talon"].config, snap.view, link, snap.notice)
                if state != last:
                    yield f"event: state\ndata: {json.dumps(state, ensure_ascii=False)}\n\n"
                    sent, last = sent + 1, state
        finally:
            live.unsubscribe()

    return Response(stream_with_context(stream()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.route("/t/<path:rest>")
def not_a_token(rest: str):
    """Anything else under ``/t/`` (a mangled link, a path with slashes): the same polite page."""
    return _not_found()


# CSRF: the page is anonymous, but Talon's CSRF check (server/csrf.py) already guards
# every POST of the app with a random value kept in the browser's session cookie
# (SameSite=Lax), and the page carries it like every other form. We keep that one
# mechanism rather than a second one: the visitor's session holds only that value and
# the language, nothing personal. On top of it the ticket's token is in the path: a
# forged request from another site would have to know the 128-bit token, which only the
# visitor's paper ticket and phone hold.
@bp.route("/t/<token>/leave", methods=["POST"])
def leave(token: str):
    link = _link(token)
    if link is None:
        return _not_found()
    hook = current_app.config.get("VISITOR_LEAVE")
    ok, message = True, _("Вы вышли из очереди. Спасибо, что предупредили!")
    if link.outcome == "left":
        pass                                   # pressed twice, or a retry after a lost reply: done already
    elif hook is None:
        ok, message = False, _("Выйти из очереди с телефона здесь нельзя. Пожалуйста, скажите об этом сотруднику.")
    else:
        try:
            hook(token)
        except QueueError as exc:
            ok, message = False, _leave_refusal(exc)
    if request.accept_mimetypes.best == "application/json":
        link = _reread(token) or link
        return jsonify(ok=ok, message=message, state=_state(link)), (200 if ok else 409)
    flash(message, "info" if ok else "error")
    return redirect(url_for("phone.page", token=token))


def _leave_refusal(exc: QueueError) -> str:
    """The hub's own Russian reason (e.g. «Талон А015 уже вызван…»); in English, the general one."""
    if current_language() == "ru":
        return exc.message_ru
    return _("Сейчас выйти из очереди с телефона нельзя. Пожалуйста, скажите об этом сотруднику.")
