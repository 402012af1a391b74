"""Head office (``HQ_MODE``): every office on one page, ranked, added up, and each office's own
pages under ``/offices/<office>/``.

The HQ database holds many offices in the offices' very tables (``talon hq`` writes them with
the office's own projection), so an office's live state is ``server.live.snapshot`` and its
reports are ``server.reports`` — run with that office's id and its configuration in force
then (``storage.hq.config_at``). The office's dashboard and report blueprints are mounted
under ``/offices/<office>``: a URL value preprocessor takes the office out of the URL and
``server.db.office_config()`` returns its configuration for the request. Head office only
reads: anything but GET on an office's pages is refused. A user scoped to one office
(``users.office``: an office head) sees that office alone; an unscoped user (a head-office
analyst) sees every office.
"""
from __future__ import annotations

import functools
import threading
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, abort, current_app, g, render_template, request

from queue_core.config import OfficeConfig, parse_office_toml
from server import now_utc
from server.auth import role_required
from server.db import session_scope
from server.exports import cell_text, to_csv, to_xlsx
from server.i18n import EN, _, current_language, name_of
from server.live import hear, picture
from server.live_feed import OfficeFollower
from server.periods import PeriodError, parse_month, parse_period, parse_year
from server.report_data import DISCLOSURE_SERVICE, DISCLOSURE_WAIT, Report, Table
from storage import csat, hq, stats

bp = Blueprint("hq", __name__)
OFFICE_BLUEPRINTS = ("dashboard", "reports")      # an office's own pages, mounted per office
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STALE_MIN = 15          # no event for this long from an office with open windows: worth a look


def init_app(app: Flask) -> None:
    from server import auth, dashboard, reports

    EN.update(HQ_EN)
    app.extensions["hq_live"] = LiveOffices()
    app.jinja_env.globals["hq_mode"] = True
    app.register_blueprint(auth.bp)
    app.register_blueprint(bp)
    app.register_blueprint(dashboard.bp, url_prefix="/offices/<office>")
    app.register_blueprint(reports.bp, url_prefix="/offices/<office>/reports")
    app.url_value_preprocessor(_office_from_url)
    app.url_defaults(_office_into_url)
    app.before_request(_bind_office)


# --------------------------------------------------------------------------- an office's pages
def _office_from_url(endpoint, values) -> None:
    if values and "office" in values and (endpoint or "").split(".")[0] in OFFICE_BLUEPRINTS:
        g.hq_office = values.pop("office")


def _office_into_url(endpoint: str, values: dict) -> None:
    if endpoint.split(".")[0] in OFFICE_BLUEPRINTS and "office" not in values and g.get("hq_office"):
        values["office"] = g.hq_office


def _bind_office():
    """The office a page drills into: in the user's scope, known here, and with its
    configuration in force at the time the page is about."""
    office = g.get("hq_office")
    if office is None or g.get("user") is None:
        return None                     # not an office's page, or the view sends to the login
    if request.method not in ("GET", "HEAD"):
        abort(403, _("Головной офис только читает данные офисов: изменения вносятся в самом офисе."))
    if not visible(office):
        abort(403, _("Этот офис Вам не доступен."))
    with session_scope() as db:
        if hq.office(db, office) is None:
            abort(404)
        config = config_at(db, office, _moment(db, office))
    if config is None:
        abort(404, _("Настройки этого офиса ещё не получены."))
    g.office_config = config
    return None


def _moment(db, office: str) -> datetime:
    """When the page is about: a report's period's last instant (its norms), or now."""
    now = now_utc()
    if request.blueprint != "reports":
        return now
    current = config_at(db, office, now)
    if current is None:
        return now
    tz, today = ZoneInfo(current.timezone), now.astimezone(ZoneInfo(current.timezone)).date()
    try:
        end = _period_end(request.view_args.get("name") if request.view_args else None, request.args, tz, today)
    except (PeriodError, ValueError):
        return now                       # the report itself says what is wrong
    return min(now, end - timedelta(seconds=1))


def _period_end(name: str | None, args, tz: ZoneInfo, today: date) -> datetime:
    if name == "monthly" or request.endpoint == "reports.monthly_print":
        year, month = parse_month(args.get("month"), today)
        return stats.month_bounds(year, month, tz)[1]
    if name == "disclosure":
        return datetime(parse_year(args.get("year"), today) + 1, 1, 1, tzinfo=tz)
    if name == "csat":
        year = parse_year(args.get("year"), today)
        return csat.half_year(year, 2 if args.get("half") == "2" else 1, tz)[1]
    return parse_period(args, tz, today).end


