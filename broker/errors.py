"""Errors a device sees when it talks to the hub.

``BusError`` is the common base; its two kinds mean different things:

* ``CommandError``: the hub answered ``ok: false``; the command was refused and
  changed nothing.
* ``HubUnreachable``: no answer after every retry. The command may or may not have
  been applied (the reply may be what got lost), so it is *not* a refusal: retry it
  with the same command id, and the hub answers with what it did the first time.

Catch ``BusError`` for "the command did not go through, for whatever reason".
"""
from __future__ import annotations


class BusError(Exception):
    """A command that did not end in an ``ok: true`` reply."""

    def __init__(self, code: str, message: str, message_en: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.message_en = message_en or message


class CommandError(BusError):
    """The hub answered ``ok: false``: the command was refused and changed nothing."""


class HubUnreachable(BusError):
    """No reply from the hub after every retry (broker down, hub down, no network).

    The command may have been applied; a retry with the same id is safe."""

    def __init__(self, message_en: str = "the hub did not answer"):
        super().__init__("hub_unreachable", "Нет связи с сервером очереди", message_en)
