"""Errors a device sees when it talks to the hub."""
from __future__ import annotations


class CommandError(Exception):
    """The hub answered ``ok: false``: the command was refused and changed nothing."""

    def __init__(self, code: str, message: str, message_en: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.message_en = message_en or message


class HubUnreachable(CommandError):
    """No reply from the hub after every retry (broker down, hub down, no network)."""

    def __init__(self, message_en: str = "the hub did not answer"):
        super().__init__("hub_unreachable", "Нет связи с сервером очереди", message_en)