# --------------------------------------------------------------------------- offices and configurations
def visible(office: str) -> bool:
    return g.get("scope") in (None, office)


@functools.lru_cache(maxsize=512)
def _parse(text: str) -> OfficeConfig:
    return parse_office_toml(text)


def config_at(db, office: str, when: datetime) -> OfficeConfig | None:
    text = hq.config_at(db, office, when)
    return None if text is None else _parse(text)


def _offices(db, known: list[hq.HqOffice] | None = None) -> list[hq.HqOffice]:
    """The offices this user sees (of ``known``, else of all), head company → region → branch → office."""
    rows = [o for o in (hq.offices(db) if known is None else known) if visible(o.office)]
    return sorted(rows, key=lambda o: (o.region or "\uffff", o.branch or "\uffff", o.name or o.office, o.office))


def _label(o: hq.HqOffice, config: OfficeConfig | None) -> str:
    return name_of(config) if config is not None else (o.name or o.office)


# --------------------------------------------------------------------------- all offices live
class _Kept:
    """One office as the live page keeps it between renders."""
    __slots__ = ("follower", "office", "config", "seq", "mark", "heard")

    def __init__(self):
        self.follower = OfficeFollower()
        self.office = self.config = self.heard = None
        self.seq = self.mark = None


class LiveOffices:
    """Every office's live state kept between renders of the all-offices page (one per app).

    Rebuilding each office on every refresh costs ~20 ms an office (``server.live.snapshot``:
    a dozen queries and the live tickets). Here an office is read again only when it changed:
    its applied seq (``storage.hq.offices``) moved — then its ``OfficeFollower`` replays the new
    events, as the phone feed does — or its devices said something (``hq.presence_marks``) —
    then ``server.live.hear`` reads them again. What depends on the time (waits, minutes
    offline, alerts) is worked out on every render by ``server.live.picture``, without a query.
    """

    def __init__(self):
        self._lock = threading.Lock()          # followers change their office: one render at a time
        self._kept: dict[str, _Kept] = {}
        self._configs: dict[tuple[str, str], OfficeConfig] = {}

    def pictures(self, db, offices: list[hq.HqOffice], known: set[str], now: datetime,
                 threshold: int) -> dict[str, tuple[OfficeConfig, dict]]:
        """office -> (its configuration in force now, its ``server.live.snapshot`` at ``now``)
        for those of ``offices`` with a configuration; ``known``: every office there is."""
        ids = [o.office for o in offices]
        with self._lock:
            for gone in [o for o in self._kept if o not in known]:
                del self._kept[gone]
            configs = self._configs_at(db, ids, now)
            marks = hq.presence_marks(db, ids)
            out = {}
            for o in offices:
                config = configs.get(o.office)
                if config is not None:
                    out[o.office] = (config, self._picture(db, o, config, marks.get(o.office, 0), now, threshold))
            return out

    def _configs_at(self, db, ids: list[str], now: datetime) -> dict[str, OfficeConfig]:
        versions = hq.configs_in_force(db, ids, now)
        missing = [(o, v) for o, v in versions.items() if (o, v) not in self._configs]
        for key, text in hq.config_texts(db, missing).items():
            self._configs[key] = _parse(text)
        return {o: self._configs[(o, v)] for o, v in versions.items() if (o, v) in self._configs}

    def _picture(self, db, o: hq.HqOffice, config: OfficeConfig, mark: int, now: datetime, threshold: int) -> dict:
        kept = self._kept.setdefault(o.office, _Kept())
        moved = kept.office is None or kept.config is not config or kept.seq != o.last_seq
        if moved:
            kept.office = kept.follower.update(db, config)     # new events replayed, or rebuilt
            kept.config, kept.seq = config, o.last_seq
        if kept.heard is None or kept.mark != mark:
            kept.heard, kept.mark = hear(db, kept.office, now), mark
        elif moved:
            kept.heard = hear(db, kept.office, now, known=kept.heard)   # assisted tickets' acks, if they changed
        return picture(kept.office, config, kept.heard, now, threshold, (kept.office.seq, mark))


