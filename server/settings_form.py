"""The everyday office settings as a form: names, phone, site, the board's notice and each
topic's names, norms and booking slot. Everything else stays in the TOML view.

Field names are the dotted keys ``queue_core.config`` reports problems under
(``topics[0].wait_norm_min``), so a refused value is named and marked on its own field.
A saved form becomes office TOML again (``config_to_toml``) and goes through the same
checks as a hand-edited file.
"""
from __future__ import annotations

import dataclasses

from queue_core.config import OfficeConfig
from queue_core.errors import ConfigError
from server.config_text import LIMITS
from server.toml_out import config_to_toml

OFFICE_FIELDS = [("office.name", "name_ru", "Название"), ("office.name_en", "name_en", "Название по-английски"),
                 ("office.phone", "phone", "Телефон"), ("office.site", "site", "Сайт"),
                 ("board.notice", "notice_ru", "Объявление на табло"),
                 ("board.notice_en", "notice_en", "Объявление на табло по-английски")]
TOPIC_TEXT = [("name", "name_ru", "Название"), ("name_en", "name_en", "Название по-английски")]
TOPIC_NUMBERS = [("wait_norm_min", "Норматив ожидания, мин"), ("service_norm_min", "Норматив приёма, мин"),
                 ("slot_min", "Слот записи, мин")]


def limit(key: str) -> int | None:
    import re
    return LIMITS.get(re.sub(r"\[\d+\]", "[]", key))


def _number_text(value) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def values(config: OfficeConfig) -> dict[str, str]:
    """The form's fields filled from a configuration."""
    out = {key: getattr(config, attr) or "" for key, attr, _label in OFFICE_FIELDS}
    for i, t in enumerate(config.topics):
        for key, attr, _label in TOPIC_TEXT:
            out[f"topics[{i}].{key}"] = getattr(t, attr) or ""
        for key, _label in TOPIC_NUMBERS:
            out[f"topics[{i}].{key}"] = _number_text(getattr(t, key))
    return out


def _number(form, key: str, *, whole: bool = False, optional: bool = True):
    raw = (form.get(key) or "").strip().replace(",", ".").replace("\u00a0", "").replace(" ", "")
    if raw == "" and optional:
        return None
    try:
        value = float(raw)
        if whole:
            if value != int(value):
                raise ValueError
            return int(value)
        return value
    except ValueError:
        if whole:
            raise ConfigError(key, f"must be a whole number of minutes, got {form.get(key)!r}") from None
        raise ConfigError(key, f"must be a positive number of minutes or empty (no norm), got {form.get(key)!r}") \
            from None


def to_toml(config: OfficeConfig, form) -> str:
    """The office TOML with the form's values in place; ``ConfigError`` for a value that is no number."""
    office = {attr: (form.get(key) or "").strip() for key, attr, _label in OFFICE_FIELDS}
    topics = []
    for i, t in enumerate(config.topics):
        changes = {attr: (form.get(f"topics[{i}].{key}") or "").strip() for key, attr, _label in TOPIC_TEXT}
        changes["wait_norm_min"] = _number(form, f"topics[{i}].wait_norm_min")
        changes["service_norm_min"] = _number(form, f"topics[{i}].service_norm_min")
        changes["slot_min"] = _number(form, f"topics[{i}].slot_min", whole=True, optional=False)
        topics.append(dataclasses.replace(t, **changes))
    return config_to_toml(dataclasses.replace(config, topics=tuple(topics), **office))
