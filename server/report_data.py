"""Every report as plain tables, built from ``storage.stats``; pages, CSV and XLSX all use them.

A report is a list of ``Table``s (columns with a kind: int, min, share, verdict,
text) plus optional inline SVG charts. Nothing here computes a figure itself except
relabelling: the figures are ``storage.stats``'s.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from server.charts import bar_chart
from server.i18n import _, name_of
from server.periods import PeriodError, parse_month, parse_period, parse_year
from storage import directory, stats
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
            ("transfers", _("Переведены"), "int"), ("cancelled", _("Отменены"), "int")],
            [dict(key=key_label(x.key, group, config), tickets=x.tickets, no_shows=x.no_shows,
                  no_show_share=round(x.no_shows / x.tickets, 4) if x.tickets else None,
                  transfers=x.transfers, cancelled=x.cancelled) for x in figures]))
    return Report("noshows", _("Неявки и переводы"), period.label, tables, [], "period",
                  dict(period.args(), **{k: str(v) for k, v in f.items()}))


def downtime_report(session: Session, config: OfficeConfig, args, today: date) -> Report:
    period = parse_period(args, ZoneInfo(config.timezone), today)
    rows = stats.downtime(session, config, period.start, period.end)
    table = Table(_("Простои устройств"), [
        ("device", _("Устройство"), "text"), ("offline_min", _("Не в сети, мин"), "num"),
        ("longest_outage_min", _("Самый долгий простой, мин"), "num"), ("over_60_min", _("Больше 60 мин"), "yesno")],
        rows)
    return Report("downtime", _("Простои устройств"), period.label, [table], [], "period", period.args())


DISCLOSURE_WAIT = ("Среднее за календарный месяц время ожидания потребителей (покупателей) в очереди "
                   "до начала очного обслуживания, мин")
DISCLOSURE_SERVICE = "Среднее за календарный месяц время обслуживания работниками центра потребителей (покупателей) очно, мин"


def disclosure_report(session: Session, config: OfficeConfig, args, today: date) -> Report:
    year = parse_year(args.get("year"), today)
    rows = stats.disclosure(session, config, year)
    table = Table(f"{_('Раскрытие информации за год')} {year} (003:205-209)", [
        ("month", _("Месяц"), "text"), ("visitors", _("Посетителей"), "int"),
        ("mean_wait_until_service_min", DISCLOSURE_WAIT, "min"), ("mean_service_min", DISCLOSURE_SERVICE, "min")],
        rows)
    return Report("disclosure", _("Раскрытие информации за год"), str(year), [table], [], "year", {"year": str(year)})


def csat_report(session: Session, config: OfficeConfig, args, today: date) -> Report:
    year = parse_year(args.get("year"), today)
    half = args.get("half") or ("1" if today.month <= 6 else "2")
    if half not in ("1", "2"):
        raise PeriodError(_("неизвестный период «{value}»").format(value=half[:5]))
    start, end = stats.half_year(year, int(half), ZoneInfo(config.timezone))
    c = stats.csat(session, config, start, end)
    main = Table(f"{_('Рейтинг удовлетворенности клиентов CSAT')} (000:632)", [
        ("period", _("Период"), "text"), ("ratings", _("Оценок"), "int"), ("mean", _("Средняя оценка"), "num"),
        ("csat", _("Доля оценок 4–5"), "share")],
        [{"period": f"{year}, {'I' if half == '1' else 'II'} {_('полугодие')}", "ratings": c["ratings"],
          "mean": c["mean"], "csat": c["csat"]}])
    dist = Table(_("Распределение оценок"), [("score", _("Оценка"), "int"), ("count", _("Количество"), "int")],
                 [{"score": s, "count": c["distribution"][s]} for s in range(1, 6)])
    charts = [bar_chart([str(s) for s in range(1, 6)], [c["distribution"][s] for s in range(1, 6)],
                        title=_("Распределение оценок"))]
    return Report("csat", _("Рейтинг удовлетворенности клиентов CSAT"), main.rows[0]["period"], [main, dist],
                  charts, "half", {"year": str(year), "half": half})


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
              figures_table(_("итого").capitalize(), total, "total", config, with_norms=False)]
    disclosure = stats.disclosure(session, config, year, months=(month,))[0]
    tables.append(Table(_("Раскрытие информации за год") + " (003:207-208)", [
        ("month", _("Месяц"), "text"), ("visitors", _("Посетителей"), "int"),
        ("mean_wait_until_service_min", DISCLOSURE_WAIT, "min"), ("mean_service_min", DISCLOSURE_SERVICE, "min")],
        [disclosure]))
    return Report("monthly", _("Отчёт за месяц (накопительным итогом)"), label, tables, [], "month",
                  {"month": f"{year}-{month:02d}"})


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