def live_rows(db, now: datetime) -> list[dict]:
    threshold = current_app.config["ALERT_QUEUE_THRESHOLD"]
    every = hq.offices(db)
    offices = _offices(db, every)
    pictures = current_app.extensions["hq_live"].pictures(db, offices, {o.office for o in every}, now, threshold)
    stuck = hq.stuck_offices(db)
    rows = []
    for o in offices:
        config, snap = pictures.get(o.office, (None, None))
        row = {"office": o.office, "name": _label(o, config), "region": o.region, "branch": o.branch,
               "last_seen": o.last_seen.isoformat(timespec="seconds") if o.last_seen else None,
               "silent_min": round((now - o.last_seen).total_seconds() / 60) if o.last_seen else None,
               "ready": config is not None}
        if snap is not None:
            row.update(waiting=snap["totals"]["waiting"], windows_open=snap["totals"]["windows_open"],
                       windows=len(snap["windows"]),
                       over_norm=sum(1 for t in snap["topics"] if t["over_norm"]),
                       alerts_crit=sum(1 for a in snap["alerts"] if a["level"] == "crit"),
                       alerts_warn=sum(1 for a in snap["alerts"] if a["level"] != "crit"),
                       first_alert=snap["alerts"][0]["text"] if snap["alerts"] else None,
                       devices=len(snap["devices"]),
                       devices_offline=sum(1 for d in snap["devices"] if d["state"] == "offline"),
                       oldest_wait_min=max((t["oldest_wait_min"] or 0 for t in snap["topics"]), default=0))
            # windows open yet nothing heard for a while: the office's link may be down
            row["stale"] = bool(row["windows_open"]) and (row["silent_min"] or 0) >= STALE_MIN
        if o.office in stuck:
            _stuck_alert(row, stuck[o.office], config)
        rows.append(row)
    return rows


def _stuck_alert(row: dict, stuck: hq.Stuck, config: OfficeConfig | None) -> None:
    """The office's events stopped being applied here (``storage.hq.mark_stuck``): whatever its
    card says is as of then, so it is the office's first, urgent alert."""
    since = stuck.since.astimezone(ZoneInfo(config.timezone) if config is not None else timezone.utc)
    text = _("Данные офиса не применяются с {time}: {reason}").format(
        time=since.strftime("%d.%m.%Y %H:%M"), reason=stuck.reason)
    row.update(stuck={"seq": stuck.seq, "since": stuck.since.isoformat(timespec="seconds"), "reason": stuck.reason},
               alerts_crit=row.get("alerts_crit", 0) + 1, alerts_warn=row.get("alerts_warn", 0),
               first_alert=text)


def _grouped(rows: list[dict]) -> list[tuple[str, str, list[dict]]]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["region"] or _("Без региона"), r["branch"] or _("Без филиала"))].append(r)
    return [(region, branch, items) for (region, branch), items in groups.items()]


def _live_now() -> tuple[datetime, list[dict]]:
    """Every office's live row as of now (the page and its JSON show the same)."""
    now = now_utc()
    with session_scope() as db:
        return now, live_rows(db, now)


@bp.route("/")
@role_required("head")
def index():
    now, rows = _live_now()
    totals = {k: sum(r.get(k) or 0 for r in rows) for k in ("waiting", "windows_open", "alerts_crit",
                                                               "devices_offline")}
    return render_template("hq_offices.html", groups=_grouped(rows), totals=totals, offices=len(rows),
                           at=now.astimezone(timezone.utc))


@bp.route("/live.json")
@role_required("head")
def live_json():
    now, rows = _live_now()
    return {"v": 1, "at": now.isoformat(timespec="seconds"), "offices": rows}


# --------------------------------------------------------------------------- the month: ranking and the network
def _month(now: datetime) -> tuple[int, int]:
    return parse_month(request.args.get("month"), now.date())


def office_months(db, year: int, month: int, now: datetime) -> list[tuple[hq.HqOffice, OfficeConfig, hq.Tally]]:
    """Each visible office's month, judged by its configuration in force that month."""
    out = []
    for o in _offices(db):
        config = _config_of_month(db, o.office, year, month, now)
        if config is None:
            continue
        start, end = stats.month_bounds(year, month, ZoneInfo(config.timezone))
        out.append((o, config, hq.month_tally(db, config, start, end)))
    return out


def _config_of_month(db, office: str, year: int, month: int, now: datetime) -> OfficeConfig | None:
    _start, end = stats.month_bounds(year, month, timezone.utc)
    return config_at(db, office, min(now, end - timedelta(seconds=1)))


