"""Talon's web side: dashboard, reports, settings, bookings and a read-only REST API.

``create_app(config_mapping)`` builds a Flask app bound to one office database.
Configuration is layered as in flaskr: defaults, then ``TALON_*`` environment
variables, then the mapping passed in (tests and ``talon web`` use it).

Keys that matter:

* ``DATABASE_URL`` — SQLAlchemy URL of the hub's database (default: ``storage.engine.default_url()``);
* ``OFFICE_TOML`` (text) or ``OFFICE_CONFIG_FILE`` (path) or ``OFFICE_CONFIG`` (an ``OfficeConfig``);
  a version saved from the settings page for the same office wins over the file;
* ``SECRET_KEY``; ``SESSION_COOKIE_SECURE`` (true behind HTTPS);
* ``API_TOKENS`` — bearer tokens for ``/api/v1`` (env ``TALON_API_TOKENS``, comma-separated);
* ``ALERT_QUEUE_THRESHOLD`` — waiting visitors per topic that raise an alert;
* ``BOOKING_RETENTION_DAYS`` — personal data of bookings is purged after this;
* ``ON_SETTINGS_SAVED`` — callable(OfficeConfig) run after settings are saved (the hub's hook);
* ``CLOCK`` — callable returning an aware ``datetime`` (tests pin the time);
* ``HQ_MODE`` — head office: the database holds many offices (filled by ``talon hq``), the
  pages are every office's live state, rankings and the network's reports, and each office's
  own dashboard and reports under ``/offices/<office>/`` (``server/hq_web.py``).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

DEFAULTS = dict(
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
    SESSION_COOKIE_SECURE=False,
    SESSION_COOKIE_NAME="talon_session",
    MAX_CONTENT_LENGTH=256 * 1024,
    MAX_FORM_MEMORY_SIZE=256 * 1024,
    ALERT_QUEUE_THRESHOLD=10,
    BOOKING_RETENTION_DAYS=30,
    BOOKING_HORIZON_DAYS=60,
    LOGIN_MAX_FAILURES=5,
    LOGIN_LOCKOUT_S=60,
    SSE_INTERVAL_S=1.5,
    SSE_MAX_EVENTS=0,            # 0 = stream forever; tests bound the generator
    API_TOKENS=(),
    ON_SETTINGS_SAVED=None,
    CLOCK=None,
    HQ_MODE=False,
)


def create_app(config_mapping: dict | None = None) -> Flask:
    """Create and configure an instance of the Talon web application."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("TALON")
    if isinstance(app.config.get("API_TOKENS"), str):
        app.config["API_TOKENS"] = tuple(t.strip() for t in app.config["API_TOKENS"].split(",") if t.strip())
    if config_mapping:
        app.config.update(config_mapping)
    app.json.ensure_ascii = False         # Russian messages readable in JSON replies
    if not app.config.get("SECRET_KEY"):
        # Sessions then last as long as the process; `talon web` keeps a persistent key.
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    from server import api, auth, bookings, csrf, dashboard, db, i18n, phone, reports, settings
    db.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    auth.init_app(app)
    if app.config["HQ_MODE"]:
        from server import hq_web
        hq_web.init_app(app)
    else:
        for module in (auth, dashboard, reports, settings, bookings, api, phone):
            app.register_blueprint(module.bp)
    _register_errors(app)
    return app


def now_utc(app: Flask | None = None) -> datetime:
    from flask import current_app
    clock = (app or current_app).config.get("CLOCK")
    return clock() if clock else datetime.now(timezone.utc)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json


def _register_errors(app: Flask) -> None:
    from server.i18n import _

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):
        limit = app.config["MAX_CONTENT_LENGTH"] // 1024
        message = _("Запрос слишком большой (не более {limit} КБ). Ничего не сохранено.").format(limit=limit)
        if wants_json():
            return jsonify(error={"code": "too_large", "message": message}), 413
        return render_template("error.html", title=_("Слишком большой запрос"), message=message,
                               status=413), 413

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        title, default = ERROR_TEXTS.get(code, ERROR_TEXTS[500 if code >= 500 else 400])
        # werkzeug's own English description is replaced; a message the app gave (abort(403, ...)) stays
        message = _(default) if exc.description in (None, type(exc).description) else exc.description
        if wants_json():
            return jsonify(error={"code": exc.name.lower().replace(" ", "_"), "message": message}), code
        return render_template("error.html", title=_(title), message=message, status=code), code


ERROR_TEXTS = {
    400: ("Неверный запрос", "Запрос не удалось понять. Пожалуйста, вернитесь назад и повторите."),
    401: ("Нужен вход", "Пожалуйста, войдите в систему."),
    403: ("Нет доступа", "Недостаточно прав для этой страницы."),
    404: ("Страница не найдена", "Такой страницы нет. Проверьте адрес или перейдите на главную."),
    405: ("Недопустимый запрос", "Этот адрес не принимает такой запрос."),
    413: ("Слишком большой запрос", "Запрос слишком большой. Ничего не сохранено."),
    429: ("Слишком много запросов", "Слишком много запросов. Пожалуйста, подождите и повторите."),
    500: ("Ошибка на сервере", "На сервере произошла ошибка. Пожалуйста, повторите позже; "
                               "если ошибка повторяется, сообщите администратору."),
}
