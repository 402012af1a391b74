"""Report pages, their CSV/XLSX exports and the printable monthly report (role: head)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from server import now_utc
from server.auth import role_required
from server.db import office_config, session_scope
from server.exports import cell_text, to_csv, to_xlsx
from server.i18n import _, current_language
from server.periods import KINDS, PeriodError, parse_year
from server.report_data import GROUP_LABELS, REPORTS, SEGMENTS, TITLES, operators, previous_month
from storage import csat, disclosure

bp = Blueprint("reports", __name__, url_prefix="/reports")
FILTERED = ("summary", "operators", "noshows")     # the reports whose form filters by operator
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _today():
    return now_utc().astimezone(ZoneInfo(office_config().timezone)).date()


def _build(name: str):
    if name not in REPORTS:
        abort(404)
    config = office_config()
    with session_scope() as db:
        report = REPORTS[name](db, config, request.args, _today())
        ops = operators(db, config) if name in FILTERED else []
    return report, ops


def _fmt(value, kind):
    return cell_text(value, kind, "," if current_language() == "ru" else ".")


@bp.route("/")
@role_required("head")
def index():
    return redirect(url_for("reports.show", name="summary", **request.args))


@bp.route("/<name>")
@role_required("head")
def show(name: str):
    error, report, ops = None, None, []
    try:
        report, ops = _build(name)
    except (PeriodError, ValueError) as exc:
        error = _("Период задан неверно: {problem}").format(problem=exc)
    today = _today()
    return render_template("reports.html", name=name, report=report, error=error, titles=TITLES, kinds=KINDS,
                           groups=GROUP_LABELS, segments=SEGMENTS, operators=ops, config=office_config(),
                           args=request.args, today=today, last_month=previous_month(today), fmt=_fmt), \
        400 if error else 200


@bp.route("/<name>.<any(csv, xlsx):fmt>")
@role_required("head")
def export(name: str, fmt: str):
    try:
        report, _ops = _build(name)
    except (PeriodError, ValueError) as exc:
        abort(400, _("Период задан неверно: {problem}").format(problem=exc))
    filename = f"talon-{name}-{'-'.join(str(v) for v in report.params.values() if v)}.{fmt}".replace(" ", "")
    body, mimetype = (to_csv(report), "text/csv; charset=utf-8") if fmt == "csv" else (to_xlsx(report), XLSX)
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/monthly/print")
@role_required("head")
def monthly_print():
    try:
        report, _ops = _build("monthly")
    except (PeriodError, ValueError) as exc:
        abort(400, _("Период задан неверно: {problem}").format(problem=exc))
    return render_template("report_print.html", report=report, config=office_config(), fmt=_fmt,
                           printed_at=now_utc().astimezone(ZoneInfo(office_config().timezone)))


def _count(field: str) -> int | None:
    """A non-negative whole number from the form, or None when left empty."""
    value = (request.form.get(field) or "").strip()
    if value == "":
        return None
    if not value.isdigit() or int(value) > csat.MAX_COUNT:
        raise ValueError(_("«{value}» — не целое число от 0 до 1 000 000").format(value=value[:20]))
    return int(value)


@bp.route("/disclosure/inputs", methods=["POST"])
@role_required("head")
def disclosure_inputs():
    """The disclosure's entered rows for a year (003:205-206, 209): claims, complaints, measures, remote channels."""
    try:
        year = parse_year(request.form.get("year"), _today())
        values = disclosure.Inputs(claims=_count("claims"), complaints=_count("complaints"),
                                   measures=request.form.get("measures", ""),
                                   remote_channels=request.form.get("remote_channels", ""))
    except (PeriodError, ValueError) as exc:
        abort(400, str(exc))
    with session_scope(write=True) as db:
        disclosure.save_inputs(db, office_config().office_id, year, values, g.user, now_utc())
    flash(_("Сведения за {year} год сохранены.").format(year=year), "ok")
    return redirect(url_for("reports.show", name="disclosure", year=year))


@bp.route("/csat/paper", methods=["POST"])
@role_required("head")
def csat_paper():
    """Paper questionnaires of a half-year, how many gave each score (000:632)."""
    try:
        year = parse_year(request.form.get("year"), _today())
        half = int(request.form.get("half", "")) if request.form.get("half") in ("1", "2") else None
        if half is None:
            raise ValueError(_("полугодие — 1 или 2"))
        counts = {s: _count(f"score_{s}") or 0 for s in csat.SCORES}
    except (PeriodError, ValueError) as exc:
        abort(400, str(exc))
    with session_scope(write=True) as db:
        csat.save_paper_counts(db, office_config().office_id, year, half, counts)
    flash(_("Бумажные анкеты за {year}, {half} полугодие сохранены.").format(year=year, half="I" if half == 1 else "II"),
          "ok")
    return redirect(url_for("reports.show", name="csat", year=year, half=half))

