"""Login, logout, role checks and a per IP+username login rate limit."""
from __future__ import annotations

import functools
import threading
from urllib.parse import urlparse

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for

from server.db import session_scope
from server.i18n import _
from server.users import ROLES, authenticate

bp = Blueprint("auth", __name__, url_prefix="/auth")
RANK = {role: i for i, role in enumerate(ROLES)}     # operator < head < admin
# operator: the live dashboard; head (руководитель): + reports; admin: + office settings, which
# change how the hub runs the office, so they stay with the admin alone.
ROLE_TITLES = {"operator": "оператор", "head": "руководитель", "admin": "администратор"}


class LoginLimiter:
    """``max_failures`` wrong passwords for one (ip, username) lock it for ``lockout_s`` seconds."""

    def __init__(self, max_failures: int, lockout_s: float):
        self.max_failures, self.lockout_s = max_failures, lockout_s
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def locked_for(self, key: tuple[str, str], now: float) -> int:
        """Seconds left on the lockout, 0 when a login may be tried."""
        with self._lock:
            times = [t for t in self._failures.get(key, []) if now - t < self.lockout_s]
            self._failures[key] = times
            if len(times) >= self.max_failures:
                return max(1, int(self.lockout_s - (now - times[-1]) + 0.999))
            return 0

    def failed(self, key: tuple[str, str], now: float) -> None:
        with self._lock:
            self._failures.setdefault(key, []).append(now)
            if len(self._failures) > 10000:       # bound memory under a spray of names
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


def init_app(app: Flask) -> None:
    app.extensions["talon_login_limiter"] = LoginLimiter(app.config["LOGIN_MAX_FAILURES"],
                                                         app.config["LOGIN_LOCKOUT_S"])

    @app.before_request
    def _load_user():
        g.user = session.get("user")
        g.role = session.get("role")
        g.scope = session.get("office")      # head office: the one office this user sees (None: all)

    app.jinja_env.globals["has_role"] = has_role
    app.jinja_env.globals["role_titles"] = ROLE_TITLES


def has_role(role: str) -> bool:
    return g.get("role") in RANK and RANK[g.role] >= RANK[role]


def role_required(role: str):
    """The view needs a logged-in user with ``role`` or a higher one (operator < head < admin)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("user") is None:
                flash(_("Пожалуйста, войдите в систему."), "info")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not has_role(role):
                abort(403, _("Недостаточно прав для этой страницы."))
            return view(*args, **kwargs)
        return wrapped
    return decorator


login_required = role_required("operator")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return url_for("hq.index" if current_app.config.get("HQ_MODE") else "dashboard.index")


@bp.route("/login", methods=("GET", "POST"))
def login():
    error, status = None, 200
    if request.method == "POST":
        from server import now_utc
        username = (request.form.get("username") or "").strip()[:64]
        password = request.form.get("password") or ""
        limiter: LoginLimiter = current_app.extensions["talon_login_limiter"]
        key = (request.remote_addr or "?", username.lower())
        now = now_utc().timestamp()
        wait = limiter.locked_for(key, now)
        if wait:
            error, status = _("Слишком много неудачных попыток входа. Пожалуйста, повторите через {s} с.").format(s=wait), 429
        else:
            with session_scope() as db:
                user = authenticate(db, username, password)
                role, scope = (user.role, user.office) if user else (None, None)
            if user is None:
                limiter.failed(key, now)
                error, status = _("Неверное имя пользователя или пароль."), 401
            else:
                limiter.succeeded(key)
                lang = session.get("lang")
                session.clear()                    # a fresh session: no fixation
                session.update(user=username, role=role, office=scope, lang=lang or "ru")
                current_app.logger.info("user %s logged in from %s", username, request.remote_addr)
                return redirect(_safe_next(request.args.get("next")))
        current_app.logger.warning("failed login for %r from %s", username, request.remote_addr)
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=("POST",))
def logout():
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))
