"""Every report as plain tables, built from ``storage.stats``; pages, CSV and XLSX all use them.

A report is a list of ``Table``s (columns with a kind: int, min, share, verdict,
text) plus optional inline SVG charts. Nothing here computes a figure itself except
relabelling: the figures are ``storage.stats``'s.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from server.charts import bar_chart
from server.i18n import _, name_of, number
from server.periods import PeriodError, parse_month, parse_period, parse_year
from storage import csat, directory, disclosure, downtime, stats
from storage import tickets as stored_tickets

SEGMENTS = {"b2c": "Частные клиенты", "b2b": "Корпоративные клиенты", "group": "Группы потребителей"}
GROUP_LABELS = {"topic": "по теме обращения", "window": "по окну", "operator": "по сотруднику",
                "segment": "по группе потребителей", "day": "по дням", "hour": "по часам", "total": "итого"}


@dataclass
class Table:
    title: str
    columns: list[tuple[str, str, str]]          # key, label, kind
    rows: list[dict]


@dataclass
class Report:
    name: str
    title: str
    subtitle: str
    tables: list[Table]
    charts: list[Markup] = field(default_factory=list)
    form: str = "period"                          # which controls the page shows
    params: dict = field(default_factory=dict)    # the query args that rebuild it (export links)
    inputs: dict = field(default_factory=dict)    # what the page's entry form shows (disclosure, CSAT)


def filters_from(args, config: OfficeConfig) -> dict:
    f = {}
    if args.get("topic") and args["topic"] in {t.code for t in config.topics}:
        f["topic"] = args["topic"]
    if (args.get("window") or "").isdigit() and int(args["window"]) in {w.number for w in config.windows}:
        f["window"] = int(args["window"])
    if args.get("operator"):
        f["operator"] = args["operator"][:32]
    if args.get("segment") in SEGMENTS:
        f["segment"] = args["segment"]
    return f


def operator_names(session: Session, office: str) -> dict[str, str]:
    """Operator code -> the name a person reads (the directory's), for pages and files."""
    return {o.code: o.name for o in directory.list_operators(session, office) if o.name}


def operators(session: Session, config: OfficeConfig) -> list[tuple[str, str]]:
    """(code, name) of everyone who served in this office, for the report filter."""
    names = operator_names(session, config.office_id)
    return [(code, names.get(code, code)) for code in stored_tickets.operators(session, config.office_id)]


def key_label(key, group: str, config: OfficeConfig, names: dict[str, str] | None = None) -> str:
    if key is None:
        return "—"
    if group == "operator":
        return (names or {}).get(key, str(key))
    if group == "topic":
        try:
            t = config.topic(key)
            return f"{t.prefix} — {name_of(t)}"
        except KeyError:
            return str(key)
    if group == "window":
        return f"{_('Окно')} {key}"
    if group == "hour":
        return f"{int(key):02d}:00"
    if group == "segment":
        return _(SEGMENTS.get(key, str(key)))
    if group == "total":
        return _("итого")
    return str(key)


FIGURE_COLUMNS = [
    ("tickets", "Талонов", "int"), ("served", "Обслужено", "int"), ("no_shows", "Не явились", "int"),
    ("transfers", "Переведены", "int"),
    ("mean_wait_min", "Среднее время ожидания в очереди", "min"), ("p90_wait_min", "Ожидание, p90", "min"),
    ("wait_norm_min", "Норматив ожидания", "min"), ("within_wait_norm_share", "Доля в нормативе (ожидание)", "share"),
    ("wait_compliant", "Ожидание", "verdict"),
    ("mean_service_min", "Среднее время приёма", "min"), ("p90_service_min", "Приём, p90", "min"),
    ("service_norm_min", "Норматив приёма", "min"),
    ("within_service_norm_share", "Доля в нормативе (приём)", "share"), ("service_compliant", "Приём", "verdict"),
]


def figures_table(title: str, figures, group: str, config: OfficeConfig, with_norms: bool = True,
                  names: dict[str, str] | None = None) -> Table:
    cols = [c for c in FIGURE_COLUMNS if with_norms or c[2] not in ("verdict", "share") and "norm" not in c[0]]
    columns = [("key", _(GROUP_LABELS[group]).capitalize(), "text")] + [(k, _(label), kind) for k, label, kind in cols]
    rows = []
    for f in figures:
        d = f.as_dict()
        d["key"] = key_label(f.key, group, config, names)
        rows.append(d)
    return Table(title, columns, rows)


# --------------------------------------------------------------------------- reports
def summary(session: Session, config: OfficeConfig, args, today: date) -> Report:
    tz = ZoneInfo(config.timezone)
    period = parse_period(args, tz, today)
    group = args.get("group") if args.get("group") in GROUP_LABELS else "topic"
    f = filters_from(args, config)
    figures = stats.reports(session, config, period.start, period.end, tuple({group: 0, "topic": 0, "hour": 0}), **f)
    by_group, by_topic, by_hour = figures[group], figures["topic"], figures["hour"]
    names = operator_names(session, config.office_id) if group == "operator" else None
    tables = [figures_table(f"{_('Сводный отчёт')}: {_(GROUP_LABELS[group])}", by_group, group, config,
                            with_norms=group == "topic", names=names)]
    hour_table = Table(_("Нагрузка по часам"), [("key", _("Час"), "text"), ("tickets", _("Талонов"), "int"),
                                               ("served", _("Обслужено"), "int"),
                                               ("mean_wait_min", _("Среднее время ожидания в очереди"), "min"),
                                               ("mean_service_min", _("Среднее время приёма"), "min")],
                       [dict(h.as_dict(), key=key_label(h.key, "hour", config)) for h in by_hour])
    tables.append(hour_table)
    charts = []
    if by_hour:
        charts.append(bar_chart([f"{h.key:02d}" for h in by_hour], [h.tickets for h in by_hour],
                                title=_("Нагрузка по часам") + f" ({_('Талонов').lower()})"))
    if by_topic:
        charts.append(bar_chart([config.topic(t.key).prefix if t.key in {x.code for x in config.topics} else str(t.key)
                                 for t in by_topic], [t.mean_wait_min for t in by_topic],
                                title=_("Среднее ожидание и норматив") + f", {_('мин')}", unit=_("мин"),
                                norms=[t.wait_norm_min for t in by_topic]))
    params = dict(period.args(), group=group, **{k: str(v) for k, v in f.items()})
    return Report("summary", _("Сводный отчёт"), period.label, tables, charts, "period", params)


def operators_report(session: Session, config: OfficeConfig, args, today: date) -> Report:
    period = parse_period(args, ZoneInfo(config.timezone), today)
    f = filters_from(args, config)
    rows = stats.fetch_legs(session, config.office_id, period.start, period.end, **f)
    names = operator_names(session, config.office_id)
    table = Table(_("Производительность сотрудников"), [
        ("operator", _("Сотрудник"), "text"), ("served", _("Обслужено"), "int"), ("days", "Дней", "int"),
        ("served_per_day", "В день", "num"), ("service_hours", "Часов приёма", "num"),
        ("mean_service_min", _("Среднее время приёма"), "min"), ("p90_service_min", _("Приём, p90"), "min"),
        ("within_service_norm_share", _("Доля в нормативе (приём)"), "share"),
        ("no_shows", _("Не явились"), "int"), ("transfers", _("Переведены"), "int")],
        [dict(r, operator=names.get(r["operator"], r["operator"]) if r["operator"] else "—")
         for r in stats.productivity(rows, config)])
    charts = [bar_chart([r["operator"] for r in table.rows], [r["served"] for r in table.rows],
                        title=_("Обслужено"))] if table.rows else []
    return Report("operators", _("Производительность сотрудников"), period.label, [table], charts, "period",
                  dict(period.args(), **{k: str(v) for k, v in f.items()}))


def noshows_report(session: Session, config: OfficeConfig, args, today: date) -> Report:
    period = parse_period(args, ZoneInfo(config.timezone), today)
    f = filters_from(args, config)
    by = stats.reports(session, config, period.start, period.end, ("topic", "window"), **f)
    tables = []
    for group in ("topic", "window"):
        figures = by[group]
        tables.append(Table(f"{_('Неявки и переводы')}: {_(GROUP_LABELS[group])}", [
            ("key", _(GROUP_LABELS[group]).capitalize(), "text"), ("tickets", _("Талонов"), "int"),
            ("no_shows", _("Не явились"), "int"), ("no_show_share", "Доля неявок", "share"),
            ("transfers", _("Переведены"), "int"), ("cancelled", _("Отменены"), "int"),
            ("left", _("Ушли до вызова"), "int")],
            [dict(key=key_label(x.key, group, config), tickets=x.tickets, no_shows=x.no_shows,
                  no_show_share=round(x.no_shows / x.tickets, 4) if x.tickets else None,
                  transfers=x.transfers, cancelled=x.cancelled, left=x.left) for x in figures]))
    return Report("noshows", _("Неявки и переводы"), period.label, tables, [], "period",
                  dict(period.args(), **{k: str(v) for k, v in f.items()}))


def _now() -> datetime:
    """The app's clock inside a request (tests set one), the real one elsewhere."""
    from flask import has_app_context

    from server import now_utc
    return now_utc() if has_app_context() else datetime.now(timezone.utc)


def downtime_report(session: Session, config: OfficeConfig, args, today: date) -> Report:
    """REQ-Q-9 (004:2656): working minutes down per device and per device and day (``storage.downtime``)."""
    period = parse_period(args, ZoneInfo(config.timezone), today)
    devices, days = downtime.device_days(session, config, period.start, period.end, _now())
    tables = [
        Table(_("Простои устройств в рабочее время"), [
            ("device", _("Устройство"), "text"), ("down_min", _("Простой в рабочее время, мин"), "num"),
            ("longest_outage_min", _("Самый долгий простой, мин"), "num"),
            ("days_over_60", _("Дней с простоем больше 60 мин"), "int"),
            ("over_60_min", _("Больше 60 мин"), "yesno")], devices),
        Table(_("По дням"), [
            ("device", _("Устройство"), "text"), ("day", _("День"), "text"),
            ("down_min", _("Простой в рабочее время, мин"), "num"), ("over_60_min", _("Больше 60 мин"), "yesno")],
            days),
        Table(_("Как считается"), [("rule", _("Правило"), "text")], [{"rule": _(DOWNTIME_RULE)}])]
    return Report("downtime", _("Простои устройств"), period.label, tables, [], "period", period.args())


DOWNTIME_RULE = ("Простой — устройство не в сети или киоск не выдаёт талоны (нет бумаги, открыта крышка, "
                 "принтер не в сети или неисправен); учитывается только рабочее время офиса по календарю "
                 "(часы работы без перерывов, без выходных и праздников), незакрытый простой — до текущего "
                 "момента; больше 60 минут за день — нарушение (004:2656).")


DISCLOSURE_WAIT = ("Среднее за календарный месяц время ожидания потребителей (покупателей) в очереди "
                   "до начала очного обслуживания, мин")
DISCLOSURE_SERVICE = "Среднее за календарный месяц время обслуживания работниками центра потребителей (покупателей) очно, мин"


DISCLOSURE_ROWS = (
    ("measures", "Перечень мероприятий по повышению качества обслуживания потребителей, выполненных в "
                 "истекшем году", "003:205"),
    ("appeals", "Количество обращений (обслуженных визитов)", "003:206"),
    ("claims", "Количество претензий", "003:206"),
    ("complaints", "Количество жалоб на действия гарантирующего поставщика", "003:206"),
    ("remote_channels", "Режим работы каналов заочного обслуживания в течение года", "003:209"),
)


def disclosure_report(session: Session, config: OfficeConfig, args, today: date) -> Report:
    """003:205-209 for the past year by default («за истекший год»)."""
    year = parse_year(args.get("year") or str(today.year - 1), today)
    y = disclosure.yearly(session, config, year)
    not_entered = _("не внесено")
    values = {"measures": y["measures"] or not_entered, "appeals": str(y["appeals"]),
              "claims": not_entered if y["claims"] is None else str(y["claims"]),
              "complaints": not_entered if y["complaints"] is None else str(y["complaints"]),
              "remote_channels": y["remote_channels"] or not_entered}
    summary_table = Table(f"{_('Сведения за истекший год')} {year} (003:205-209)", [
        ("item", _("Показатель"), "text"), ("value", _("Значение"), "text"), ("ref", _("Пункт"), "text")],
        [{"item": _(label), "value": values[key], "ref": ref} for key, label, ref in DISCLOSURE_ROWS])
    table = Table(f"{_('Раскрытие информации за год')} {year} (003:207-208)", [
        ("month", _("Месяц"), "text"), ("visitors", _("Посетителей"), "int"),
        ("mean_wait_until_service_min", DISCLOSURE_WAIT, "min"), ("mean_service_min", DISCLOSURE_SERVICE, "min")],
        y["months"])
    return Report("disclosure", _("Раскрытие информации за год"), str(year), [summary_table, table], [], "year",
                  {"year": str(year)}, inputs={"year": year, "claims": y["claims"], "complaints": y["complaints"],
                                               "measures": y["measures"], "remote_channels": y["remote_channels"]})


def csat_period(args, today: date) -> tuple[int, str]:
    """The half-year asked for; by default the last completed one (due 05.07 and 15.01, 000:632)."""
    last_year, last_half = csat.last_completed_half(today)
    year = parse_year(args.get("year") or str(last_year), today)
    half = args.get("half") or (str(last_half) if year == last_year else "1" if year == today.year else "2")
    if half not in ("1", "2"):
        raise PeriodError(_("неизвестный период «{value}»").format(value=half[:5]))
    return year, half


CSAT_COLUMNS = [("ratings", "Оценок", "int"), ("positive", "Позитивных (4–5)", "int"),
                ("neutral", "Нейтральных (3)", "int"), ("negative", "Негативных (1–2)", "int"),
                ("mean", "Средняя оценка", "num"), ("csat", "CSAT (доля оценок 4–5)", "share")]


def csat_report(session: Session, config: OfficeConfig, args, today: date) -> Report:
    year, half = csat_period(args, today)
    start, end = csat.half_year(year, int(half), ZoneInfo(config.timezone))
    paper = csat.paper_counts(session, config.office_id, year, int(half))
    c = csat.csat(session, config, start, end, paper)
    queue_only = csat.csat(session, config, start, end)
    paper_only = csat.figures(paper)
    cols = [(k, _(label), kind) for k, label, kind in CSAT_COLUMNS]
    period = f"{year}, {'I' if half == '1' else 'II'} {_('полугодие')}"
    main = Table(f"{_('Рейтинг удовлетворенности клиентов CSAT')} (000:632)",
                 [("period", _("Период"), "text"), ("source", _("Источник"), "text")] + cols,
                 [{"period": period, "source": _("итого"), **c},
                  {"period": period, "source": _("оценки в электронной очереди"), **queue_only},
                  {"period": period, "source": _("бумажные анкеты"), **paper_only}])
    segments = Table(_("По группам потребителей") + " (000:650)", [("key", _("Группа"), "text")] + cols,
                     [dict(r, key=key_label(r["key"], "segment", config))
                      for r in csat.split(session, config, start, end, "segment")])
    topics = Table(_("По темам обращения"), [("key", _("Тема обращения"), "text")] + cols,
                   [dict(r, key=key_label(r["key"], "topic", config))
                    for r in csat.split(session, config, start, end, "topic")])
    dist = Table(_("Распределение оценок"), [("score", _("Оценка"), "int"), ("count", _("Количество"), "int"),
                                             ("electronic", _("В электронной очереди"), "int"),
                                             ("paper", _("Бумажные анкеты"), "int")],
                 [{"score": s, "count": c["distribution"][s], "electronic": queue_only["distribution"][s],
                   "paper": paper[s]} for s in csat.SCORES])
    formula = Table(_("Формула"), [("formula", _("Как считается"), "text")],
                    [{"formula": _(csat.FORMULA)},
                     {"formula": _("Группы и темы — по оценкам в электронной очереди: в бумажной анкете их нет.")}])
    charts = [bar_chart([str(s) for s in csat.SCORES], [c["distribution"][s] for s in csat.SCORES],
                        title=_("Распределение оценок"))]
    return Report("csat", _("Рейтинг удовлетворенности клиентов CSAT"), period,
                  [main, segments, topics, dist, formula], charts, "half", {"year": str(year), "half": half},
                  inputs={"year": year, "half": int(half), "paper": paper})


def monthly_report(session: Session, config: OfficeConfig, args, today: date) -> Report:
    year, month = parse_month(args.get("month"), today)
    tz = ZoneInfo(config.timezone)
    start, end = stats.month_bounds(year, month, tz)
    ytd_start, _end = stats.month_bounds(year, 1, tz)
    month_figures = stats.reports(session, config, start, end, ("topic", "total"))
    this_month, total = month_figures["topic"], month_figures["total"]
    cumulative = stats.report(session, config, ytd_start, end, "topic")
    label = f"{month:02d}.{year}"
    tables = [figures_table(f"{_('Месяц')} {label}", this_month, "topic", config),
              figures_table(f"{_('С начала года')} (01–{month:02d}.{year})", cumulative, "topic", config),
              figures_table(_("итого").capitalize(), total, "total", config, with_norms=False),
              visits_table(config, [(label, stats.visits(session, config, start, end)),
                                    (f"01–{month:02d}.{year}", stats.visits(session, config, ytd_start, end))])]
    disclosed = disclosure.disclosure(session, config, year, months=(month,))[0]
    tables.append(Table(_("Раскрытие информации за год") + " (003:207-208)", [
        ("month", _("Месяц"), "text"), ("visitors", _("Посетителей"), "int"),
        ("mean_wait_until_service_min", DISCLOSURE_WAIT, "min"), ("mean_service_min", DISCLOSURE_SERVICE, "min")],
        [disclosed]))
    return Report("monthly", _("Отчёт за месяц (накопительным итогом)"), label, tables, [], "month",
                  {"month": f"{year}-{month:02d}"})


VISIT_COLUMNS = [
    ("count", "Визитов", "int"), ("mean_total_min", "Среднее общее время", "min"),
    ("max_total_min", "Наибольшее общее время", "min"),
    ("total_norm_max_min", "Предел общего времени", "min"), ("within_total_norm_share", "Доля в пределе", "share"),
    ("over_total_norm", "Сверх предела", "int"), ("total_compliant", "Общее время", "verdict"),
]


def visits_table(config: OfficeConfig, rows: list[tuple[str, stats.VisitFigures]]) -> Table:
    """Visits (first issue → last finish, across transfers) against the profile's ceiling, a maximum."""
    ceiling = config.profile.total_visit_max_min
    note = (_("предел не более {limit} мин на визит").format(limit=number(ceiling)) if ceiling is not None
            else _("предела нет"))
    if ceiling is not None and config.profile.unit == "personal_account":
        note += _(" (на 1 лицевой счёт)")
    return Table(f"{_('Визиты: общее время обслуживания')} ({note})",
                 [("period", _("Период"), "text")] + [(k, _(label), kind) for k, label, kind in VISIT_COLUMNS],
                 [dict(v.as_dict(), period=period) for period, v in rows])


def _verdict(compliant: bool | None) -> str | None:
    return None if compliant is None else "ok" if compliant else "over"


def monthly_data(session: Session, config: OfficeConfig, year: int, month: int) -> dict:
    """The monthly report's figures for scripts (``talon report monthly --json``, docs/reports.md):
    the same ``storage.stats`` calls as the page, minutes as floats, verdicts "ok"/"over"/None."""
    start, end = stats.month_bounds(year, month, ZoneInfo(config.timezone))
    figures = stats.reports(session, config, start, end, ("topic", "total"))
    v = stats.visits(session, config, start, end)
    total = figures["total"][0] if figures["total"] else stats.Figures(key="total")
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "topics": [{"code": f.key, "tickets": f.tickets, "served": f.served, "transferred": f.transfers,
                    "no_show": f.no_shows, "left": f.left, "mean_wait_min": f.mean_wait_min, "p90_wait_min": f.p90_wait_min,
                    "wait_norm_min": _float(f.wait_norm_min), "within_wait_norm_share": f.within_wait_norm_share,
                    "wait_verdict": _verdict(f.wait_compliant), "mean_service_min": f.mean_service_min,
                    "p90_service_min": f.p90_service_min, "service_norm_min": _float(f.service_norm_min),
                    "service_verdict": _verdict(f.service_compliant)} for f in figures["topic"]],
        "visits": {"count": v.count, "mean_total_min": v.mean_total_min, "max_total_min": v.max_total_min,
                   "total_norm_max_min": _float(v.total_norm_max_min), "over_total_norm": v.over_total_norm},
        "total": {"tickets": total.tickets, "served": total.served, "mean_wait_min": total.mean_wait_min,
                  "mean_service_min": total.mean_service_min},
    }


def _float(value) -> float | None:
    return None if value is None else float(value)


REPORTS = {
    "summary": summary, "monthly": monthly_report, "disclosure": disclosure_report, "csat": csat_report,
    "operators": operators_report, "noshows": noshows_report, "downtime": downtime_report,
}
TITLES = {
    "summary": "Сводный отчёт", "monthly": "Отчёт за месяц (накопительным итогом)",
    "disclosure": "Раскрытие информации за год", "csat": "Рейтинг удовлетворенности клиентов CSAT",
    "operators": "Производительность сотрудников", "noshows": "Неявки и переводы", "downtime": "Простои устройств",
}


def previous_month(today: date) -> date:
    return today.replace(day=1) - timedelta(days=1)
