"""Every MQTT topic name of the contract (docs/contract.md), built and parsed here only.

Base: ``talon/<office>/``. Ids are restricted to ASCII letters, digits, ``-`` and
``_`` so that no id can smuggle MQTT wildcards (``+``, ``#``) or ``/`` into a topic
or into an ACL line.
"""
from __future__ import annotations

import re

ROOT = "talon"
_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
STATE_NAMES = ("config", "queue", "board", "notice")  # plus "window/<n>"
_WINDOW_STATE = re.compile(r"window/([1-9][0-9]{0,3})")


def valid_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_id(value: object, what: str = "id") -> str:
    if not valid_id(value):
        raise ValueError(f"bad {what} {value!r}: use 1..32 ASCII letters, digits, '-' or '_'")
    return value  # type: ignore[return-value]


def valid_state_name(name: object) -> bool:
    return isinstance(name, str) and (name in STATE_NAMES or _WINDOW_STATE.fullmatch(name) is not None)


class Topics:
    """Topic names of one office."""

    def __init__(self, office: str):
        self.office = check_id(office, "office id")
        self.base = f"{ROOT}/{office}/"

    # --- single topics ---------------------------------------------------------
    def cmd(self, device: str) -> str:
        return f"{self.base}cmd/{check_id(device, 'device id')}"

    def reply(self, device: str) -> str:
        return f"{self.base}reply/{check_id(device, 'device id')}"

    @property
    def event(self) -> str:
        return f"{self.base}event/ticket"

    def state(self, name: str) -> str:
        if not valid_state_name(name):
            raise ValueError(f"bad state name {name!r}: config, queue, board, notice or window/<n>")
        return f"{self.base}state/{name}"

    def window_state(self, number: int) -> str:
        return self.state(f"window/{int(number)}")

    def status(self, device: str) -> str:
        return f"{self.base}device/{check_id(device, 'device id')}/status"

    # --- subscriptions (wildcards) -----------------------------------------------
    @property
    def all(self) -> str:
        return f"{self.base}#"

    @property
    def all_cmds(self) -> str:
        return f"{self.base}cmd/+"

    @property
    def all_states(self) -> str:
        return f"{self.base}state/#"

    @property
    def all_events(self) -> str:
        return f"{self.base}event/#"

    @property
    def all_statuses(self) -> str:
        return f"{self.base}device/+/status"

    # --- parsing -------------------------------------------------------------------
    def parse(self, topic: str) -> tuple[str, str]:
        """``topic`` -> ``(kind, arg)``; kind is cmd/reply/event/state/status.

        ``("cmd", device)``, ``("reply", device)``, ``("event", "ticket")``,
        ``("state", "window/3")``, ``("status", device)``. Anything else of this
        office (or of another office) raises ValueError.
        """
        if not isinstance(topic, str) or not topic.startswith(self.base):
            raise ValueError(f"topic {topic!r} is not under {self.base}")
        parts = topic[len(self.base):].split("/")
        kind = parts[0]
        if kind in ("cmd", "reply") and len(parts) == 2 and valid_id(parts[1]):
            return kind, parts[1]
        if kind == "event" and parts[1:] == ["ticket"]:
            return "event", "ticket"
        if kind == "state" and valid_state_name("/".join(parts[1:])):
            return "state", "/".join(parts[1:])
        if kind == "device" and len(parts) == 3 and parts[2] == "status" and valid_id(parts[1]):
            return "status", parts[1]
        raise ValueError(f"topic {topic!r} is not part of the contract")
