"""One way for every device app to look up its wording: a ``Texts`` table per app.

    TEXTS = Texts({"ru": {...}, "en": {...}})
    TEXTS.get("call_line", lang="en", ticket="А015", window=3)
    TEXTS.text("en", "call_line", ticket="А015", window=3)      # the same

A key missing in the asked language falls back to Russian (the office's language);
a key missing in Russian is a programming error (KeyError). Placeholders are
``str.format`` fields, filled only when values are given.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_LANG = "ru"


class Texts:
    def __init__(self, tables: Mapping[str, Mapping[str, str]], default: str = DEFAULT_LANG) -> None:
        if default not in tables:
            raise ValueError(f"the {default!r} table is required (it is the fallback)")
        self.tables = tables
        self.default = default

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.tables)

    def get(self, key: str, lang: str | None = None, **fmt: Any) -> str:
        """The text ``key`` in ``lang`` (Russian when missing), formatted with ``fmt``."""
        table = self.tables.get(lang or self.default) or self.tables[self.default]
        template = table.get(key)
        if template is None:
            template = self.tables[self.default][key]
        return template.format(**fmt) if fmt else template

    def text(self, lang: str, key: str, **fmt: Any) -> str:
        """``get`` with the language first (the shape the presenters call)."""
        return self.get(key, lang, **fmt)

    def __contains__(self, key: object) -> bool:
        return key in self.tables[self.default]