OFFICE_COLUMNS = [
    ("tickets", "Талонов", "int"), ("served", "Обслужено", "int"), ("no_shows", "Не явились", "int"),
    ("mean_wait_min", "Среднее время ожидания в очереди", "min"), ("p90_wait_min", "Ожидание, p90", "min"),
    ("within_wait_norm_share", "Доля в нормативе (ожидание)", "share"),
    ("mean_service_min", "Среднее время приёма", "min"),
]


def ranking_report(db, year: int, month: int, now: datetime) -> Report:
    months = office_months(db, year, month, now)
    ranked = sorted(months, key=lambda m: (m[2].judged == 0, -(m[2].within / m[2].judged if m[2].judged else 0),
                                           m[0].office))
    rows = [{"rank": i, "office": _label(o, c), "region": o.region or "—", "branch": o.branch or "—",
             "office_id": o.office, **t.figures()} for i, (o, c, t) in enumerate(ranked, 1)]
    columns = [("rank", _("Место"), "int"), ("office", _("Офис"), "text"), ("region", _("Регион"), "text"),
               ("branch", _("Филиал"), "text")] + [(k, _(label), kind) for k, label, kind in OFFICE_COLUMNS]
    label = f"{month:02d}.{year}"
    return Report("ranking", _("Рейтинг офисов: доля ожидания в нормативе"), label,
                  [Table(f"{_('Офисы по доле ожидания в нормативе')} · {label}", columns, rows)],
                  params={"month": f"{year}-{month:02d}"})


def network_report(db, year: int, month: int, now: datetime) -> Report:
    """The network's month: every office, each region and branch, and the whole network, with
    the disclosure's visitors and the queue's ratings (CSAT) added up."""
    months = office_months(db, year, month, now)
    head = [("region", _("Регион"), "text"), ("branch", _("Филиал"), "text"), ("office", _("Офис"), "text")]
    figure_cols = [(k, _(label), kind) for k, label, kind in OFFICE_COLUMNS]
    network, by_group = hq.Tally(), defaultdict(hq.Tally)
    office_rows, dis_rows, csat_rows = [], [], []
    sums, scored = _disclosure_and_ratings(db, months, year, month)
    totals = [0, 0.0, 0, 0.0, 0]                   # visitors, wait s, waits, service s, services
    scores = dict.fromkeys(csat.SCORES, 0)
    for o, config, t in months:
        where = {"region": o.region or "—", "branch": o.branch or "—", "office": _label(o, config)}
        office_rows.append({**where, **t.figures()})
        network.add(t)
        by_group[(where["region"], where["branch"])].add(t)
        visit = sums.get(o.office, (0, 0.0, 0, 0.0, 0))
        totals = [a + b for a, b in zip(totals, visit)]
        dis_rows.append({**where, **_disclosed(*visit)})
        dist = {s: scored.get(o.office, {}).get(s, 0) for s in csat.SCORES}
        csat_rows.append({**where, **csat.figures(dist)})
        for s in csat.SCORES:
            scores[s] += dist[s]
    label = f"{month:02d}.{year}"
    everyone = {"region": _("Вся сеть"), "branch": "", "office": _("Офисов: {n}").format(n=len(months))}
    groups = [{"region": r, "branch": b, "office": "", **t.figures()} for (r, b), t in by_group.items()]
    dis_cols = [("visitors", _("Посетителей"), "int"), ("mean_wait_until_service_min", _(DISCLOSURE_WAIT), "min"),
                ("mean_service_min", _(DISCLOSURE_SERVICE), "min")]
    csat_cols = [("ratings", _("Оценок"), "int"), ("mean", _("Средняя оценка"), "num"),
                 ("csat", _("CSAT (доля оценок 4–5)"), "share")]
    network_dis = {**everyone, **_disclosed(*totals)}
    tables = [
        Table(f"{_('Итого по сети')} · {label}", head + figure_cols, [{**everyone, **network.figures()}]),
        Table(_("По регионам и филиалам"), head + figure_cols, groups),
        Table(_("По офисам"), head + figure_cols, office_rows),
        Table(_("Раскрытие информации (003:207-208)"), head + dis_cols, dis_rows + [network_dis]),
        Table(_("Оценки посетителей в электронной очереди (CSAT)"), head + csat_cols,
              csat_rows + [{**everyone, **csat.figures(scores)}]),
    ]
    return Report("network", _("Отчёт по сети за месяц"), label, tables, params={"month": f"{year}-{month:02d}"})


