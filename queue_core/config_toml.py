"""Write an ``OfficeConfig`` back as office TOML: the settings page edits an office that was
handed over as an object (the hub, the demo), and the hub sends head office its settings
as text (``hub.hq_link``). ``parse_office_toml`` of the result gives an equal configuration
(tested as a round trip)."""
from __future__ import annotations

import json
from datetime import time

from queue_core.config import WEEKDAYS, OfficeConfig


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)     # JSON string escapes are valid TOML


def _t(value: time) -> str:
    return f"{value:%H:%M}"


def _norm(value: float | None) -> str:
    return '""' if value is None else repr(value)


def config_to_toml(c: OfficeConfig) -> str:
    out = ["[office]", f"id = {_s(c.office_id)}", f"name = {_s(c.name_ru)}", f"name_en = {_s(c.name_en)}",
           f"timezone = {_s(c.timezone)}", f"profile = {_s(c.profile.code)}",
           f"languages = [{', '.join(_s(x) for x in c.languages)}]", f"phone = {_s(c.phone)}", f"site = {_s(c.site)}"]
    out += [f"{key} = {_s(getattr(c, key))}" for key in ("region", "branch") if getattr(c, key)]
    for t in c.topics:
        out += ["", "[[topics]]", f"code = {_s(t.code)}", f"prefix = {_s(t.prefix)}"]
        if t.form:
            out.append(f"form = {_s(t.form)}")
        out += [f"name = {_s(t.name_ru)}", f"name_en = {_s(t.name_en)}", f"segment = {_s(t.segment)}",
                f"wait_norm_min = {_norm(t.wait_norm_min)}", f"service_norm_min = {_norm(t.service_norm_min)}",
                f"aggregation = {_s(t.aggregation)}", f"slot_min = {t.slot_min}"]
        if t.cutoff:
            out.append(f"cutoff = {_s(_t(t.cutoff))}")
    for w in c.windows:
        out += ["", "[[windows]]", f"number = {w.number}", f"topics = [{', '.join(_s(x) for x in w.topics)}]"]
        if w.weights:
            out.append("weights = { " + ", ".join(f"{_s(k)} = {v!r}" for k, v in w.weights.items()) + " }")
        if w.zone:
            out.append(f"zone = {_s(w.zone)}")
    cal = c.calendar
    hours = ", ".join(f"{WEEKDAYS[d]} = {_s(_t(a) + '-' + _t(b))}" for d, (a, b) in sorted(cal.hours.items()))
    out += ["", "[calendar]", f"hours = {{ {hours} }}",
            f"breaks = [{', '.join(_s(_t(a) + '-' + _t(b)) for a, b in cal.breaks)}]",
            f"holidays = [{', '.join(_s(d.isoformat()) for d in sorted(cal.holidays))}]",
            f"workdays = [{', '.join(_s(d.isoformat()) for d in sorted(cal.workdays))}]"]
    if cal.workday_hours:
        out.append(f"workday_hours = {_s(_t(cal.workday_hours[0]) + '-' + _t(cal.workday_hours[1]))}")
    out += ["", "[queue]", f"policy = {_s(c.policy)}", f"priority_max_in_row = {c.priority_max_in_row}",
            f"number_width = {c.number_width}", f"number_start = {c.number_start}",
            f"start_step = {'true' if c.start_step else 'false'}", f"aging_factor = {c.aging_factor!r}",
            f"default_wait_norm_min = {c.default_wait_norm_min!r}", f"booking_early_min = {c.booking_early_min}",
            f"booking_late_min = {c.booking_late_min}", "", "[priority]", f"mode = {_s(c.priority_mode)}"]
    for p in c.priority_categories:
        out += ["", "[[priority.categories]]", f"code = {_s(p.code)}", f"name = {_s(p.name_ru)}",
                f"name_en = {_s(p.name_en)}"]
    out += ["", "[board]", f"history = {c.board_history}", f"min_display_s = {c.board_min_display_s}",
            f"notice = {_s(c.notice_ru)}", f"notice_en = {_s(c.notice_en)}"]
    if c.public_url:
        out += ["", "[web]", f"public_url = {_s(c.public_url)}"]
    if c.hq is not None:
        out += ["", "[hq]", f"url = {_s(c.hq.url)}", f"user = {_s(c.hq.user)}"]
        if c.hq.cafile:
            out.append(f"cafile = {_s(c.hq.cafile)}")
    return "\n".join(out) + "\n"
