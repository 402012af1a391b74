"""Office settings (role: admin): edit the office TOML, validated as a whole before saving.

A change that breaks the office shows the offending key and the problem, and saves
nothing. Saved versions are kept in ``settings`` (``SettingRow``); after a save the
app's office configuration is replaced and ``app.config["ON_SETTINGS_SAVED"]`` (the
hub's hook, to push ``state/config``) is called with the new ``OfficeConfig``.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from queue_core.config import parse_office_toml
from queue_core.errors import ConfigError
from server import config_text, now_utc, settings_form
from server.auth import role_required
from server.config_text import check_lengths
from server.db import binding, session_scope
from server.i18n import _
from storage import settings as saved_settings

bp = Blueprint("settings", __name__, url_prefix="/settings")
HISTORY = 20


def _history():
    with session_scope() as db:
        return saved_settings.history(db, binding().config.office_id, HISTORY)


@bp.route("/", methods=("GET", "POST"))
@role_required("admin")
def edit():
    b = binding()
    text, error, status = b.toml or "", None, 200
    fields, bad_field = settings_form.values(b.config), None
    if request.method == "POST":
        from_form = request.form.get("mode") == "form"        # the form of everyday fields, else the TOML
        if from_form:
            fields = {k: request.form.get(k, "") for k in fields}
        else:
            text = (request.form.get("toml") or "").replace("\r\n", "\n")
        new_text = text
        try:
            if from_form:
                new_text = settings_form.to_toml(b.config, request.form)
            config = parse_office_toml(new_text)
            if config.office_id != b.config.office_id:
                raise ConfigError("office.id", _("Нельзя сменить идентификатор офиса через веб-интерфейс"))
            too_long = check_lengths(config)
            if too_long:
                raise ConfigError(*too_long)
        except ConfigError as exc:
            error, status, bad_field = config_text.message(exc.key, exc.problem, new_text), 400, exc.key
        else:
            text = new_text
            with session_scope(write=True) as db:
                saved_settings.save(db, config.office_id, text, g.user, now_utc())
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
    return render_template("settings.html", text=text, error=error, config=b.config, history=_history(),
                           limits=config_text.LIMITS, fields=fields, bad_field=bad_field, form=settings_form,
                           from_form=request.method == "POST" and request.form.get("mode") == "form"), status
