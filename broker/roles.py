"""Device roles: the ONE table of what each role may do on the bus.

Both the hub's op check (``broker.messages.authorize``) and the broker's ACL
(``hub.mosquitto_files.acl_text``) are derived from ``ROLES`` below, so the two
can never disagree (docs/contract.md, "Roles").

Every device may write its own ``device/<id>/status`` and read ``state/#``. A role
with ops also writes ``cmd/<id>`` and reads ``reply/<id>``; ``events`` adds
``event/#``. The hub's own broker user (``HUB_USER``) reads and writes the whole
office; no device may take that name (``check_device_id``).
"""
from __future__ import annotations

from dataclasses import dataclass

from broker.topics import Topics, check_id

HUB_USER = "hub"
"""The hub's broker user; its MQTT client id is ``talon-hub-<office>``."""
HUB_ROLE = "hub"

# Ids no device may have: the hub's user (a device called "hub" would replace the
# hub's password in the broker's password file, inherit its ACL block and collide
# with its client id), and "anonymous", the name brokers give clients without a user.
RESERVED_DEVICE_IDS = frozenset({HUB_USER, "anonymous"})


@dataclass(frozen=True)
class Role:
    name: str
    ops: frozenset[str]          # commands it may send; "ping" for every role
    events: bool = False         # reads event/# (the ticket event stream)
    description: str = ""


def _role(name: str, ops: set[str], events: bool = False, description: str = "") -> Role:
    return Role(name, frozenset(ops | {"ping"}), events, description)


_COUNTER_OPS = {"sign_in", "open", "pause", "close", "call_next", "recall", "start",
                "finish", "no_show", "transfer", "rate"}

ROLES: dict[str, Role] = {r.name: r for r in (
    _role("kiosk", {"issue", "checkin"}, description="visitors' touchscreen + ticket printer"),
    _role("counter", _COUNTER_OPS, events=True, description="operator's terminal at one window"),
    _role("board", set(), events=True, description="hall board or window display"),
    _role("rating", {"rate"}, description="visitor's rating panel at one window"),
    _role("admin", {"issue", "checkin", "cancel"}, events=True, description="administrator's console"),
)}
DEVICE_ROLES = tuple(ROLES)
BROKER_ROLES = (HUB_ROLE, *DEVICE_ROLES)


def reserved_device_id(device: object) -> bool:
    """True for an id no device may have (compared case-insensitively: "Hub" is refused too)."""
    return isinstance(device, str) and device.lower() in RESERVED_DEVICE_IDS


def check_device_id(device: object) -> str:
    """A device id fit to be a broker user, or ValueError with the reason."""
    check_id(device, "device id")
    if reserved_device_id(device):
        raise ValueError(f"device id {device!r} is reserved (the hub's own broker user is {HUB_USER!r}; "
                         f"reserved: {', '.join(sorted(RESERVED_DEVICE_IDS))}); choose another, e.g. "
                         f"kiosk-1")
    return device  # type: ignore[return-value]


def may_send(role: str, op: str) -> bool:
    r = ROLES.get(role)
    return r is not None and op in r.ops


def acl_rules(topics: Topics, device: str, role: str) -> list[tuple[str, str]]:
    """(access, topic) pairs of one broker user, derived from its role."""
    if role == HUB_ROLE:
        return [("readwrite", topics.all)]
    r = ROLES.get(role)
    if r is None:
        raise ValueError(f"device {device}: role must be one of {', '.join(BROKER_ROLES)}")
    rules = [("write", topics.cmd(device))] if r.ops else []
    rules.append(("write", topics.status(device)))       # birth message and last will
    if r.ops:
        rules.append(("read", topics.reply(device)))
    rules.append(("read", topics.all_states))
    if r.events:
        rules.append(("read", topics.all_events))
    return rules
