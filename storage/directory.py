"""Who may talk to the hub: provisioned devices (broker users) and counter operators.

Devices and operators are provisioned with ``talon devices`` / ``talon operators``;
secrets are kept only as hashes (``storage.credentials``). ``check_pin`` is the
counter sign-in check the hub runs inside the command's transaction.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.credentials import hash_secret, new_password, verify_secret
from storage.engine import init_db, make_engine, make_sessionmaker
from storage.models import DeviceRow, OperatorRow

# The bus's rules for a device (``broker.roles``: ``DEVICE_ROLES``, ``RESERVED_DEVICE_IDS``,
# ``check_device_id``), restated here because storage does not import the bus;
# tests/storage/test_repositories.py keeps the two equal.
DEVICE_ROLES = ("kiosk", "counter", "board", "rating", "admin")
WINDOW_ROLES = ("counter", "rating")
HUB_USER = "hub"
RESERVED_DEVICE_IDS = frozenset({HUB_USER, "anonymous"})
_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")   # no MQTT wildcard, '/' or ACL syntax in a topic


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    device: str
    role: str
    window: int | None
    password_hash: str


@dataclass(frozen=True, slots=True)
class OperatorEntry:
    code: str
    name: str
    active: bool


def check_id(value: object, what: str = "id") -> str:
    if not (isinstance(value, str) and _ID.fullmatch(value)):
        raise ValueError(f"bad {what} {value!r}: use 1..32 ASCII letters, digits, '-' or '_'")
    return value


def check_device_id(device: object) -> str:
    """A device id fit to be a broker user, or ValueError with the reason."""
    check_id(device, "device id")
    if device.lower() in RESERVED_DEVICE_IDS:
        raise ValueError(f"device id {device!r} is reserved (the hub's own broker user is {HUB_USER!r}; "
                         f"reserved: {', '.join(sorted(RESERVED_DEVICE_IDS))}); choose another, e.g. "
                         f"kiosk-1")
    return device


# ---------------------------------------------------------------------- devices
def add_device(session: Session, office: str, device: str, role: str, window: int | None = None,
               password: str | None = None) -> str:
    """Provision a device; returns its password (shown once, stored only as a hash)."""
    check_device_id(device)   # also refuses reserved ids such as the hub's own user
    if role not in DEVICE_ROLES:
        raise ValueError(f"role must be one of {', '.join(DEVICE_ROLES)}")
    if role in WINDOW_ROLES and window is None:
        raise ValueError(f"a {role} device needs --window")
    if session.get(DeviceRow, (office, device)) is not None:
        raise ValueError(f"device {device!r} already exists; remove it first to issue a new password")
    password = password or new_password()
    session.add(DeviceRow(office=office, device=device, role=role, window=window,
                          password_hash=hash_secret(password), created_at=datetime.now(timezone.utc)))
    return password


def remove_device(session: Session, office: str, device: str) -> bool:
    return session.execute(delete(DeviceRow).where(DeviceRow.office == office, DeviceRow.device == device)).rowcount > 0


def list_devices(session: Session, office: str) -> list[DeviceEntry]:
    return [DeviceEntry(d.device, d.role, d.window, d.password_hash) for d in session.execute(
        select(DeviceRow).where(DeviceRow.office == office).order_by(DeviceRow.device)).scalars()]


def provision(url: str, office: str, devices: Iterable[tuple[str, str, int | None]],
              replace: bool = False) -> dict[str, str]:
    """Add ``(device, role, window)`` to the database at ``url`` (brought to the newest
    schema first), in one transaction; returns each device's new password. With
    ``replace`` a device that exists already is removed first (a fresh password)."""
    engine = make_engine(url)
    try:
        init_db(engine)
        with make_sessionmaker(engine).begin() as s:
            return add_devices(s, office, devices, replace)
    finally:
        engine.dispose()


def add_devices(session: Session, office: str, devices: Iterable[tuple[str, str, int | None]],
                replace: bool = False) -> dict[str, str]:
    """``add_device`` for each ``(device, role, window)``; returns their passwords."""
    passwords = {}
    for device, role, window in devices:
        if replace:
            remove_device(session, office, device)
        passwords[device] = add_device(session, office, device, role, window)
    return passwords


# ---------------------------------------------------------------------- operators
def add_operator(session: Session, office: str, code: str, name: str, pin: str) -> None:
    check_id(code, "operator code")
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise ValueError("the PIN must be 4-12 digits")
    if session.get(OperatorRow, (office, code)) is not None:
        raise ValueError(f"operator {code!r} already exists")
    session.add(OperatorRow(office=office, code=code, name=name, pin_hash=hash_secret(pin)))


def list_operators(session: Session, office: str) -> list[OperatorEntry]:
    return [OperatorEntry(o.code, o.name, o.active) for o in session.execute(
        select(OperatorRow).where(OperatorRow.office == office).order_by(OperatorRow.code)).scalars()]


def remove_operator(session: Session, office: str, code: str) -> bool:
    return session.execute(delete(OperatorRow).where(OperatorRow.office == office,
                                                     OperatorRow.code == code)).rowcount > 0


def check_pin(session: Session, office: str, code: str, pin: str) -> str | None:
    """The operator's name when ``code`` is an active operator and ``pin`` is theirs, else None."""
    row = session.get(OperatorRow, (office, code))
    if row is None or not row.active or not verify_secret(pin, row.pin_hash):
        return None
    return row.name


def snapshot(session: Session, office: str) -> tuple[dict[str, DeviceEntry], dict[str, str]]:
    """Every device by id and every operator's name by code (the hub's start-up view)."""
    devices = {d.device: d for d in list_devices(session, office)}
    operators = {o.code: o.name for o in session.execute(
        select(OperatorRow).where(OperatorRow.office == office)).scalars()}
    return devices, operators


class Operators:
    """The operators of one office, in the caller's session (the hub's sign-in)."""

    def __init__(self, session: Session, office: str):
        self.session, self.office = session, office

    def active(self) -> list[tuple[str, str]]:
        """``(code, name)`` of every active operator (no PINs): the counter's sign-in list."""
        return [(o.code, o.name) for o in list_operators(self.session, self.office) if o.active]

    def check_pin(self, code: str, pin: str) -> str | None:
        """The operator's name when the code and PIN are right, else None."""
        return check_pin(self.session, self.office, code, pin)