def _disclosure_and_ratings(db, months, year: int, month: int) -> tuple[dict, dict]:
    """The disclosure's visits and the queue's ratings of every office, one query each per time
    zone (offices in one zone share the month's bounds)."""
    zones: dict[str, list[str]] = defaultdict(list)
    for o, config, _t in months:
        zones[config.timezone].append(o.office)
    sums: dict = {}
    scored: dict = {}
    for zone, offices in zones.items():
        start, end = stats.month_bounds(year, month, ZoneInfo(zone))
        sums.update(hq.disclosure_sums(db, offices, start, end))
        scored.update(hq.ratings(db, offices, start, end))
    return sums, scored


def _disclosed(visitors: int, wait_s: float, waits: int, service_s: float, services: int) -> dict:
    """A disclosure row (``storage.disclosure``'s figures) from summed visits."""
    return {"visitors": visitors, "mean_wait_until_service_min": round(wait_s / waits / 60, 2) if waits else None,
            "mean_service_min": round(service_s / services / 60, 2) if services else None}


REPORTS = {"ranking": ranking_report, "network": network_report}


def _fmt(value, kind):
    return cell_text(value, kind, "," if current_language() == "ru" else ".")


def _build(name: str) -> Report:
    now = now_utc()
    try:
        year, month = _month(now)
    except PeriodError as exc:
        abort(400, _("Период задан неверно: {problem}").format(problem=exc))
    with session_scope() as db:
        return REPORTS[name](db, year, month, now)


@bp.route("/ranking")
@role_required("head")
def ranking():
    report = _build("ranking")
    return render_template("hq_report.html", report=report, fmt=_fmt, name="ranking")


@bp.route("/network")
@role_required("head")
def network():
    report = _build("network")
    return render_template("hq_report.html", report=report, fmt=_fmt, name="network")


@bp.route("/<any(ranking, network):name>.<any(csv, xlsx):fmt>")
@role_required("head")
def export(name: str, fmt: str):
    report = _build(name)
    filename = f"talon-hq-{name}-{report.params['month']}.{fmt}"
    body, mimetype = (to_csv(report), "text/csv; charset=utf-8") if fmt == "csv" else (to_xlsx(report), XLSX)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


HQ_EN = {
    "Все офисы": "All offices", "Рейтинг офисов": "Office ranking", "Отчёт по сети": "Network report",
    "Головной офис": "Head office", "Очередь офиса": "Office queue",
    "Головной офис только читает данные офисов: изменения вносятся в самом офисе.":
        "Head office only reads the offices' data: changes are made in the office itself.",
    "Этот офис Вам не доступен.": "This office is not available to you.",
    "Настройки этого офиса ещё не получены.": "This office's settings have not arrived yet.",
    "Без региона": "No region", "Без филиала": "No branch", "Место": "Rank", "Регион": "Region",
    "Филиал": "Branch", "Рейтинг офисов: доля ожидания в нормативе": "Office ranking: share within the wait norm",
    "Офисы по доле ожидания в нормативе": "Offices by share within the wait norm",
    "Вся сеть": "Whole network", "Офисов: {n}": "Offices: {n}", "Итого по сети": "Network total",
    "По регионам и филиалам": "By region and branch", "По офисам": "By office",
    "Раскрытие информации (003:207-208)": "Disclosure (003:207-208)",
    "Оценки посетителей в электронной очереди (CSAT)": "Visitors' ratings in the queue (CSAT)",
    "Отчёт по сети за месяц": "Network monthly report",
    "Офисов": "Offices", "Ожидают сейчас": "Waiting now", "Окон открыто": "Windows open",
    "Срочных предупреждений": "Urgent alerts", "Устройств не в сети": "Devices offline",
    "Последнее событие": "Last event", "{m} мин назад": "{m} min ago", "только что": "just now", "Тем выше норматива": "Topics over the norm",
    "Очередь": "Queue", "Офисы ещё не прислали данных.": "No office has sent data yet.",
    "Данные офиса ещё не получены": "The office's data has not arrived yet",
    "Страница обновляется сама каждые 15 с.": "The page refreshes itself every 15 s.",
    "из": "of", "Офис": "Office",
    "Данные офиса не применяются с {time}: {reason}": "The office's data has not been applied since {time}: {reason}",
}
