"""Office settings (role: admin): edit the office TOML, validated as a whole before saving.

A change that breaks the office shows the offending key and the problem, and saves
nothing. Saved versions are kept in ``settings`` (``SettingRow``); after a save the
app's office configuration is replaced and ``app.config["ON_SETTINGS_SAVED"]`` (the
hub's hook, to push ``state/config``) is called with the new ``OfficeConfig``.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from queue_core.config import parse_office_toml
from queue_core.errors import ConfigError
from server import now_utc
from server.auth import role_required
from server.db import binding, session_scope
from server.i18n import _
from storage.models import SettingRow

bp = Blueprint("settings", __name__, url_prefix="/settings")
HISTORY = 20


def _history():
    with session_scope() as db:
        return db.execute(select(SettingRow.id, SettingRow.saved_at, SettingRow.saved_by)
                          .where(SettingRow.office == binding().config.office_id)
                          .order_by(SettingRow.id.desc()).limit(HISTORY)).all()


@bp.route("/", methods=("GET", "POST"))
@role_required("admin")
def edit():
    b = binding()
    text, error, status = b.toml or "", None, 200
    if request.method == "POST":
        text = (request.form.get("toml") or "").replace("\r\n", "\n")
        try:
            config = parse_office_toml(text)
            if config.office_id != b.config.office_id:
                raise ConfigError("office.id", _("Нельзя сменить идентификатор офиса через веб-интерфейс"))
        except ConfigError as exc:
            error, status = _("Изменения не сохранены: {key} — {problem}").format(key=exc.key, problem=exc.problem), 400
        else:
            with session_scope(write=True) as db:
                db.add(SettingRow(office=config.office_id, saved_at=now_utc(), saved_by=g.user, toml=text))
            b.config, b.toml = config, text
            current_app.logger.info("office settings saved by %s", g.user)
            hook = current_app.config.get("ON_SETTINGS_SAVED")
            if hook is not None:
                try:
                    hook(config)
                except Exception:
                    current_app.logger.exception("ON_SETTINGS_SAVED hook failed")
            flash(_("Сохранено."), "ok")
            return redirect(url_for("settings.edit"))
    return render_template("settings.html", text=text, error=error, config=b.config, history=_history()), status
