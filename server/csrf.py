"""A per-session CSRF token, checked on every unsafe request.

Forms carry ``<input type=hidden name=csrf_token value="{{ csrf_token() }}">``. The
JSON APIs under ``/api/`` are exempt: the REST API needs a bearer token, and the
booking API accepts only ``application/json`` bodies, which a cross-site form
cannot send without a CORS preflight.
"""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

SAFE = ("GET", "HEAD", "OPTIONS", "TRACE")


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _check_csrf():
        if request.method in SAFE or request.path.startswith("/api/"):
            return None
        from server.i18n import _
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
        expected = session.get("csrf")
        if not expected or not hmac.compare_digest(sent, expected):
            abort(400, _("Форма устарела или отправлена не с этой страницы. "
                         "Пожалуйста, обновите страницу и повторите."))
        return None
